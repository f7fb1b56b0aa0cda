import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import type { Job } from "../domain/Job.js"
import type { JobReport } from "../domain/JobReport.js"
import { filterJobs } from "../manifest/JobFilter.js"
import { makeRunPlan } from "../pipeline/RunPipeline.js"
import { decodeReport } from "../report/ReportFile.js"
import { runFiles } from "../store/RunDirectory.js"
import { apiTarget, renderOptions, renderSettings, withLogFormat } from "./RenderOptions.js"
import { claimNewRunDirectory, executeRun, timeStamp } from "./RunExecution.js"
import { reportingUsageProblems, usageError } from "./UsageErrors.js"

/**
 * A recorded job as a job to render again: the exact body that was sent
 * (seed, frame URLs and all), so the API gets the very same request.
 */
const jobOfReport = (entry: JobReport): Job => ({
  id: entry.id,
  shot: entry.shot,
  ...(entry.sweep === undefined ? {} : { sweep: entry.sweep }),
  ...(entry.take === undefined ? {} : { take: entry.take }),
  seed: entry.seed,
  seedDrawn: entry.seedDrawn,
  params: entry.params
})

export const replayCommand = Command.make(
  "replay",
  {
    report: Args.file({ name: "REPORT_JSON", exists: "yes" }).pipe(
      Args.withDescription("the report.json of an earlier run")
    ),
    out: Options.directory("out").pipe(
      Options.withDescription("the new run directory (default: beside the source run, named by the UTC time)"),
      Options.optional
    ),
    only: Options.text("only").pipe(
      Options.withDescription("replay only jobs whose id matches this glob (* and ?); repeatable"),
      Options.repeated
    ),
    ...renderOptions
  },
  (args) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const reportFile = path.resolve(args.report)
      const source = yield* fs.readFileString(reportFile).pipe(
        Effect.flatMap(decodeReport),
        Effect.catchAll((error) => usageError(`${args.report} is not a shotlist report.json: ${error.message}`))
      )
      const { jobs, unmatched } = filterJobs(source.jobs.map(jobOfReport), args.only)
      if (unmatched.length > 0) {
        return yield* usageError(
          `--only ${unmatched.map((p) => JSON.stringify(p)).join(", ")} matches no job of ${args.report}`
        )
      }
      if (jobs.length === 0) return yield* usageError(`${args.report} records no jobs`)

      const sourceDirectory = path.dirname(reportFile)
      const runDirectory = Option.getOrElse(args.out, () =>
        path.join(path.dirname(sourceDirectory), timeStamp(new Date())))
      if (path.resolve(runDirectory) === sourceDirectory) {
        return yield* usageError("--out must not be the source run's directory")
      }
      yield* claimNewRunDirectory(runDirectory)
      const manifestCopy = runFiles(path, sourceDirectory).manifest
      const manifestText = (yield* fs.exists(manifestCopy)) ? yield* fs.readFileString(manifestCopy) : undefined

      const target = yield* apiTarget(args.emulator, args.baseUrl)
      const settings = yield* renderSettings(
        args,
        { concurrency: source.run.concurrency, rpm: target.isEmulator ? undefined : source.run.rpm, retry: undefined },
        target.isEmulator
      )
      yield* Effect.logInfo(`replaying ${jobs.length} jobs of ${args.report} into ${runDirectory}`)
      yield* executeRun(
        makeRunPlan({
          runId: path.basename(path.resolve(runDirectory)),
          runDirectory,
          manifest: { ...source.run.manifest, text: manifestText },
          jobs,
          model: source.run.model,
          baseUrl: target.baseUrl,
          emulator: target.isEmulator,
          ...settings,
          replayOf: { report: reportFile, runId: source.run.id }
        }),
        target,
        args
      )
    }).pipe(Effect.scoped, withLogFormat(args.logFormat), reportingUsageProblems)
).pipe(
  Command.withDescription(
    "Render again exactly the jobs REPORT_JSON records: same model, same body, same seeds, into a new run directory whose report links the source. Nothing is reused: every job is sent. Exit codes as for `run`."
  )
)
