import { FileSystem, Path } from "@effect/platform"
import { Clock, Console, Effect, Logger, Option } from "effect"
import { type LostRequest, lostWithEmulator, submitAgainIfLost } from "../pipeline/LostRequests.js"
import { REQUEST_TTL, resumeStartOf } from "../pipeline/ResumePlan.js"
import { makeRunPlan, runPipeline, type RunPlan, runServices } from "../pipeline/RunPipeline.js"
import { RunProgress } from "../pipeline/RunProgress.js"
import { renderJUnit } from "../report/JUnitReport.js"
import type { Report } from "../report/Report.js"
import { formatUsd, observedCosts } from "../segmind/ModelCatalog.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { type JournaledRun, journaledRun, readJournal } from "../store/JournalReader.js"
import { type RunFiles, runFiles } from "../store/RunDirectory.js"
import { entriesNotOfShotlist } from "../store/RunDirectoryClaim.js"
import { acquireRunLock } from "../store/RunLock.js"
import { type ApiTarget, apiTarget } from "./ApiTarget.js"
import { hasBudget, withinBudget } from "./Budget.js"
import { displayPath } from "./DisplayPath.js"
import { exitCodeOf, setExitCode } from "./ExitCode.js"
import { stderrLogger } from "./Logging.js"
import { notifyingRunEnd, type NotifyTarget } from "./Notify.js"
import { canRedraw, liveProgressView } from "./ProgressView.js"
import type { RenderFlags } from "./RenderFlags.js"
import { jobsToResume } from "./ResumeJobs.js"
import { resolveRunSettings } from "./RunSettings.js"
import { usageError } from "./UsageErrors.js"

/** Holds the run directory for the scope; another live process there is a usage error, a dead one's lock is taken over. */
export const lockRunDirectory = (runDirectory: string) =>
  acquireRunLock(runDirectory).pipe(Effect.catchTag("RunLocked", (locked) => usageError(locked.message)))

/** Where a run's outcome goes besides report.json: `--junit`, `--notify`, and how progress shows. */
export interface RunOutputs {
  readonly junit: Option.Option<string>
  readonly logFormat: "text" | "json"
  readonly notify: Option.Option<NotifyTarget>
}

/** On a terminal with text logs, the live view watches the run; elsewhere the log lines do. */
const watchingProgress = <A, E, R>(logFormat: "text" | "json", run: Effect.Effect<A, E, R>) =>
  logFormat === "text" && canRedraw(process.stderr)
    ? Effect.scoped(
      Effect.flatMap(
        liveProgressView(process.stderr),
        ({ logger, progress }) =>
          run.pipe(Effect.provideService(RunProgress, progress), Effect.provide(Logger.replace(stderrLogger, logger)))
      )
    )
    : run

/** A new run's directory, created and locked for the scope; one that holds a run, or anything else, is refused untouched. */
export const claimNewRunDirectory = (runDirectory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const shown = displayPath(runDirectory)
    const refuseUnlessNew = Effect.gen(function*() {
      if (yield* fs.exists(runFiles(path, runDirectory).journal)) {
        return yield* usageError(
          `${shown} already holds a run; choose another --out, or carry it on with: shotlist resume ${shown}`
        )
      }
      const others = yield* entriesNotOfShotlist(runDirectory)
      if (others.length > 0) {
        return yield* usageError(
          `${shown} is not empty and holds no run (${others.slice(0, 5).join(", ")}${
            others.length > 5 ? ", ..." : ""
          }); a run writes only into a new or empty folder, so it overwrites nothing: choose another --out`
        )
      }
    })
    yield* refuseUnlessNew
    yield* fs.makeDirectory(runDirectory, { recursive: true })
    yield* lockRunDirectory(runDirectory)
    // Again under the lock: another process may have started there meanwhile.
    yield* refuseUnlessNew
  })

/** Renders a plan against a target, prints the summary, writes `--junit`, sets the exit code. */
export const executeRun = (plan: RunPlan, target: ApiTarget, outputs: RunOutputs) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const junit = outputs.junit
    const report = yield* watchingProgress(
      outputs.logFormat,
      runPipeline(plan).pipe(
        Effect.provide(
          runServices({ baseUrl: target.baseUrl, apiKey: target.apiKey, uploadUrl: target.uploadUrl }, plan.rpm)
        )
      )
    )
    yield* printSummary(report, plan.runDirectory, runFiles(path, plan.runDirectory))
    if (Option.isSome(junit)) {
      yield* writeFileAtomic(junit.value, renderJUnit(report))
      yield* Console.log(`junit: ${displayPath(junit.value)}`)
    }
    yield* setExitCode(exitCodeOf(report))
    return report
  }).pipe(notifyingRunEnd(outputs.notify, plan.runDirectory))

export const printSummary = (report: Report, runDirectory: string, files: RunFiles) =>
  Effect.gen(function*() {
    const { summary } = report
    const reused = report.jobs.filter((job) => job.reusedFrom !== undefined).length
    const again = report.jobs.filter((job) => job.resubmitted !== undefined).length
    yield* Console.log(
      `${summary.total} jobs: ${summary.completed} completed${
        reused > 0 ? ` (${reused} reused from earlier runs)` : ""
      }, ${summary.failed} failed, ${summary.skipped} skipped in ${(summary.wallMs / 1000).toFixed(1)} s`
    )
    for (const job of report.jobs) {
      if (job.status === "completed" && job.output !== undefined) continue
      yield* Console.log(`  ${job.status} ${job.id}: ${job.error?.tag ?? ""} ${job.error?.message ?? ""}`.trimEnd())
    }
    const cost = summary.cost
    if (cost !== undefined && cost.usd > 0) {
      yield* Console.log(
        `cost: ${formatUsd(cost.usd)}${
          cost.estimatedJobs > 0
            ? `, of which ${formatUsd(cost.estimatedUsd)} estimated for ${cost.estimatedJobs} job${
              cost.estimatedJobs === 1 ? "" : "s"
            } the API gave no figure for`
            : " (the API's figures)"
        }`
      )
    }
    if (again > 0) {
      yield* Console.log(
        `${again} job${again === 1 ? " was" : "s were"} submitted again on resume (see "resubmitted" in the report):`
      )
      for (const job of report.jobs) {
        if (job.resubmitted !== undefined) yield* Console.log(`  ${job.id}: ${job.resubmitted.reason}`)
      }
    }
    yield* printHeldSubmits(report, runDirectory)
    if (report.run.aborted !== undefined) {
      yield* Console.log(`run stopped: ${report.run.aborted.tag}: ${report.run.aborted.message}`)
      yield* Console.log(abortAdvice(report.run.aborted.tag))
    }
    yield* Console.log(`videos: ${displayPath(files.videos)}`)
    yield* Console.log(`report: ${displayPath(files.report)}`)
    yield* Console.log(`contact sheet: ${displayPath(files.contactSheet)}`)
  })

/** Submits whose outcome is unknown are held, never re-sent silently: the summary names them and the command that sends them. */
const printHeldSubmits = (report: Report, runDirectory: string) =>
  Effect.gen(function*() {
    const held = report.jobs.filter((job) => job.status === "failed" && job.error?.tag === "SubmitUncertain")
    if (held.length === 0) return
    const them = held.length === 1 ? "it" : "them"
    yield* Console.log(
      `held, not re-sent: ${held.length} submit(s) whose answer does not say whether the API took (and bills) ${them}: ${
        held.map((job) => job.id).join(", ")
      }`
    )
    yield* Console.log(
      `to send ${them} again (each may then be billed twice): shotlist resume ${
        displayPath(runDirectory)
      } --resend-uncertain`
    )
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

export interface ResumeRequest {
  readonly runDirectory: string
  readonly flags: RenderFlags
  readonly retryFailed: boolean
  /** send again the submits whose outcome is unknown (`--resend-uncertain`) */
  readonly resendUncertain: boolean
  /** set by `run --out`: the manifest must be the one the run was started with */
  readonly expectManifestSha256: string | undefined
  /** `--picks FILE`: for the links of jobs a crash kept from being planned */
  readonly picks: Option.Option<string>
}

/**
 * `--max-jobs` / `--max-cost` of a resume: the jobs it would submit, for the
 * first time or again, count; videos kept and requests polled again do not.
 */
const resumeWithinBudget = (request: ResumeRequest, journaled: JournaledRun, lost: LostRequest | undefined) =>
  Effect.gen(function*() {
    if (!hasBudget(request.flags) || journaled.run === undefined) return
    const now = yield* Clock.currentTimeMillis
    const options = {
      retryFailed: request.retryFailed,
      resendUncertain: request.resendUncertain,
      requestTtl: REQUEST_TTL
    }
    const states = [...journaled.jobs.values()]
    const starts = yield* Effect.forEach(
      states,
      (state) => Effect.map(resumeStartOf(state, request.runDirectory, now, options), submitAgainIfLost(lost))
    )
    const outgoing = states.filter((_, i) => starts[i]?._tag === "Submit").map((state) => state.job)
    const kept = starts.filter((start) => start._tag === "Keep").length
    const polled = starts.filter((start) => start._tag === "Poll").length
    const spared = [...(kept > 0 ? [`${kept} kept`] : []), ...(polled > 0 ? [`${polled} polled, not sent again`] : [])]
    const finished = states.flatMap((state) => (state.finished?.status === "completed" ? [state.finished] : []))
    yield* withinBudget(request.flags, {
      jobs: outgoing,
      verb: "submit",
      ...(spared.length > 0 ? { spared: spared.join(", ") } : {}),
      model: journaled.run.model,
      observed: observedCosts(finished)
    })
  })

/**
 * Takes a run up again from its journal: lock, read (a torn last line is cut
 * off), then every job carries on where it stopped. An emulator run resumes
 * on a new emulator unless `--base-url` says otherwise.
 */
export const resumeRun = (request: ResumeRequest) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files = runFiles(path, request.runDirectory)
    if (!(yield* fs.exists(files.journal))) {
      return yield* usageError(
        `${displayPath(request.runDirectory)} holds no journal.jsonl: there is no run to resume there`
      )
    }
    yield* lockRunDirectory(request.runDirectory)
    const contents = yield* readJournal(files.journal).pipe(
      Effect.catchTag("JournalCorrupt", (corrupt) =>
        usageError(
          `${corrupt.file}:${corrupt.line}: ${corrupt.message}; the journal was damaged or edited, so the run cannot be resumed safely`
        ))
    )
    if (contents.tornLine) {
      yield* fs.truncate(files.journal, BigInt(contents.validLength))
      yield* Effect.logWarning(
        "the journal's last line was torn by a crash mid-write; it recorded nothing acted on and was cut off"
      )
    }
    const journaled = journaledRun(contents.events)
    const run = journaled.run
    if (run === undefined) {
      return yield* usageError(`${files.journal} does not start with the run's settings; it cannot be resumed`)
    }
    if (request.expectManifestSha256 !== undefined && request.expectManifestSha256 !== run.manifest.sha256) {
      const shown = displayPath(request.runDirectory)
      return yield* usageError(
        `${shown} holds a run of another manifest (or of this one before an edit); choose another --out, or finish that run with: shotlist resume ${shown}`
      )
    }

    const useEmulator = request.flags.emulator || (run.emulator && Option.isNone(request.flags.baseUrl))
    const baseUrl = Option.orElse(request.flags.baseUrl, () => (useEmulator ? Option.none() : Option.some(run.baseUrl)))
    // An embedded emulator's requests died with its process: they are sent again, never polled.
    const lost = lostWithEmulator(run, { emulator: useEmulator, baseUrl: Option.getOrElse(baseUrl, () => run.baseUrl) })
    yield* resumeWithinBudget(request, journaled, lost)

    const target = yield* apiTarget(useEmulator, baseUrl)
    const settings = yield* resolveRunSettings(request.flags, {
      concurrency: run.concurrency,
      rpm: run.emulator === useEmulator ? run.rpm : undefined,
      retry: undefined
    }, target.isEmulator)
    const jobs = yield* jobsToResume(request.runDirectory, journaled, run, request.picks)
    yield* Effect.logInfo(`resuming ${jobs.length} jobs of ${displayPath(request.runDirectory)} on ${target.baseUrl}`)
    return yield* executeRun(
      makeRunPlan({
        runId: run.runId,
        runDirectory: request.runDirectory,
        manifest: { path: run.manifest.path, sha256: run.manifest.sha256, name: run.name, text: undefined },
        jobs,
        model: run.model,
        baseUrl: target.baseUrl,
        emulator: target.isEmulator,
        ...settings,
        replayOf: run.replayOf,
        only: run.only ?? [],
        resume: {
          journaled,
          options: {
            retryFailed: request.retryFailed,
            resendUncertain: request.resendUncertain,
            requestTtl: REQUEST_TTL
          },
          lost
        }
      }),
      target,
      request.flags
    )
  })
