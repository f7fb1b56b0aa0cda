import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { SEEDANCE_MODEL } from "../domain/SeedanceParams.js"
import { refuseOversizedRun } from "../manifest/JobExpansion.js"
import { buildReuseIndex, emptyReuseIndex } from "../pipeline/ReuseCache.js"
import { runFiles } from "../store/RunDirectory.js"
import { apiOriginOfFlags, apiTarget } from "./ApiTarget.js"
import { hasBudget, withinBudget } from "./Budget.js"
import { displayPath } from "./DisplayPath.js"
import { onlyFlag, reseedFlag, selectJobs } from "./JobSelection.js"
import { followedLines, picksFlag, picksForRun } from "./LinkPicks.js"
import { withLogFormat } from "./Logging.js"
import { chooseRunDirectory, markLatestRun, waitFlag } from "./OutputFolderLock.js"
import { renderFlags } from "./RenderFlags.js"
import { lookUpReuse, reuseFlags, toRender } from "./ReuseLookup.js"
import { loadRunExecution, loadRunPipeline } from "./RunModules.js"
import { DEFAULT_MAX_JOBS, resolveRunSettings } from "./RunSettings.js"
import { usageError, usageProblems } from "./UsageErrors.js"

const manifestArg = Args.text({ name: "MANIFEST" }).pipe(Args.withDescription("the YAML manifest of shots to render"))

const outOption = Options.directory("out").pipe(
  Options.withDescription(
    "the run directory (default: output/<manifest name>/<UTC time stamp>/); naming one that holds a run of the same manifest resumes it"
  ),
  Options.optional
)

export const runCommand = Command.make(
  "run",
  {
    manifest: manifestArg,
    out: outOption,
    only: onlyFlag("render"),
    wait: waitFlag,
    ...reuseFlags,
    reseed: reseedFlag,
    picks: picksFlag,
    ...renderFlags
  },
  (args) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const { jobs, loaded, picks, reseedBase } = yield* selectJobs(args.manifest, args.only, {
        reseed: args.reseed,
        picks: picksForRun(args.picks, args.out)
      })
      if (jobs.length === 0) return yield* usageError(`${args.manifest} expands to no jobs`)
      if (Option.isNone(args.maxJobs)) yield* refuseOversizedRun(loaded, jobs, DEFAULT_MAX_JOBS)

      const runDirectory = yield* chooseRunDirectory(args.out, loaded.manifest.name, args.wait)
      const { claimNewRunDirectory, executeRun, resumeRun } = yield* loadRunExecution
      const { makeRunPlan } = yield* loadRunPipeline
      if (yield* fs.exists(runFiles(path, runDirectory).journal)) {
        yield* Effect.logInfo(`${displayPath(runDirectory)} already holds a run of this manifest: resuming it`)
        return yield* resumeRun({
          runDirectory,
          flags: args,
          retryFailed: false,
          resendUncertain: false,
          expectManifestSha256: loaded.sha256,
          picks: args.picks
        })
      }
      const model = loaded.manifest.model ?? SEEDANCE_MODEL
      const reuseRoot = Option.getOrElse(args.reuseFrom, () =>
        Option.isSome(args.out) ? path.dirname(path.resolve(runDirectory)) : "output")
      const reuse = args.noReuse
        ? emptyReuseIndex
        : yield* buildReuseIndex(reuseRoot, runDirectory, yield* apiOriginOfFlags(args.emulator, args.baseUrl))
      if (hasBudget(args)) {
        const rendered = toRender(yield* lookUpReuse(jobs, model, reuse))
        const reused = jobs.length - rendered.length
        yield* withinBudget(args, {
          jobs: rendered,
          verb: "render",
          ...(reused > 0 ? { spared: `${reused} reused` } : {}),
          model
        })
      }

      const target = yield* apiTarget(args.emulator, args.baseUrl)
      const settings = yield* resolveRunSettings(
        args,
        {
          concurrency: loaded.manifest.concurrency,
          rpm: loaded.manifest.rpm,
          plan: loaded.manifest.plan,
          retry: loaded.manifest.retry
        },
        target.isEmulator
      )
      if (reseedBase !== undefined) {
        yield* Effect.logInfo(
          `--reseed: seed_base ${reseedBase}; write \`seed_base: ${reseedBase}\` in the manifest to render the same seeds again`
        )
      }
      yield* claimNewRunDirectory(runDirectory)
      yield* markLatestRun(args.out, runDirectory)
      yield* Effect.logInfo(
        `rendering ${jobs.length} jobs of ${displayPath(loaded.file)} into ${
          displayPath(runDirectory)
        } (concurrency ${settings.concurrency}, ${settings.rpm} API calls/min${
          reuse.size > 0 ? `, ${reuse.size} earlier videos reusable` : ""
        })`
      )
      for (const line of followedLines(jobs, picks)) {
        yield* Effect.logInfo(line)
      }
      yield* executeRun(
        makeRunPlan({
          runId: path.basename(path.resolve(runDirectory)),
          runDirectory,
          manifest: { path: loaded.absolutePath, sha256: loaded.sha256, name: loaded.manifest.name, text: loaded.text },
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
    "Validate MANIFEST, expand it into jobs, render them on Segmind (or the emulator), download every video and write report.json. A job identical to a verified video of an earlier run is reused, not paid for again (--no-reuse to render anyway). A `first_frame: {from: SHOT}` of a shot with several variants follows its pick (--picks, else the latest run's picks.yaml). Exit 0: all completed; 1: some failed; 2: usage or manifest error (nothing sent); 3: stopped by a fatal API answer; 130: interrupted (resume with `shotlist resume RUN_DIR`)."
  )
)
