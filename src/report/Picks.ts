import { Data, Effect, Either, ParseResult, Schema } from "effect"
import { isDeepStrictEqual } from "node:util"
import { parse, stringify } from "yaml"
import { closestKey } from "../domain/ClosestName.js"
import { SweepValue } from "../domain/Job.js"
import type { JobReport } from "../domain/JobReport.js"
import type { Report } from "./Report.js"

/** The variant an artist kept for one shot, and what made it: enough to render it again. */
export const Pick = Schema.Struct({
  job: Schema.String,
  seed: Schema.Int,
  sweep: Schema.optional(Schema.Record({ key: Schema.String, value: SweepValue })),
  take: Schema.optional(Schema.Int)
})
export type Pick = typeof Pick.Type

/** `picks.yaml`: one pick per shot of one run, written by the contact sheet's export and by `shotlist pick`. */
export const Picks = Schema.Struct({
  run: Schema.String,
  picks: Schema.Record({ key: Schema.String, value: Pick })
})
export type Picks = typeof Picks.Type

/** A picks file that is not YAML or not of the schema. */
export class PicksInvalid extends Data.TaggedError("PicksInvalid")<{
  readonly file: string
  readonly reason: string
}> {
  override get message() {
    return `${this.file} is not a picks file (run: RUN_ID, picks: {SHOT: {job, seed}}): ${this.reason}`
  }
}

/** A pick as the report records its job. */
export const pickOf = (job: JobReport): Pick => ({
  job: job.id,
  seed: job.seed,
  ...(job.sweep === undefined ? {} : { sweep: job.sweep }),
  ...(job.take === undefined ? {} : { take: job.take })
})

/** The text of `picks.yaml`; the page's export writes the same shape. */
export const picksYaml = (picks: Picks): string => stringify(Schema.encodeSync(Picks)(picks), { lineWidth: 0 })

const decodePicks = Schema.decodeUnknown(Picks, { onExcessProperty: "error" })

/** The picks of a `picks.yaml` text; `file` names it in the error. */
export const readPicksYaml = (file: string, text: string): Effect.Effect<Picks, PicksInvalid> =>
  Effect.try({
    try: (): unknown => parse(text, { maxAliasCount: 100 }),
    catch: (error) => new PicksInvalid({ file, reason: `YAML: ${String(error).split("\n")[0]}` })
  }).pipe(
    Effect.flatMap((document) =>
      decodePicks(document).pipe(
        Effect.mapError((error) =>
          new PicksInvalid({ file, reason: ParseResult.TreeFormatter.formatErrorSync(error).replace(/\n\s*/g, " ") })
        )
      )
    )
  )

/** Ids in a message: all of a few, the first of many. */
const listed = (ids: ReadonlyArray<string>, most = 12) =>
  ids.length <= most ? ids.join(", ") : `${ids.slice(0, most).join(", ")}, … (${ids.length} in all)`

const didYouMean = (written: string, known: ReadonlyArray<string>) => {
  const close = closestKey(written, known)
  return close === undefined ? "" : ` (did you mean "${close}"?)`
}

/**
 * The job of the run a shot's pick names, or why there is none: a shot or job
 * the run does not have (with the ids it has), or a job with no video to keep.
 */
export const pickedJob = (report: Report, shot: string, jobId: string): Either.Either<JobReport, string> => {
  const shots = [...new Set(report.jobs.map((job) => job.shot))]
  if (!shots.includes(shot)) {
    return Either.left(
      `no shot "${shot}" in run ${report.run.id}${didYouMean(shot, shots)}; its shots: ${listed(shots)}`
    )
  }
  const ofShot = report.jobs.filter((job) => job.shot === shot)
  const job = ofShot.find((candidate) => candidate.id === jobId)
  if (job === undefined) {
    const ids = ofShot.map((candidate) => candidate.id)
    return Either.left(`no job "${jobId}" in shot "${shot}"${didYouMean(jobId, ids)}; its jobs: ${listed(ids)}`)
  }
  return job.status === "completed" && job.output !== undefined
    ? Either.right(job)
    : Either.left(`job "${jobId}" of shot "${shot}" is ${job.status}: it has no video to keep`)
}

/** `SHOT=JOB`, or a job id alone (its shot is the job's): the pick it names, or why it names none. */
export const pickOfArgument = (report: Report, argument: string): Either.Either<JobReport, string> => {
  const whole = report.jobs.find((job) => job.id === argument)
  if (whole !== undefined) return pickedJob(report, whole.shot, whole.id)
  const equals = argument.indexOf("=")
  if (equals <= 0) {
    const shots = [...new Set(report.jobs.map((job) => job.shot))]
    return Either.left(
      `"${argument}" is not SHOT=JOB nor a job id of run ${report.run.id}; its shots: ${listed(shots)}`
    )
  }
  return pickedJob(report, argument.slice(0, equals), argument.slice(equals + 1))
}

/** Each pick of a file that does not fit the run, said once; none when all do. */
export const picksProblems = (report: Report, picks: Picks): ReadonlyArray<string> => {
  if (picks.run !== report.run.id) return [`the picks are of run ${picks.run}, not of run ${report.run.id}`]
  return Object.entries(picks.picks).flatMap(([shot, pick]) =>
    Either.match(pickedJob(report, shot, pick.job), {
      onLeft: (problem) => [problem],
      onRight: (job) =>
        isDeepStrictEqual(pickOf(job), pick)
          ? []
          : [
            `the pick of shot "${shot}" says ${JSON.stringify(pick)}, but the run rendered ${
              JSON.stringify(pickOf(job))
            }`
          ]
    })
  )
}
