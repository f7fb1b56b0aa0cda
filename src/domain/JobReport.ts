import { Schema } from "effect"
import { Job } from "./Job.js"
import { SeedanceParams } from "./SeedanceParams.js"

/** `running`: only in the report of an interrupted run, for a job the API had accepted (resume picks it up) */
export const JobStatus = Schema.Literal("completed", "failed", "skipped", "running")
export type JobStatus = typeof JobStatus.Type

/** Why a job failed or a run stopped: enough to explain it and to classify it again. */
export const ErrorRecord = Schema.Struct({
  tag: Schema.String,
  message: Schema.String,
  httpStatus: Schema.optional(Schema.Number),
  detail: Schema.optional(Schema.String)
})
export type ErrorRecord = typeof ErrorRecord.Type

/** A verified video on disk. */
export const VideoOutput = Schema.Struct({
  /** relative to the run directory */
  path: Schema.String,
  bytes: Schema.Number,
  sha256: Schema.String,
  sourceUrl: Schema.String,
  durationSeconds: Schema.optional(Schema.Number),
  width: Schema.optional(Schema.Number),
  height: Schema.optional(Schema.Number),
  hasAudio: Schema.optional(Schema.Boolean)
})
export type VideoOutput = typeof VideoOutput.Type

/** A frame image as it was sent. */
export const FrameRecord = Schema.Struct({
  role: Schema.Literal("first_frame", "last_frame"),
  /** as written in the manifest: a URL or a path relative to it */
  source: Schema.String,
  sha256: Schema.optional(Schema.String),
  /** the URL that was sent to the API */
  url: Schema.String,
  /** `from:SHOT`: the job of SHOT whose video's last frame this is (its pick when SHOT renders several) */
  fromJob: Schema.optional(Schema.String)
})
export type FrameRecord = typeof FrameRecord.Type

/**
 * The earlier run and job whose verified video a job took instead of
 * rendering, with what that render's report said of its request and price
 * (a record of the source, not a bill of this run: the reuse cost nothing).
 */
export const ReusedFrom = Schema.Struct({
  run: Schema.String,
  job: Schema.String,
  requestId: Schema.optional(Schema.String),
  cost: Schema.optional(Schema.Number),
  inferenceTime: Schema.optional(Schema.Number)
})
export type ReusedFrom = typeof ReusedFrom.Type

/** The report whose jobs a replay renders again. */
export const ReplayOf = Schema.Struct({ report: Schema.String, runId: Schema.String })
export type ReplayOf = typeof ReplayOf.Type

/** The manifest a run renders. */
export const ManifestRef = Schema.Struct({ path: Schema.String, sha256: Schema.String })
export type ManifestRef = typeof ManifestRef.Type

/**
 * Set when a resume had to submit a job again: its earlier request had
 * expired or was unknown to the API, or the earlier submit's answer was lost
 * before its id was recorded (then that submit may have been billed too).
 */
export const Resubmitted = Schema.Struct({ reason: Schema.String, previousRequestId: Schema.optional(Schema.String) })
export type Resubmitted = typeof Resubmitted.Type

const { id, seed, seedDrawn, shot, sweep, take } = Job.fields

/** What happened to one job: its entry in `report.json` and its `finished` line in the journal. */
export const JobReport = Schema.Struct({
  id,
  shot,
  sweep,
  take,
  status: JobStatus,
  seed,
  seedDrawn,
  /** the exact JSON body sent to the API (or that would have been sent) */
  params: SeedanceParams,
  frames: Schema.optional(Schema.Array(FrameRecord)),
  requestId: Schema.optional(Schema.String),
  /** tries of the job's API calls and download, 1 when nothing had to be retried */
  attempts: Schema.Int,
  submittedAt: Schema.optional(Schema.String),
  completedAt: Schema.optional(Schema.String),
  /** seconds, from the API's metrics */
  inferenceTime: Schema.optional(Schema.Number),
  /** time in the API's queue, from its metrics */
  queueMs: Schema.optional(Schema.Number),
  /** status calls spent on the job */
  statusPolls: Schema.optional(Schema.Int),
  /** from submission until shotlist saw the job end */
  waitMs: Schema.optional(Schema.Number),
  downloadMs: Schema.optional(Schema.Number),
  cost: Schema.optional(Schema.Number),
  remainingCredits: Schema.optional(Schema.Number),
  output: Schema.optional(VideoOutput),
  error: Schema.optional(ErrorRecord),
  reusedFrom: Schema.optional(ReusedFrom),
  resubmitted: Schema.optional(Resubmitted)
})
export type JobReport = typeof JobReport.Type

/** What a report says of a job before anything is known of its run. */
export const jobReportBase = (job: Job) => ({
  id: job.id,
  shot: job.shot,
  ...(job.sweep === undefined ? {} : { sweep: job.sweep }),
  ...(job.take === undefined ? {} : { take: job.take }),
  seed: job.seed,
  seedDrawn: job.seedDrawn,
  params: job.params
})
