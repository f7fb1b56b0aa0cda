import { Data } from "effect"
import type { FrameRecord, Resubmitted } from "../domain/JobReport.js"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import type { Submission } from "../segmind/SegmindClient.js"
import type { Metrics } from "../segmind/WireSchemas.js"

/** A request the API accepted earlier, as the journal recorded it. */
interface Accepted {
  readonly submission: Submission
  readonly submittedAtMs: number
  /** the body and frames that were sent */
  readonly params: SeedanceParams
  readonly frames: ReadonlyArray<FrameRecord> | undefined
  /** tries the journal counted so far */
  readonly submitAttempts: number
  readonly resubmitted: Resubmitted | undefined
  /** why the job is sent again if the API no longer knows the request (404); undefined: it fails instead, nothing is paid */
  readonly ifForgotten: Resubmitted | undefined
}

/**
 * Where a job starts: a submit (a new job, or one a resume must send again),
 * polling a request the API already accepted, or downloading the video of one
 * that finished (a resume never pays twice for what it can still fetch).
 */
export type JobStart = Data.TaggedEnum<{
  Submit: { readonly resubmitted?: Resubmitted }
  Poll: Accepted
  Download: Accepted & {
    readonly videoUrl: string
    readonly metrics: Metrics
    readonly endedAtMs: number
  }
}>
export const JobStart = Data.taggedEnum<JobStart>()

export const submitStart: JobStart = JobStart.Submit({})
