import type { PlatformError } from "@effect/platform/Error"
import { Duration } from "effect"
import type { ErrorRecord } from "../domain/JobReport.js"
import type {
  SegmindError,
  ServerError,
  SubmitError,
  TransportError,
  UnexpectedResponse
} from "../segmind/SegmindErrors.js"
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

/** A submit may be sent again only where the API certainly did not take it: 429, 503, a connection never made. */
export const isSafeToResubmit = (error: JobError): boolean =>
  error._tag === "RateLimited" ||
  (error._tag === "ServerError" && error.httpStatus === 503) ||
  (error._tag === "TransportError" && !error.requestSent)

const isSuccessStatus = (httpStatus: number) => httpStatus >= 200 && httpStatus <= 299

/**
 * Answers to a sent submit that leave open whether the API took (and bills)
 * it: none, a 5xx other than 503 (a gateway may have passed the body on), or
 * a 2xx that cannot be read.
 */
export const leavesSubmitUncertain = (
  error: SubmitError
): error is TransportError | ServerError | UnexpectedResponse =>
  (error._tag === "TransportError" && error.requestSent) ||
  (error._tag === "ServerError" && error.httpStatus !== 503) ||
  (error._tag === "UnexpectedResponse" && isSuccessStatus(error.httpStatus))

/** How soon after a submit the API may not know the request yet: a 404 then is asked again. */
export const EARLY_NOT_FOUND = Duration.minutes(1)

/**
 * An answer about an accepted request that may not be the API's own: a 2xx
 * that cannot be read (a proxy's page), or a 404 within a minute of the
 * submit. Asking again costs nothing, so it is asked again a few times.
 */
export const isDoubtfulAnswer = (sinceSubmitMs: number) => (error: JobError): boolean =>
  (error._tag === "UnexpectedResponse" && isSuccessStatus(error.httpStatus)) ||
  (error._tag === "ResultExpired" && sinceSubmitMs < Duration.toMillis(EARLY_NOT_FOUND))

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
