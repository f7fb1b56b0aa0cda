import type { PlatformError } from "@effect/platform/Error"
import type { ErrorRecord } from "../domain/JobReport.js"
import type { SegmindError } from "../segmind/SegmindErrors.js"
import type { DiskUnwritable } from "../store/DiskErrors.js"
import type {
  DownloadInvalid,
  PollDeadlineExceeded,
  RunAborted,
  RunDeadlineReached,
  SubmitUncertain,
  VideoMismatch
} from "./PipelineErrors.js"

export type JobError =
  | SegmindError
  | PollDeadlineExceeded
  | DownloadInvalid
  | VideoMismatch
  | SubmitUncertain
  | RunAborted
  | RunDeadlineReached
  | DiskUnwritable

/**
 * transient: retry with backoff; job: this job fails, the run goes on;
 * fatal: stop submitting, finish what is paid for, exit 3 (SPEC §7).
 */
export type FailureClass = "transient" | "job" | "fatal"

export const classify = (error: JobError): FailureClass => {
  switch (error._tag) {
    case "RateLimited":
    case "ServerError":
    case "TransportError":
    case "DownloadInvalid":
      return "transient"
    case "Unauthorized":
    case "Forbidden":
    case "InsufficientCredits":
    case "ModelRetired":
    case "DiskUnwritable":
      return "fatal"
    case "BadRequest":
    case "ModelNotFound":
    case "ResultExpired":
    case "MethodNotAllowed":
    case "GenerationFailed":
    case "UnexpectedResponse":
    case "NoVideoUrl":
    case "UploadFailed":
    case "PollDeadlineExceeded":
    case "SubmitUncertain":
    case "VideoMismatch":
    case "RunAborted":
    case "RunDeadlineReached":
      return "job"
  }
}

/** A file system error of the run's own files, not an answer about the job: it is never retried and stops the run. */
export const isPlatformError = (error: JobError | PlatformError): error is PlatformError =>
  error._tag === "SystemError" || error._tag === "BadArgument"

export const isTransient = (error: JobError): boolean => classify(error) === "transient"

/** A submit may be sent again only where the server certainly did not accept it. */
export const isSafeToResubmit = (error: JobError): boolean =>
  error._tag === "RateLimited" ||
  error._tag === "ServerError" ||
  (error._tag === "TransportError" && !error.requestSent)

export const httpStatusOf = (error: JobError): number | undefined => {
  switch (error._tag) {
    case "BadRequest":
      return 400
    case "Unauthorized":
      return 401
    case "Forbidden":
      return 403
    case "ModelNotFound":
    case "ResultExpired":
      return 404
    case "MethodNotAllowed":
      return 405
    case "ModelRetired":
      return 410
    case "GenerationFailed":
      return 422
    case "RateLimited":
      return 429
    case "InsufficientCredits":
    case "ServerError":
    case "UnexpectedResponse":
      return error.httpStatus
    default:
      return undefined
  }
}

/** The request an error is about, where the API had accepted the job. */
export const requestIdOf = (error: JobError): string | undefined => {
  switch (error._tag) {
    case "GenerationFailed":
    case "NoVideoUrl":
    case "ResultExpired":
    case "PollDeadlineExceeded":
      return error.requestId
    default:
      return undefined
  }
}

/** An error as a report and the journal keep it: enough to explain it and to classify it again. */
export const reportErrorOf = (error: JobError): ErrorRecord => {
  const httpStatus = httpStatusOf(error)
  const requestId = requestIdOf(error)
  return {
    tag: error._tag,
    message: error.message,
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...(requestId === undefined ? {} : { detail: `request ${requestId}` })
  }
}
