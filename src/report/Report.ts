import { Schema } from "effect"
import { ErrorRecord, JobReport, ManifestRef, ReplayOf } from "../domain/JobReport.js"

export const REPORT_SCHEMA_VERSION = 1

export const Report = Schema.Struct({
  schemaVersion: Schema.Literal(REPORT_SCHEMA_VERSION),
  tool: Schema.Struct({ name: Schema.String, version: Schema.String }),
  run: Schema.Struct({
    id: Schema.String,
    manifest: ManifestRef,
    model: Schema.String,
    baseUrl: Schema.String,
    concurrency: Schema.Int,
    rpm: Schema.Number,
    startedAt: Schema.String,
    finishedAt: Schema.String,
    /** set when a fatal answer stopped the run (exit 3) */
    aborted: Schema.optional(ErrorRecord),
    /** when `shotlist resume` took the run up again */
    resumedAt: Schema.optional(Schema.Array(Schema.String)),
    /** set by `shotlist replay`: the report whose jobs this run renders again */
    replayOf: Schema.optional(ReplayOf)
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
