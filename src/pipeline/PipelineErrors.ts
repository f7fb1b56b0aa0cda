import { Data, Duration } from "effect"
import type { ErrorRecord } from "../domain/JobReport.js"
import type { ServerError, TransportError, UnexpectedResponse } from "../segmind/SegmindErrors.js"

/** The job did not end before its per-job deadline, or before the run's (`byRun`); its request id is kept for resume. */
export class PollDeadlineExceeded extends Data.TaggedError("PollDeadlineExceeded")<{
  readonly requestId: string
  /** how long polling was given */
  readonly after: Duration.Duration
  readonly byRun: boolean
}> {
  override get message() {
    return this.byRun
      ? `the run's deadline passed while it was in flight; request ${this.requestId} can still be resumed`
      : `no end within ${Duration.format(this.after)} of submission; request ${this.requestId} can still be resumed`
  }
}

/** What was wrong with a downloaded video file: it is worth fetching again. */
export type DownloadProblem = Data.TaggedEnum<{
  /** the stream ended before Content-Length bytes arrived */
  Truncated: { readonly received: number; readonly expected: number }
  NotPlayable: { readonly reason: string }
  NotWritten: { readonly file: string; readonly reason: string }
}>
export const DownloadProblem = Data.taggedEnum<DownloadProblem>()

/** The video stream ended before Content-Length bytes arrived, or failed a check. */
export class DownloadInvalid extends Data.TaggedError("DownloadInvalid")<{
  readonly url: string
  readonly problem: DownloadProblem
}> {
  override get message() {
    return DownloadProblem.$match(this.problem, {
      Truncated: ({ expected, received }) => `got ${received} of ${expected} bytes (connection closed early)`,
      NotPlayable: ({ reason }) => `not a playable MP4: ${reason}`,
      NotWritten: ({ file, reason }) => `could not write ${file}: ${reason}`
    })
  }
}

/**
 * The submit was sent but its answer does not say whether the API took it
 * (and will bill it): the answer was lost, or a gateway's 5xx or an
 * unreadable 2xx came instead. The job is held, not sent again blindly.
 */
export class SubmitUncertain extends Data.TaggedError("SubmitUncertain")<{
  /** what came instead of an answer */
  readonly cause: TransportError | ServerError | UnexpectedResponse
}> {
  override get message() {
    const { cause } = this
    const held = "not re-sent, to avoid paying twice"
    if (cause._tag === "TransportError") {
      return `the submit was sent but its answer was lost (${cause.message}); ${held}`
    }
    const said = cause.message === `HTTP ${cause.httpStatus}` ? "" : ` (${cause.message})`
    return `the submit was sent but the answer was HTTP ${cause.httpStatus}${said}, which does not say whether the API took it; ${held}`
  }
}

/** A job never submitted because a fatal answer stopped the run first. */
export class RunAborted extends Data.TaggedError("RunAborted")<{
  /** the fatal answer that stopped the run */
  readonly stoppedBy: ErrorRecord
}> {
  override get message() {
    return `not submitted: the run stopped on ${this.stoppedBy.tag}`
  }
}

/**
 * A whole, playable video that is not what was asked for (duration, audio).
 * Downloading again would not change it; the file is kept under `rejected/`.
 */
export class VideoMismatch extends Data.TaggedError("VideoMismatch")<{
  readonly url: string
  readonly keptAt: string
  /** what differs from the request */
  readonly reason: string
}> {
  override get message() {
    return `${this.reason}; kept at ${this.keptAt}`
  }
}

/** The run's own deadline (`--deadline`) passed before this job was submitted. */
export class RunDeadlineReached extends Data.TaggedError("RunDeadlineReached") {
  override get message() {
    return "not submitted: the run's deadline had passed"
  }
}
