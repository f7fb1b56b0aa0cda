import { Data } from "effect"

/** The job did not end before its per-job deadline; its request id is kept for resume. */
export class PollDeadlineExceeded extends Data.TaggedError("PollDeadlineExceeded")<{
  readonly requestId: string
  readonly message: string
}> {}

/** The video stream ended before Content-Length bytes arrived, or failed a check. */
export class DownloadInvalid extends Data.TaggedError("DownloadInvalid")<{
  readonly url: string
  readonly message: string
}> {}

/**
 * The submit was sent but its answer was lost: the server may have queued
 * (and will bill) it, so it is not sent again blindly.
 */
export class SubmitUncertain extends Data.TaggedError("SubmitUncertain")<{
  readonly message: string
}> {}

/** A job never submitted because a fatal answer stopped the run first. */
export class RunAborted extends Data.TaggedError("RunAborted")<{
  readonly message: string
}> {}

/**
 * A whole, playable video that is not what was asked for (duration, audio).
 * Downloading again would not change it; the file is kept under `rejected/`.
 */
export class VideoMismatch extends Data.TaggedError("VideoMismatch")<{
  readonly url: string
  readonly keptAt: string
  readonly message: string
}> {}

/** The run's own deadline (`--deadline`) passed before this job was submitted. */
export class RunDeadlineReached extends Data.TaggedError("RunDeadlineReached")<{
  readonly message: string
}> {}
