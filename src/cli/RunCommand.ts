import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import type { Job } from "../domain/Job.js"
import { SEEDANCE_MODEL } from "../domain/SeedanceParams.js"
import {
  buildReuseIndex,
  emptyReuseIndex,
  localFrameDigests,
  paramsKeyOf,
  type ReuseIndex
} from "../pipeline/ReuseCache.js"
import { makeRunPlan } from "../pipeline/RunPipeline.js"
import { estimateRun, formatUsd } from "../segmind/ModelCatalog.js"
import { runFiles } from "../store/RunDirectory.js"
import { apiTarget } from "./ApiTarget.js"
import { onlyFlag, selectJobs } from "./JobSelection.js"
import { withLogFormat } from "./Logging.js"
import { renderFlags } from "./RenderFlags.js"
import { claimNewRunDirectory, executeRun, resumeRun, timeStamp } from "./RunExecution.js"
import { DEFAULT_CONCURRENCY, resolveRunSettings } from "./RunSettings.js"
import { usageError, usageProblems } from "./UsageErrors.js"

const manifestArg = Args.text({ name: "MANIFEST" }).pipe(Args.withDescription("the YAML manifest of shots to render"))

const outOption = Options.directory("out").pipe(
  Options.withDescription(
    "the run directory (default: output/<manifest name>/<UTC time stamp>/); naming one that holds a run of the same manifest resumes it"
  ),
  Options.optional
)
const noReuseOption = Options.boolean("no-reuse").pipe(
  Options.withDescription(
    "render every job, even one whose model and exact body (seed included) match a verified video of an earlier run under the output root; by default that video is linked in instead, at no cost"
  )
)
const maxJobsOption = Options.integer("max-jobs").pipe(
  Options.withDescription(
    "refuse the run (exit 2, nothing sent) if it would render more than N jobs; reused videos do not count"
  ),
  Options.optional
)
const maxCostOption = Options.float("max-cost").pipe(
  Options.withDescription(
    "refuse the run (exit 2, nothing sent) if its estimated cost exceeds this many US dollars (list price per generation; reused videos cost nothing)"
  ),
  Options.optional
)
const reuseFromOption = Options.directory("reuse-from").pipe(
  Options.withDescription(
    "the output root whose earlier runs may be reused (default: output/, or the folder above --out)"
  ),
  Options.optional
)

/** `--max-jobs` / `--max-cost`: checked before anything is sent; only jobs that would really be rendered count. */
const withinBudget = (
  jobs: ReadonlyArray<Job>,
  model: string,
  reuse: ReuseIndex,
  concurrency: number,
  maxJobs: Option.Option<number>,
  maxCost: Option.Option<number>
) =>
  Effect.gen(function*() {
    if (Option.isNone(maxJobs) && Option.isNone(maxCost)) return
    const toRender: Array<Job> = []
    for (const job of jobs) {
      const digests = yield* localFrameDigests(job).pipe(Effect.orElseSucceed(() => ({})))
      if (reuse.find(paramsKeyOf(model, job, digests)) === undefined) toRender.push(job)
    }
    const estimate = estimateRun(toRender, model, concurrency)
    const reused = jobs.length - toRender.length
    const what = `${toRender.length} job${toRender.length === 1 ? "" : "s"} to render${
      reused > 0 ? ` (${reused} reused)` : ""
    }, about ${formatUsd(estimate.costUsd)}`
    if (Option.isSome(maxJobs) && toRender.length > maxJobs.value) {
      return yield* usageError(`refused: ${what}, over --max-jobs ${maxJobs.value}; nothing was sent`)
    }
    if (Option.isSome(maxCost) && estimate.costUsd > maxCost.value) {
      return yield* usageError(`refused: ${what}, over --max-cost ${formatUsd(maxCost.value)}; nothing was sent`)
    }
  })

export const runCommand = Command.make(
  "run",
  {
    manifest: manifestArg,
    out: outOption,
    only: onlyFlag("render"),
    noReuse: noReuseOption,
    reuseFrom: reuseFromOption,
    maxJobs: maxJobsOption,
    maxCost: maxCostOption,
    ...renderFlags
  },
  (args) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const { loaded, jobs } = yield* selectJobs(args.manifest, args.only)
      if (jobs.length === 0) return yield* usageError(`${args.manifest} expands to no jobs`)

      const runDirectory = Option.getOrElse(args.out, () =>
        path.join("output", loaded.manifest.name, timeStamp(new Date())))
      if (yield* fs.exists(runFiles(path, runDirectory).journal)) {
        yield* Effect.logInfo(`${runDirectory} already holds a run of this manifest: resuming it`)
        return yield* resumeRun({
          runDirectory,
          flags: args,
          retryFailed: false,
          resendUncertain: false,
          expectManifestSha256: loaded.sha256
        })
      }
      const model = loaded.manifest.model ?? SEEDANCE_MODEL
      const reuseRoot = Option.getOrElse(args.reuseFrom, () =>
        Option.isSome(args.out) ? path.dirname(path.resolve(runDirectory)) : "output")
      const reuse = args.noReuse ? emptyReuseIndex : yield* buildReuseIndex(reuseRoot, runDirectory)
      const concurrencyForEstimate = Option.getOrElse(args.concurrency, () =>
        loaded.manifest.concurrency ?? DEFAULT_CONCURRENCY)
      yield* withinBudget(jobs, model, reuse, concurrencyForEstimate, args.maxJobs, args.maxCost)

      const target = yield* apiTarget(args.emulator, args.baseUrl)
      const settings = yield* resolveRunSettings(
        args,
        { concurrency: loaded.manifest.concurrency, rpm: loaded.manifest.rpm, retry: loaded.manifest.retry },
        target.isEmulator
      )
      yield* claimNewRunDirectory(runDirectory)
      yield* Effect.logInfo(
        `rendering ${jobs.length} jobs of ${loaded.file} into ${runDirectory} (concurrency ${settings.concurrency}, ${settings.rpm} API calls/min${
          reuse.size > 0 ? `, ${reuse.size} earlier videos reusable` : ""
        })`
      )
      yield* executeRun(
        makeRunPlan({
          runId: path.basename(path.resolve(runDirectory)),
          runDirectory,
          manifest: { path: loaded.absolutePath, sha256: loaded.sha256, text: loaded.text },
          jobs,
          model,
          baseUrl: target.baseUrl,
          emulator: target.isEmulator,
          ...settings,
          reuse,
          only: args.only
        }),
        target,
        args
      )
    }).pipe(Effect.scoped, withLogFormat(args.logFormat), Effect.catchTags(usageProblems))
).pipe(
  Command.withDescription(
    "Validate MANIFEST, expand it into jobs, render them on Segmind (or the emulator), download every video and write report.json. A job identical to a verified video of an earlier run is reused, not paid for again (--no-reuse to render anyway). Exit 0: all completed; 1: some failed; 2: usage or manifest error (nothing sent); 3: stopped by a fatal API answer; 130: interrupted (resume with `shotlist resume RUN_DIR`)."
  )
)
