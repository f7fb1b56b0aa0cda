import { Data } from "effect"
import type { FrameRecord, Resubmitted } from "../domain/JobReport.js"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import type { Submission } from "../segmind/SegmindClient.js"

/**
 * Where a job starts: a submit (a new job, or one a resume must send again),
 * or polling a request the API already accepted (a resume never pays twice).
 */
export type JobStart = Data.TaggedEnum<{
  Submit: { readonly resubmitted?: Resubmitted }
  Poll: {
    readonly submission: Submission
    readonly submittedAtMs: number
    /** the body and frames that were sent */
    readonly params: SeedanceParams
    readonly frames: ReadonlyArray<FrameRecord> | undefined
    /** tries the journal counted so far */
    readonly submitAttempts: number
    readonly resubmitted: Resubmitted | undefined
  }
}>
export const JobStart = Data.taggedEnum<JobStart>()

export const submitStart: JobStart = JobStart.Submit({})
