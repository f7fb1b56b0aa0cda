import { Schema } from "effect"
import { Job } from "../manifest/Job.js"
import { SeedanceParams } from "../segmind/SeedanceParams.js"

export const REPORT_SCHEMA_VERSION = 1

/** `running`: only in the report of an interrupted run, for a job the API had accepted (resume picks it up) */
export const JobStatus = Schema.Literal("completed", "failed", "skipped", "running")
export type JobStatus = typeof JobStatus.Type

export const ReportError = Schema.Struct({
  tag: Schema.String,
  message: Schema.String,
  httpStatus: Schema.optional(Schema.Number),
  detail: Schema.optional(Schema.String)
})
export type ReportError = typeof ReportError.Type

export const ReportOutput = Schema.Struct({
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
export type ReportOutput = typeof ReportOutput.Type

export const ReportFrame = Schema.Struct({
  role: Schema.Literal("first_frame", "last_frame"),
  /** as written in the manifest: a URL or a path relative to it */
  source: Schema.String,
  sha256: Schema.optional(Schema.String),
  /** the URL that was sent to the API */
  url: Schema.String
})
export type ReportFrame = typeof ReportFrame.Type

const { id, seed, seedDrawn, shot, sweep, take } = Job.fields

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
  frames: Schema.optional(Schema.Array(ReportFrame)),
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
  output: Schema.optional(ReportOutput),
  error: Schema.optional(ReportError),
  reusedFrom: Schema.optional(Schema.Struct({ run: Schema.String, job: Schema.String })),
  /**
   * Set when a resume had to submit this job again: its earlier request had
   * expired or was unknown to the API, or the earlier submit's answer was lost
   * before its id was recorded (then that submit may have been billed too).
   */
  resubmitted: Schema.optional(
    Schema.Struct({ reason: Schema.String, previousRequestId: Schema.optional(Schema.String) })
  )
})
export type JobReport = typeof JobReport.Type

export const Report = Schema.Struct({
  schemaVersion: Schema.Literal(REPORT_SCHEMA_VERSION),
  tool: Schema.Struct({ name: Schema.String, version: Schema.String }),
  run: Schema.Struct({
    id: Schema.String,
    manifest: Schema.Struct({ path: Schema.String, sha256: Schema.String }),
    model: Schema.String,
    baseUrl: Schema.String,
    concurrency: Schema.Int,
    rpm: Schema.Number,
    startedAt: Schema.String,
    finishedAt: Schema.String,
    /** set when a fatal answer stopped the run (exit 3) */
    aborted: Schema.optional(ReportError),
    /** when `shotlist resume` took the run up again */
    resumedAt: Schema.optional(Schema.Array(Schema.String)),
    /** set by `shotlist replay`: the report whose jobs this run renders again */
    replayOf: Schema.optional(Schema.Struct({ report: Schema.String, runId: Schema.String }))
  }),
  summary: Schema.Struct({
    total: Schema.Int,
    completed: Schema.Int,
    failed: Schema.Int,
    skipped: Schema.Int,
    /** accepted by the API but not finished when the run was interrupted */
    running: Schema.optional(Schema.Int),
    wallMs: Schema.Number
  }),
  jobs: Schema.Array(JobReport)
})
export type Report = typeof Report.Type

export const summarize = (jobs: ReadonlyArray<JobReport>, wallMs: number): Report["summary"] => ({
  total: jobs.length,
  completed: jobs.filter((job) => job.status === "completed").length,
  failed: jobs.filter((job) => job.status === "failed").length,
  skipped: jobs.filter((job) => job.status === "skipped").length,
  ...(jobs.some((job) => job.status === "running")
    ? { running: jobs.filter((job) => job.status === "running").length }
    : {}),
  wallMs
})

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
