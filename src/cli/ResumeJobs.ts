import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, type Option } from "effect"
import type { Job } from "../domain/Job.js"
import { formatIssue, ManifestInvalid } from "../manifest/ManifestErrors.js"
import { decodeReport } from "../report/ReportFile.js"
import type { JournaledRun } from "../store/JournalReader.js"
import { runFiles } from "../store/RunDirectory.js"
import { onlyJobs, selectJobs } from "./JobSelection.js"
import { picksForResume } from "./LinkPicks.js"
import { jobOfReport } from "./ReplayCommand.js"
import { usageError } from "./UsageErrors.js"

type RunSettings = NonNullable<JournaledRun["run"]>

/** Why the run's own selection of jobs could not be made again, in a few words. */
const reasonOf = (error: { readonly message: string }) =>
  error instanceof ManifestInvalid && error.issues[0] !== undefined
    ? `${error.message} (${formatIssue(error.issues[0])})`
    : error.message

/**
 * The run's jobs made again from what it was started with: the manifest
 * (the original file while it is unchanged, so local frames resolve as they
 * did, else the run's copy) or, for a replay, the report it replays; narrowed
 * by the same `--only`. Drawn seeds are drawn anew; links follow the jobs
 * the planned ones follow, else the picks (`picksForResume`).
 */
const selectedAgain = (
  runDirectory: string,
  run: RunSettings,
  planned: ReadonlyArray<Job>,
  picksFlag: Option.Option<string>
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const only = run.only ?? []
    if (run.replayOf !== undefined) {
      const source = yield* fs.readFileString(run.replayOf.report).pipe(Effect.flatMap(decodeReport))
      return yield* onlyJobs(source.jobs.map(jobOfReport), only, run.replayOf.report)
    }
    const options = { picks: picksForResume(runDirectory, planned, picksFlag) }
    const original = yield* selectJobs(run.manifest.path, only, options).pipe(Effect.either)
    const { jobs, loaded } = Either.isRight(original) && original.right.loaded.sha256 === run.manifest.sha256
      ? original.right
      : yield* selectJobs(runFiles(path, runDirectory).manifest, only, options)
    if (loaded.sha256 !== run.manifest.sha256) {
      return yield* usageError(`${loaded.file} is not the manifest the run was started with (it was edited)`)
    }
    return jobs
  })

/**
 * The jobs a resume carries on, in the run's order: every job the journal
 * planned, as it was planned (seed and body), and, where a crash cut the
 * planning short, the rest of the run's selection, planned now.
 */
export const jobsToResume = (
  runDirectory: string,
  journaled: JournaledRun,
  run: RunSettings,
  picksFlag: Option.Option<string>
) =>
  Effect.gen(function*() {
    const planned = [...journaled.jobs.values()].map((state) => state.job)
    // A journal written before the count was recorded (nor its `--only`) is taken as whole.
    if (run.jobCount === undefined || planned.length >= run.jobCount) return planned
    const selected = yield* Effect.either(selectedAgain(runDirectory, run, planned, picksFlag))
    if (Either.isLeft(selected)) {
      return yield* usageError(
        `the run was stopped while planning its jobs (${planned.length} of ${run.jobCount} planned), and the rest cannot be planned again: ${
          reasonOf(selected.left)
        }`
      )
    }
    const plannedById = new Map(planned.map((job) => [job.id, job]))
    const jobs = selected.right.map((job) => plannedById.get(job.id) ?? job)
    const ids = new Set(jobs.map((job) => job.id))
    const added = jobs.length - planned.filter((job) => ids.has(job.id)).length
    if (added > 0) {
      yield* Effect.logInfo(`${added} jobs the run had not planned before it stopped are planned now`)
    }
    return [...jobs, ...planned.filter((job) => !ids.has(job.id))]
  })
