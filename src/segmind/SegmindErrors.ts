import { Data, type Duration, type Option } from "effect"

/**
 * One tagged error per cause, after the error table of segmind-v2-api.md.
 * `ErrorClass.ts` says which are transient, permanent for a job, or fatal.
 */

/** 400: the body's parameters were rejected. */
export class BadRequest extends Data.TaggedError("BadRequest")<{
  readonly message: string
}> {}

/** 401: missing or invalid API key. */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{
  readonly message: string
}> {}

/** 403: the key may not use this model. */
export class Forbidden extends Data.TaggedError("Forbidden")<{
  readonly message: string
}> {}

/** 402 or 406: the account has no credits left. */
export class InsufficientCredits extends Data.TaggedError("InsufficientCredits")<{
  readonly httpStatus: number
  readonly message: string
}> {}

/** 404 on submit: the model or endpoint does not exist at this base URL. */
export class ModelNotFound extends Data.TaggedError("ModelNotFound")<{
  readonly url: string
  readonly message: string
}> {}

/** 404 after submission: the request id is unknown or its hour has passed. */
export class ResultExpired extends Data.TaggedError("ResultExpired")<{
  readonly requestId: string
  readonly message: string
}> {}

/** 405: a wrong method, which is a bug in shotlist or in the server. */
export class MethodNotAllowed extends Data.TaggedError("MethodNotAllowed")<{
  readonly url: string
  readonly message: string
}> {}

/** 410: the model was retired. */
export class ModelRetired extends Data.TaggedError("ModelRetired")<{
  readonly message: string
}> {}

/** 422 or status FAILED: the generation failed, content blocks included. */
export class GenerationFailed extends Data.TaggedError("GenerationFailed")<{
  readonly requestId: string
  readonly message: string
}> {}

/** 429: slow down; `retryAfter` from `Retry-After` or `x-rate-limit-reset-at-utc`. */
export class RateLimited extends Data.TaggedError("RateLimited")<{
  readonly retryAfter: Option.Option<Duration.Duration>
  readonly message: string
}> {}

/** 5xx: the server failed this time. */
export class ServerError extends Data.TaggedError("ServerError")<{
  readonly httpStatus: number
  readonly message: string
}> {}

/**
 * The request did not get an answer. `requestSent` is false only where the
 * connection was never made, so a submit can safely be sent again.
 */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly url: string
  readonly requestSent: boolean
  readonly message: string
}> {}

/** An answer shotlist cannot read: an undocumented status code or body. */
export class UnexpectedResponse extends Data.TaggedError("UnexpectedResponse")<{
  readonly url: string
  readonly httpStatus: number
  readonly message: string
}> {}

/** A COMPLETED result that names no video URL under any known key. */
export class NoVideoUrl extends Data.TaggedError("NoVideoUrl")<{
  readonly requestId: string
  readonly message: string
}> {}

/** The upload endpoint did not return a URL for a local frame. */
export class UploadFailed extends Data.TaggedError("UploadFailed")<{
  readonly message: string
}> {}

/** Errors any keyed API call can answer with. */
export type ApiCallError =
  | BadRequest
  | Unauthorized
  | Forbidden
  | InsufficientCredits
  | MethodNotAllowed
  | ModelRetired
  | RateLimited
  | ServerError
  | TransportError
  | UnexpectedResponse

export type SubmitError = ApiCallError | ModelNotFound
export type StatusError = ApiCallError | ResultExpired | GenerationFailed
export type ResultError = StatusError | NoVideoUrl
export type UploadError = ApiCallError | ModelNotFound | UploadFailed
export type DownloadError = TransportError | ServerError | UnexpectedResponse | ResultExpired

export type SegmindError = SubmitError | ResultError | UploadError
