import { Schema } from "effect"
import { ErrorRecord, JobReport, ManifestRef, ReplayOf } from "../domain/JobReport.js"
import { SEEDANCE_MODEL } from "../domain/SeedanceParams.js"
import { estimateJobCost, observedCosts, roundUsd } from "../segmind/ModelCatalog.js"

export const REPORT_SCHEMA_VERSION = 1

/** What a run cost: the API's `cost` figures, plus an estimate for completed jobs it gave none. */
export const RunCost = Schema.Struct({
  usd: Schema.Number,
  /** the part of `usd` that is estimated rather than billed (0 when the API priced every job) */
  estimatedUsd: Schema.Number,
  /** completed jobs the API gave no figure for, priced by estimate */
  estimatedJobs: Schema.Int
})
export type RunCost = typeof RunCost.Type

export const Report = Schema.Struct({
  schemaVersion: Schema.Literal(REPORT_SCHEMA_VERSION),
  tool: Schema.Struct({ name: Schema.String, version: Schema.String }),
  run: Schema.Struct({
    id: Schema.String,
    /** the manifest's `name` (reports written before it was recorded lack it) */
    name: Schema.optional(Schema.String),
    manifest: ManifestRef,
    model: Schema.String,
    baseUrl: Schema.String,
    /** rendered on the embedded emulator (reports written before it was recorded lack it) */
    emulator: Schema.optional(Schema.Boolean),
    /** where its videos count as rendered, for reuse: `emulator`, else the API's scheme://host:port */
    apiOrigin: Schema.optional(Schema.String),
    concurrency: Schema.Int,
    rpm: Schema.Number,
    /** the URL polls asked: the documented status URL, or the result URL where it answered "not yet" (absent: no poll) */
    polledVia: Schema.optional(Schema.Literal("status", "result")),
    /** why that URL: the probe's answer, or the odd answer that sent polls back to the status URL */
    polledViaReason: Schema.optional(Schema.String),
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
    /** completed with a verified video of an earlier run, at no cost */
    reused: Schema.optional(Schema.Int),
    cost: Schema.optional(RunCost),
    wallMs: Schema.Number
  }),
  jobs: Schema.Array(JobReport)
})
export type Report = typeof Report.Type

/**
 * What the run cost. A job the API priced counts at its figure, failed or
 * not; a completed job it did not price (a reused one cost nothing) counts at
 * what the run was billed for its class, else the model's pricing rule.
 */
export const runCost = (jobs: ReadonlyArray<JobReport>, model: string): RunCost => {
  // A failed job's figure says nothing of what a finished video of its class costs.
  const observed = observedCosts(jobs.filter((job) => job.status === "completed"))
  const billed = jobs.reduce((sum, job) => sum + (job.cost ?? 0), 0)
  const unpriced = jobs.filter((job) =>
    job.cost === undefined && job.status === "completed" && job.reusedFrom === undefined
  )
  const estimated = unpriced.reduce((sum, job) => sum + estimateJobCost(job.params, model, observed), 0)
  return { usd: roundUsd(billed + estimated), estimatedUsd: roundUsd(estimated), estimatedJobs: unpriced.length }
}

export const summarize = (
  jobs: ReadonlyArray<JobReport>,
  wallMs: number,
  model: string = SEEDANCE_MODEL
): Report["summary"] => ({
  total: jobs.length,
  completed: jobs.filter((job) => job.status === "completed").length,
  failed: jobs.filter((job) => job.status === "failed").length,
  skipped: jobs.filter((job) => job.status === "skipped").length,
  ...(jobs.some((job) => job.status === "running")
    ? { running: jobs.filter((job) => job.status === "running").length }
    : {}),
  reused: jobs.filter((job) => job.reusedFrom !== undefined).length,
  cost: runCost(jobs, model),
  wallMs
})
