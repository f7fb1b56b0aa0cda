import { Data, type Duration, type Option } from "effect"

/**
 * One tagged error per cause, after the error table of segmind-v2-api.md;
 * `pipeline/FailureClass.ts` says which are transient, permanent for a job, or fatal.
 * The server's own text is `detail`; each message is derived from the fields.
 */

const tagWords = (tag: string) => tag.replace(/([a-z])([A-Z])/g, "$1 $2")

const leadingEcho = (words: string) =>
  new RegExp(`^(?:HTTP\\s*)?(?:\\d{3}\\s+)?${words.trim().split(/\s+/).join("\\s*")}\\s*(?:[:.,;!\\-–—]+\\s*|$)`, "i")

/** The server's text without a leading repeat of the tag, so a `tag: message` line never says it twice. */
const serverWords = (tag: string, detail: string, ...echoes: ReadonlyArray<string>): string =>
  [tagWords(tag), ...echoes].reduce((text, words) => text.replace(leadingEcho(words), ""), detail.trim()).trim()

/** 400: the body's parameters were rejected. */
export class BadRequest extends Data.TaggedError("BadRequest")<{
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || "the API refused the request's parameters"
  }
}

/** 401: missing or invalid API key. */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail, "unauthorised") || "the API key is missing or invalid"
  }
}

/** 403: the key may not use this model. */
export class Forbidden extends Data.TaggedError("Forbidden")<{
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || "the API key may not use this model"
  }
}

/** 402 or 406: the account has no credits left. */
export class InsufficientCredits extends Data.TaggedError("InsufficientCredits")<{
  readonly httpStatus: number
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || `the account has no credits left (HTTP ${this.httpStatus})`
  }
}

/** 404 on submit: the model or endpoint does not exist at this base URL. */
export class ModelNotFound extends Data.TaggedError("ModelNotFound")<{
  readonly url: string
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || `no model or endpoint at ${this.url}`
  }
}

/**
 * 404 after submission: the request id is unknown or its hour has passed;
 * without a request id, the storage host no longer serves the video at `url`.
 */
export class ResultExpired extends Data.TaggedError("ResultExpired")<{
  readonly requestId: string | undefined
  readonly url: string
  readonly detail: string
}> {
  override get message() {
    const said = serverWords(this._tag, this.detail)
    if (this.requestId === undefined) return said ? `video no longer served: ${said}` : "video no longer served"
    return said || `request ${this.requestId} is unknown to the API or older than its hour`
  }
}

/** 405: a wrong method, which is a bug in shotlist or in the server. */
export class MethodNotAllowed extends Data.TaggedError("MethodNotAllowed")<{
  readonly url: string
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || `${this.url} does not take this method`
  }
}

/** 410: the model was retired. */
export class ModelRetired extends Data.TaggedError("ModelRetired")<{
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || "Segmind no longer serves this model"
  }
}

/** 422 or status FAILED: the generation failed, content blocks included. */
export class GenerationFailed extends Data.TaggedError("GenerationFailed")<{
  readonly requestId: string
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail, "failed") || `request ${this.requestId} ended without a reason given`
  }
}

/** 429: slow down; `retryAfter` from `Retry-After` or `x-rate-limit-reset-at-utc`. */
export class RateLimited extends Data.TaggedError("RateLimited")<{
  readonly retryAfter: Option.Option<Duration.Duration>
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || "too many API calls for the key's plan"
  }
}

/** 5xx: the server failed this time. */
export class ServerError extends Data.TaggedError("ServerError")<{
  readonly httpStatus: number
  readonly detail: string
}> {
  override get message() {
    return serverWords(this._tag, this.detail) || `HTTP ${this.httpStatus}`
  }
}

/**
 * The request did not get an answer. `requestSent` is false only where the
 * connection was never made, so a submit can safely be sent again.
 */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly url: string
  readonly requestSent: boolean
  /** the system's error code (ECONNREFUSED, UND_ERR_SOCKET…), when there is one */
  readonly code: string | undefined
  /** what the connection said, or how long shotlist waited */
  readonly detail: string
}> {
  override get message() {
    return this.code === undefined ? this.detail : `${this.code}: ${this.detail}`
  }
}

/** An answer shotlist cannot read: an undocumented status code or body. */
export class UnexpectedResponse extends Data.TaggedError("UnexpectedResponse")<{
  readonly url: string
  readonly httpStatus: number
  /** what the answer lacked, when its status was a documented one */
  readonly problem: string | undefined
  readonly detail: string
}> {
  override get message() {
    const said = serverWords(this._tag, this.detail)
    return this.problem === undefined
      ? said || `HTTP ${this.httpStatus}`
      : `${this.problem}: ${said || "empty body"}`
  }
}

/** A COMPLETED result that names no video URL under any known key. */
export class NoVideoUrl extends Data.TaggedError("NoVideoUrl")<{
  readonly requestId: string
}> {
  override get message() {
    return `the result of ${this.requestId} names no video URL (looked at output, video.url, video_url, url)`
  }
}

/** A local frame could not be read, or the upload endpoint returned no URL for it. */
export class UploadFailed extends Data.TaggedError("UploadFailed")<{
  readonly reason: "FrameUnreadable" | "NoFileUrl"
  /** which frame: its file as the manifest names it, or whose frame it is, when known */
  readonly frame: string | undefined
  readonly detail: string
}> {
  override get message() {
    return this.reason === "FrameUnreadable"
      ? `cannot read ${this.frame ?? "a frame"}: ${this.detail}`
      : `upload answered no file URL: ${this.detail || "empty body"}`
  }
}

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
