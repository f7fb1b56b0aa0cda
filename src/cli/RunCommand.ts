import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { ConfigError, Console, Duration, Effect, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { Emulator, defaultEmulatorConfig } from "../emulator/Emulator.js"
import { DEFAULT_POLL, type PollSettings } from "../pipeline/PollSchedule.js"
import { RequestBudget } from "../pipeline/RequestBudget.js"
import { DEFAULT_RETRY, type RetrySettings } from "../pipeline/RetryPolicy.js"
import { parseDurationText } from "./DurationText.js"
import { runFiles, runPipeline } from "../pipeline/RunPipeline.js"
import type { Report } from "../report/Report.js"
import { SegmindClient } from "../segmind/SegmindClient.js"
import { apiKeyConfig, baseUrlConfig, layerSegmindConfig, type SegmindSettings, uploadUrlConfig } from "../segmind/SegmindConfig.js"
import { SEEDANCE_MODEL } from "../segmind/SeedanceParams.js"
import { exitCodeOf, setExitCode } from "./ExitCode.js"
import { reportingUsageProblems, selectJobs, usageError } from "./UsageErrors.js"

export const DEFAULT_CONCURRENCY = 4
export const DEFAULT_RPM = 45
/** The embedded emulator has no plan limit; the budget then only keeps the demo polite. */
export const EMULATOR_RPM = 600
/** The emulator's clips take seconds, not Segmind's ~100 s: poll accordingly. */
export const EMULATOR_POLL: PollSettings = {
  ...DEFAULT_POLL,
  firstPoll: Duration.millis(500),
  base: Duration.millis(500),
  cap: Duration.seconds(2)
}

const manifestArg = Args.text({ name: "MANIFEST" }).pipe(Args.withDescription("the YAML manifest of shots to render"))

const outOption = Options.directory("out").pipe(
  Options.withDescription("the run directory (default: output/<manifest name>/<UTC time stamp>/)"),
  Options.optional
)
const concurrencyOption = Options.integer("concurrency").pipe(
  Options.withDescription(`jobs in flight at once (default: the manifest's, else ${DEFAULT_CONCURRENCY})`),
  Options.optional
)
const rpmOption = Options.integer("rpm").pipe(
  Options.withDescription(
    `API calls per minute for the whole run, polls included (default: the manifest's, else ${DEFAULT_RPM}; Segmind allows 5 on Free, 50 on Pro)`
  ),
  Options.optional
)
const onlyOption = Options.text("only").pipe(
  Options.withDescription("render only jobs whose id matches this glob (* and ?); repeatable"),
  Options.repeated
)
const emulatorOption = Options.boolean("emulator").pipe(
  Options.withDescription("render on the embedded Segmind emulator (no API key, no cost)")
)
const baseUrlOption = Options.text("base-url").pipe(
  Options.withDescription("another server speaking Segmind's v2 API (default: $SEGMIND_BASE_URL, else https://api.segmind.com)"),
  Options.optional
)

const retriesOption = Options.integer("retries").pipe(
  Options.withDescription(`tries of a call that fails transiently, the first included (default: the manifest's retry.tries, else ${DEFAULT_RETRY.tries})`),
  Options.optional
)
const retryBaseOption = Options.float("retry-base").pipe(
  Options.withDescription("seconds of the first backoff, doubling each try, with full jitter (default: retry.base, else 1)"),
  Options.optional
)
const retryCapOption = Options.float("retry-cap").pipe(
  Options.withDescription("longest backoff in seconds (default: retry.cap, else 30)"),
  Options.optional
)
const jobDeadlineOption = Options.text("job-deadline").pipe(
  Options.withDescription("how long one job may take from submission, e.g. 15m (default 15m); past it the job is recorded as timed out with its request id"),
  Options.optional
)
const deadlineOption = Options.text("deadline").pipe(
  Options.withDescription("deadline of the whole run, e.g. 2h: later jobs are not submitted, running ones are recorded as timed out with their request ids"),
  Options.optional
)

const durationFlag = (name: string, text: Option.Option<string>) =>
  Option.match(text, {
    onNone: () => Effect.succeed(Option.none<Duration.Duration>()),
    onSome: (value) =>
      Option.match(parseDurationText(value), {
        onNone: () => usageError(`--${name} takes a duration like 90s, 15m or 2h (got ${JSON.stringify(value)})`),
        onSome: (duration) => Effect.succeed(Option.some(duration))
      })
  })

const timeStamp = (date: Date) => date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")

const positive = (name: string, value: Option.Option<number>) =>
  Option.isSome(value) && value.value < 1 ? usageError(`--${name} must be at least 1 (got ${value.value})`) : Effect.void

const printSummary = (report: Report, files: ReturnType<typeof runFiles>) =>
  Effect.gen(function* () {
    const { summary } = report
    yield* Console.log(
      `${summary.total} jobs: ${summary.completed} completed, ${summary.failed} failed, ${summary.skipped} skipped in ${(summary.wallMs / 1000).toFixed(1)} s`
    )
    for (const job of report.jobs) {
      if (job.status === "completed" && job.output !== undefined) continue
      yield* Console.log(`  ${job.status} ${job.id}: ${job.error?.tag ?? ""} ${job.error?.message ?? ""}`.trimEnd())
    }
    if (report.run.aborted !== undefined) {
      yield* Console.log(`run stopped: ${report.run.aborted.tag}: ${report.run.aborted.message}`)
      yield* Console.log(abortAdvice(report.run.aborted.tag))
    }
    yield* Console.log(`videos: ${files.videos}`)
    yield* Console.log(`report: ${files.report}`)
  })

const abortAdvice = (tag: string): string => {
  switch (tag) {
    case "Unauthorized":
    case "Forbidden":
      return "check SEGMIND_API_KEY: the key was refused (create one at https://cloud.segmind.com/console/api-keys)"
    case "InsufficientCredits":
      return "the account is out of credits: top up at https://cloud.segmind.com/console/billing, then run the jobs left"
    case "ModelRetired":
      return "Segmind retired this model: choose another `model:` in the manifest"
    default:
      return "see the report for each job"
  }
}

/** The API to talk to: the embedded emulator for the life of the run, or Segmind (or --base-url) with the key. */
const apiTarget = (useEmulator: boolean, baseUrlFlag: Option.Option<string>) =>
  Effect.gen(function* () {
    if (useEmulator) {
      const apiKey = `SG_${randomBytes(8).toString("hex")}`
      const emulator = yield* Emulator.start({ ...defaultEmulatorConfig, apiKey, port: 0 })
      yield* Effect.logInfo(`emulator serving on ${emulator.baseUrl}`)
      return { baseUrl: emulator.baseUrl, apiKey: Redacted.make(apiKey), uploadUrl: undefined, isEmulator: true } as const
    }
    const baseUrl = yield* baseUrlConfig(baseUrlFlag)
    const apiKey = yield* apiKeyConfig.pipe(
      Effect.catchIf(ConfigError.isMissingDataOnly, () =>
        usageError(
          "SEGMIND_API_KEY is not set. Export your key (SEGMIND_API_KEY=SG_… shotlist run …) or render on the local emulator with --emulator."
        )
      )
    )
    const uploadUrl = Option.getOrUndefined(yield* uploadUrlConfig)
    return { baseUrl, apiKey, uploadUrl, isEmulator: false } as const
  })

export const runCommand = Command.make(
  "run",
  {
    manifest: manifestArg,
    out: outOption,
    concurrency: concurrencyOption,
    rpm: rpmOption,
    only: onlyOption,
    emulator: emulatorOption,
    baseUrl: baseUrlOption,
    retries: retriesOption,
    retryBase: retryBaseOption,
    retryCap: retryCapOption,
    jobDeadline: jobDeadlineOption,
    deadline: deadlineOption
  },
  (args) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      yield* positive("concurrency", args.concurrency)
      yield* positive("rpm", args.rpm)
      yield* positive("retries", args.retries)
      const jobDeadline = yield* durationFlag("job-deadline", args.jobDeadline)
      const runDeadline = yield* durationFlag("deadline", args.deadline)

      const { loaded, jobs } = yield* selectJobs(args.manifest, args.only)
      if (jobs.length === 0) return yield* usageError(`${args.manifest} expands to no jobs`)

      const target = yield* apiTarget(args.emulator, args.baseUrl)
      const runDirectory = Option.getOrElse(args.out, () =>
        path.join("output", loaded.manifest.name, timeStamp(new Date()))
      )
      const files = runFiles(path, runDirectory)
      if (yield* fs.exists(files.journal)) {
        return yield* usageError(`${runDirectory} already holds a run (journal.jsonl); choose another --out`)
      }

      const concurrency = Option.getOrElse(args.concurrency, () => loaded.manifest.concurrency ?? DEFAULT_CONCURRENCY)
      const rpm = Option.getOrElse(args.rpm, () => loaded.manifest.rpm ?? (target.isEmulator ? EMULATOR_RPM : DEFAULT_RPM))
      yield* Effect.logInfo(
        `rendering ${jobs.length} jobs of ${loaded.file} into ${runDirectory} (concurrency ${concurrency}, ${rpm} API calls/min)`
      )

      const manifestRetry = loaded.manifest.retry ?? {}
      const retry: RetrySettings = {
        tries: Option.getOrElse(args.retries, () => manifestRetry.tries ?? DEFAULT_RETRY.tries),
        base: Option.match(args.retryBase, {
          onSome: Duration.seconds,
          onNone: () => (manifestRetry.base === undefined ? DEFAULT_RETRY.base : Duration.seconds(manifestRetry.base))
        }),
        cap: Option.match(args.retryCap, {
          onSome: Duration.seconds,
          onNone: () => (manifestRetry.cap === undefined ? DEFAULT_RETRY.cap : Duration.seconds(manifestRetry.cap))
        })
      }
      const pollDefaults = target.isEmulator ? EMULATOR_POLL : DEFAULT_POLL
      const poll: PollSettings = { ...pollDefaults, deadline: Option.getOrElse(jobDeadline, () => pollDefaults.deadline) }

      const segmind: SegmindSettings = { baseUrl: target.baseUrl, apiKey: target.apiKey, uploadUrl: target.uploadUrl }
      const report = yield* runPipeline({
        runId: path.basename(path.resolve(runDirectory)),
        runDirectory,
        manifest: loaded,
        jobs,
        model: loaded.manifest.model ?? SEEDANCE_MODEL,
        baseUrl: target.baseUrl,
        concurrency,
        rpm,
        poll,
        retry,
        runDeadline: Option.getOrUndefined(runDeadline)
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            SegmindClient.Default.pipe(Layer.provide(layerSegmindConfig(segmind))),
            RequestBudget.layer(rpm)
          )
        )
      )
      yield* printSummary(report, files)
      yield* setExitCode(exitCodeOf(report))
    }).pipe(
      Effect.scoped,
      reportingUsageProblems
    )
).pipe(
  Command.withDescription(
    "Validate MANIFEST, expand it into jobs, render them on Segmind (or the emulator), download every video and write report.json. Exit 0: all completed; 1: some failed; 2: usage or manifest error (nothing sent); 3: stopped by a fatal API answer; 130: interrupted."
  )
)
