import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import type { Job } from "../domain/Job.js"
import { jobIdProblem } from "../domain/JobId.js"
import { type JobReport, jobReportBase } from "../domain/JobReport.js"
import { decodeReport } from "../report/ReportFile.js"
import { observedCosts } from "../segmind/ModelCatalog.js"
import { runFiles } from "../store/RunDirectory.js"
import { containedPathProblem } from "../store/SafePath.js"
import { apiTarget } from "./ApiTarget.js"
import { withinBudget } from "./Budget.js"
import { displayPath } from "./DisplayPath.js"
import { onlyFlag, onlyJobs } from "./JobSelection.js"
import { withLogFormat } from "./Logging.js"
import { renderFlags } from "./RenderFlags.js"
import { withKeptFrames } from "./ReplayFrames.js"
import { loadRunExecution, loadRunPipeline } from "./RunModules.js"
import { resolveRunSettings } from "./RunSettings.js"
import { timeStamp } from "./TimeStamp.js"
import { reportUsageError, usageError } from "./UsageErrors.js"

/** What a report says that no run of shotlist writes: an id that is no job id (it names a file), a path out of its run. */
const forgedEntries = (jobs: ReadonlyArray<JobReport>): ReadonlyArray<string> =>
  jobs.flatMap((job) => {
    const problem = jobIdProblem(job.id) ??
      (job.output === undefined ? undefined : containedPathProblem(job.output.path))
    return problem === undefined ? [] : [problem]
  })

/**
 * A recorded job as a job to render again: the exact body that was sent
 * (seed and URL frames included), so the API gets the very same request;
 * local frames are uploaded again (`withKeptFrames`).
 */
export const jobOfReport = (entry: JobReport): Job => jobReportBase(entry)

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
    only: onlyFlag("replay"),
    ...renderFlags
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
      const forged = forgedEntries(source.jobs)
      if (forged.length > 0) {
        return yield* usageError(
          `${args.report} was edited or is not shotlist's: ${forged.join("; ")}; nothing was sent`
        )
      }
      // Jobs of one id would be rendered, and paid for, into one video file.
      const ids = source.jobs.map((job) => job.id)
      const duplicated = [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))]
      if (duplicated.length > 0) {
        return yield* usageError(
          `${args.report} lists duplicate job ids ${
            duplicated.map((id) => JSON.stringify(id)).join(", ")
          }: each would be rendered into one file; nothing was sent`
        )
      }
      const sourceDirectory = path.dirname(reportFile)
      const entries = new Map(source.jobs.map((entry) => [entry.id, entry]))
      const jobs = yield* Effect.forEach(
        yield* onlyJobs(source.jobs.map(jobOfReport), args.only, args.report),
        (job) => withKeptFrames(job, entries.get(job.id)!, sourceDirectory)
      )
      if (jobs.length === 0) return yield* usageError(`${args.report} records no jobs`)

      // Nothing is reused on replay: every job is sent, priced at what the source run was billed where it says.
      yield* withinBudget(args, {
        jobs,
        verb: "render",
        model: source.run.model,
        observed: observedCosts(source.jobs.filter((entry) => entry.status === "completed"))
      })

      const runDirectory = Option.getOrElse(args.out, () =>
        path.join(path.dirname(sourceDirectory), timeStamp(new Date())))
      if (path.resolve(runDirectory) === sourceDirectory) {
        return yield* usageError("--out must not be the source run's directory")
      }
      const { claimNewRunDirectory, executeRun } = yield* loadRunExecution
      const { makeRunPlan } = yield* loadRunPipeline
      yield* claimNewRunDirectory(runDirectory)
      const manifestCopy = runFiles(path, sourceDirectory).manifest
      const manifestText = (yield* fs.exists(manifestCopy)) ? yield* fs.readFileString(manifestCopy) : undefined

      const target = yield* apiTarget(args.emulator, args.baseUrl)
      const settings = yield* resolveRunSettings(
        args,
        { concurrency: source.run.concurrency, rpm: target.isEmulator ? undefined : source.run.rpm, retry: undefined },
        target.isEmulator
      )
      yield* Effect.logInfo(
        `replaying ${jobs.length} jobs of ${displayPath(args.report)} into ${displayPath(runDirectory)}`
      )
      yield* executeRun(
        makeRunPlan({
          runId: path.basename(path.resolve(runDirectory)),
          runDirectory,
          manifest: { ...source.run.manifest, name: source.run.name, text: manifestText },
          jobs,
          model: source.run.model,
          baseUrl: target.baseUrl,
          emulator: target.isEmulator,
          ...settings,
          replayOf: { report: reportFile, runId: source.run.id },
          only: args.only
        }),
        target,
        args
      )
    }).pipe(Effect.scoped, withLogFormat(args.logFormat), Effect.catchTag("UsageError", reportUsageError))
).pipe(
  Command.withDescription(
    "Render again exactly the jobs REPORT_JSON records: same model, same body, same seeds, into a new run directory whose report links the source. Local frames are uploaded again from the source run's copies (exit 2 if one is missing or changed). Nothing is reused: every job is sent. Exit codes as for `run`."
  )
)
