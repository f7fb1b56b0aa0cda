import { Data } from "effect"
import type { Job } from "../domain/Job.js"
import {
  type FrameRecord,
  type JobReport,
  jobReportBase,
  type Resubmitted,
  type ReusedFrom,
  type VideoOutput
} from "../domain/JobReport.js"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import type { Submission } from "../segmind/SegmindClient.js"
import type { Metrics } from "../segmind/WireSchemas.js"
import type { DiskUnwritable } from "../store/DiskErrors.js"
import { type JobError, reportErrorOf } from "./FailureClass.js"

/** Known at every stage: why a resume sent the job again, and the tries its calls took so far (1: none retried). */
interface Tally {
  readonly resubmitted: Resubmitted | undefined
  readonly tries: number
}

/** The body as sent (frame URLs filled in) and the frames as sent. */
interface Sent {
  readonly params: SeedanceParams
  readonly frames: ReadonlyArray<FrameRecord>
}

interface Acceptance {
  readonly submission: Submission
  readonly submittedMs: number
}

/** What the API said when the job ended: its metrics, and the status calls it took to see it. */
interface Generation {
  readonly videoUrl: string
  readonly metrics: Metrics
  readonly polls: number
  readonly endedMs: number
}

/** How far a job got; each phase hands the next a later stage. */
export type JobProgress = Data.TaggedEnum<{
  /** nothing sent yet */
  Planned: Tally
  /** frames resolved: the body is final */
  Prepared: Tally & Sent
  /** the API accepted the submit */
  Submitted: Tally & Sent & Acceptance
  /** the API finished it and named its video */
  Generated: Tally & Sent & Acceptance & Generation
}>
export const JobProgress = Data.taggedEnum<JobProgress>()
export type Planned = Data.TaggedEnum.Value<JobProgress, "Planned">
export type Prepared = Data.TaggedEnum.Value<JobProgress, "Prepared">
export type Submitted = Data.TaggedEnum.Value<JobProgress, "Submitted">
export type Generated = Data.TaggedEnum.Value<JobProgress, "Generated">

/** How a job ended. */
export type JobOutcome = Data.TaggedEnum<{
  Completed: {
    readonly progress: Generated
    readonly output: VideoOutput
    readonly downloadMs: number
    readonly completedMs: number
  }
  /** an earlier run's verified video taken instead of rendering */
  Reused: { readonly progress: Planned; readonly output: VideoOutput; readonly reusedFrom: ReusedFrom }
  Failed: { readonly progress: JobProgress; readonly error: JobError }
  /** never submitted: the run's gate was closed, or the submit itself was refused with a fatal answer */
  Skipped: { readonly progress: JobProgress; readonly error: JobError }
  /** stopped by a disk that refused a write: nothing journaled as its end, so a resume takes it up where it stood */
  Held: { readonly progress: JobProgress; readonly error: DiskUnwritable }
}>
export const JobOutcome = Data.taggedEnum<JobOutcome>()

const isoAt = (ms: number) => new Date(ms).toISOString()

/** The API had accepted the job: it has a request id, and is paid for. */
export const isAccepted = (progress: JobProgress): progress is Submitted | Generated =>
  progress._tag === "Submitted" || progress._tag === "Generated"

/** What a report says of the stage a job reached. */
const progressFields = (progress: JobProgress) => {
  const tally = progress.resubmitted === undefined ? {} : { resubmitted: progress.resubmitted }
  if (progress._tag === "Planned") return tally
  const sent = { ...tally, params: progress.params, ...(progress.frames.length > 0 ? { frames: progress.frames } : {}) }
  if (progress._tag === "Prepared") return sent
  const accepted = { ...sent, requestId: progress.submission.requestId, submittedAt: isoAt(progress.submittedMs) }
  if (progress._tag === "Submitted") return accepted
  const { metrics } = progress
  return {
    ...accepted,
    statusPolls: progress.polls,
    waitMs: progress.endedMs - progress.submittedMs,
    ...(metrics.inference_time === undefined ? {} : { inferenceTime: metrics.inference_time }),
    ...(metrics.queue_time === undefined ? {} : { queueMs: Math.round(metrics.queue_time * 1000) }),
    ...(metrics.cost === undefined ? {} : { cost: metrics.cost }),
    ...(metrics.remaining_credits === undefined ? {} : { remainingCredits: metrics.remaining_credits })
  }
}

/** A job's entry in `report.json` and its `finished` journal line. */
export const reportOf = (job: Job, outcome: JobOutcome): JobReport => {
  const base = { ...jobReportBase(job), ...progressFields(outcome.progress) }
  switch (outcome._tag) {
    case "Completed":
      return {
        ...base,
        status: "completed",
        attempts: outcome.progress.tries,
        completedAt: isoAt(outcome.completedMs),
        downloadMs: outcome.downloadMs,
        output: outcome.output
      }
    case "Reused":
      return { ...base, status: "completed", attempts: 0, output: outcome.output, reusedFrom: outcome.reusedFrom }
    case "Failed":
      return { ...base, status: "failed", attempts: outcome.progress.tries, error: reportErrorOf(outcome.error) }
    case "Skipped":
      return { ...base, status: "skipped", attempts: outcome.progress.tries, error: reportErrorOf(outcome.error) }
    case "Held":
      return {
        ...base,
        // Accepted by the API: still running there, and polled again on resume.
        status: isAccepted(outcome.progress) ? "running" : "skipped",
        attempts: outcome.progress.tries,
        error: reportErrorOf(outcome.error)
      }
  }
}
