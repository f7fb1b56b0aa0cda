import { HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Option, Schema } from "effect"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import { makeApiOriginGuard } from "./ApiOrigin.js"
import { API_BODY_LIMIT_BYTES, readBodyText } from "./BodyLimit.js"
import { refuseUnsendableHeaders } from "./HeaderCheck.js"
import { retryAfterFrom } from "./RetryAfter.js"
import { apiKeyHeader, SegmindConfig } from "./SegmindConfig.js"
import {
  type ApiCallError,
  BadRequest,
  Forbidden,
  GenerationFailed,
  InsufficientCredits,
  MethodNotAllowed,
  ModelNotFound,
  ModelRetired,
  NoVideoUrl,
  RateLimited,
  type ResultError,
  ResultExpired,
  ServerError,
  type StatusError,
  type SubmitError,
  TransportError,
  Unauthorized,
  UnexpectedResponse,
  type UploadError,
  UploadFailed
} from "./SegmindErrors.js"
import { makeStorageDownload } from "./StorageDownload.js"
import { findVideoUrl } from "./VideoUrl.js"
import {
  ErrorBody,
  type Metrics,
  ResultResponse,
  StatusResponse,
  SubmitResponse,
  UploadResponse
} from "./WireSchemas.js"

/** An accepted submission: what is needed to follow it to its end. */
export interface Submission {
  readonly requestId: string
  readonly statusUrl: string
  readonly responseUrl: string
}

export interface StatusAnswer {
  readonly status: "QUEUED" | "PROCESSING" | "COMPLETED"
  readonly metrics: Metrics
}

export interface CompletedResult {
  readonly videoUrl: string
  readonly metrics: Metrics
}

/**
 * The result URL asked before the job is known to be done: still running, the
 * result itself, or `Unrecognised`, an answer that is neither and says nothing
 * about the request (what it `answered`, for the log).
 */
export type ResultOrPending =
  | { readonly _tag: "Pending"; readonly answer: StatusAnswer }
  | { readonly _tag: "Done"; readonly result: CompletedResult }
  | { readonly _tag: "Unrecognised"; readonly answered: string }

export type { StorageDownloadError, VideoDownload } from "./StorageDownload.js"

/** Connection errors that prove the request never reached the server. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  // undici refuses a bad argument (a header value with a newline) before it connects
  "UND_ERR_INVALID_ARG"
])

const causeCode = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

const transportError = (url: string, error: HttpClientError.HttpClientError): TransportError => {
  const code = causeCode(error.cause)
  return new TransportError({
    url,
    requestSent: error._tag === "ResponseError" || code === undefined || !NOT_SENT_CODES.has(code),
    code,
    detail: error.cause instanceof Error ? error.cause.message : error.message
  })
}

const MAX_DETAIL = 500

/**
 * Videos streamed at once by a run: a few saturate a link, and each stream
 * in flight holds socket buffers until the garbage collector frees them.
 */
export const DOWNLOADS_AT_ONCE = 8

const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

const decodeErrorBody = Schema.decodeUnknownOption(ErrorBody)

/** `{"error": …}` when the body is JSON, else the raw text (some answers are HTML); empty when the body says nothing. */
const detailOf = (text: string): string => {
  const trimmed = text.trim()
  const body = Option.flatMap(parseJson(trimmed), decodeErrorBody)
  if (Option.isSome(body)) {
    for (const value of [body.value.error, body.value.detail, body.value.message]) {
      if (typeof value === "string" && value.length > 0) return value
      if (value !== undefined && value !== null) return JSON.stringify(value).slice(0, MAX_DETAIL)
    }
  }
  return trimmed.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, MAX_DETAIL)
}

/** The error table of segmind-v2-api.md, in one place; a 404 means what the caller says. */
const errorForStatus = <E404>(
  url: string,
  response: HttpClientResponse.HttpClientResponse,
  text: string,
  nowMs: number,
  notFound: (detail: string) => E404
): ApiCallError | E404 => {
  const httpStatus = response.status
  const detail = detailOf(text)
  switch (httpStatus) {
    case 400:
      return new BadRequest({ detail })
    case 401:
      return new Unauthorized({ detail })
    case 402:
    case 406:
      return new InsufficientCredits({ httpStatus, detail })
    case 403:
      return new Forbidden({ detail })
    case 404:
      return notFound(detail)
    case 405:
      return new MethodNotAllowed({ url, detail })
    case 410:
      return new ModelRetired({ detail })
    case 429:
      return new RateLimited({ retryAfter: retryAfterFrom(response.headers, nowMs), detail })
    default:
      return httpStatus >= 500 && httpStatus <= 599
        ? new ServerError({ httpStatus, detail })
        : new UnexpectedResponse({ url, httpStatus, problem: undefined, detail })
  }
}

const decodeStatus = Schema.decodeUnknownOption(StatusResponse)
const decodeResult = Schema.decodeUnknownOption(ResultResponse)
const decodeSubmit = Schema.decodeUnknownOption(SubmitResponse)
const decodeUpload = Schema.decodeUnknownOption(UploadResponse)

/**
 * Segmind's async (v2) API: submit, status, result, upload, and the download
 * of a finished video from its storage host (which gets no API key).
 */
export class SegmindClient extends Effect.Service<SegmindClient>()("shotlist/SegmindClient", {
  effect: Effect.gen(function*() {
    const config = yield* SegmindConfig
    const http = yield* HttpClient.HttpClient
    // Every API call carries the key and asks for JSON; the storage host (download) gets neither.
    const api = http.pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.setHeader("x-api-key", apiKeyHeader(config.apiKey)),
          HttpClientRequest.acceptJson
        )
      )
    )

    /** Sends one call and reads its whole body as text; `ok` decides which statuses are answers. */
    const call = <E404>(
      request: HttpClientRequest.HttpClientRequest,
      notFound: (detail: string) => E404,
      ok: (status: number) => boolean
    ): Effect.Effect<{ readonly status: number; readonly text: string }, ApiCallError | E404> =>
      Effect.gen(function*() {
        yield* refuseUnsendableHeaders(request)
        const { response, text } = yield* api.execute(request).pipe(
          Effect.flatMap((response) =>
            Effect.map(readBodyText(response, API_BODY_LIMIT_BYTES), (text) => ({ response, text }))
          ),
          Effect.scoped,
          Effect.mapError((error) => error._tag === "UnexpectedResponse" ? error : transportError(request.url, error))
        )
        if (ok(response.status)) return { status: response.status, text }
        const nowMs = yield* Clock.currentTimeMillis
        return yield* Effect.fail(errorForStatus(request.url, response, text, nowMs, notFound))
      }).pipe(
        Effect.timeoutFail({
          duration: config.requestTimeoutMs,
          onTimeout: () =>
            new TransportError({
              url: request.url,
              requestSent: true,
              code: undefined,
              detail: `no answer within ${config.requestTimeoutMs} ms`
            })
        })
      )

    const unexpected = (url: string, httpStatus: number, problem: string, text: string) =>
      new UnexpectedResponse({ url, httpStatus, problem, detail: detailOf(text) })

    const expired = (submission: Submission, url: string) => (detail: string) =>
      new ResultExpired({ requestId: submission.requestId, url, detail })

    const failed = (submission: Submission, detail: string) =>
      new GenerationFailed({ requestId: submission.requestId, detail })

    const submitUrl = `${config.baseUrl}/v2/${config.model}`
    const onApiOrigin = makeApiOriginGuard(config.baseUrl)

    const submit = (params: SeedanceParams): Effect.Effect<Submission, SubmitError> =>
      call(
        HttpClientRequest.post(submitUrl).pipe(HttpClientRequest.bodyUnsafeJson(params)),
        (detail) => new ModelNotFound({ url: submitUrl, detail }),
        (s) => s === 200 || s === 201 || s === 202
      ).pipe(
        Effect.flatMap(({ status, text }) =>
          Option.match(Option.flatMap(parseJson(text), decodeSubmit), {
            onNone: () =>
              Effect.fail(
                unexpected(submitUrl, status, "submit answer without request_id/status_url/response_url", text)
              ),
            onSome: (body) =>
              onApiOrigin<Submission>({
                requestId: body.request_id,
                statusUrl: body.status_url,
                responseUrl: body.response_url
              })
          })
        ),
        Effect.withSpan("SegmindClient.submit")
      )

    /** 200 while the job lives; FAILED comes as 422 but the body decides. */
    const statusAt = (submission: Submission): Effect.Effect<StatusAnswer, StatusError> =>
      call(
        HttpClientRequest.get(submission.statusUrl),
        expired(submission, submission.statusUrl),
        (s) => s === 200 || s === 422
      ).pipe(
        Effect.flatMap(
          ({ status: httpStatus, text }): Effect.Effect<StatusAnswer, GenerationFailed | UnexpectedResponse> => {
            const body = Option.flatMap(parseJson(text), decodeStatus)
            if (Option.isNone(body)) {
              return httpStatus === 422
                ? Effect.fail(failed(submission, detailOf(text)))
                : Effect.fail(
                  unexpected(submission.statusUrl, httpStatus, "status answer without a known status", text)
                )
            }
            const answer = body.value
            if (answer.status === "FAILED" || httpStatus === 422) {
              return Effect.fail(failed(submission, answer.error ?? detailOf(text)))
            }
            return Effect.succeed<StatusAnswer>({ status: answer.status, metrics: answer.metrics ?? {} })
          }
        ),
        Effect.withSpan("SegmindClient.status")
      )

    const status = (submission: Submission): Effect.Effect<StatusAnswer, StatusError> =>
      Effect.flatMap(onApiOrigin(submission), statusAt)

    /** A result answer read: the video URL and metrics, or why there is none. */
    const resultFrom = (
      submission: Submission,
      httpStatus: number,
      text: string
    ): Effect.Effect<CompletedResult, GenerationFailed | UnexpectedResponse | NoVideoUrl> => {
      const body = Option.flatMap(parseJson(text), decodeResult)
      if (httpStatus === 422 || (Option.isSome(body) && body.value.status === "FAILED")) {
        const said = Option.flatMap(body, (b) => Option.fromNullable(b.error))
        return Effect.fail(failed(submission, Option.getOrElse(said, () => detailOf(text))))
      }
      if (Option.isNone(body)) {
        return Effect.fail(unexpected(submission.responseUrl, httpStatus, "result answer without a status", text))
      }
      return Option.match(findVideoUrl(body.value), {
        onNone: () => Effect.fail(new NoVideoUrl({ requestId: submission.requestId })),
        onSome: (videoUrl) => Effect.succeed<CompletedResult>({ videoUrl, metrics: body.value.metrics ?? {} })
      })
    }

    const resultAt = (submission: Submission): Effect.Effect<CompletedResult, ResultError> =>
      call(
        HttpClientRequest.get(submission.responseUrl),
        expired(submission, submission.responseUrl),
        (s) => s === 200 || s === 422
      ).pipe(
        Effect.flatMap(({ status: httpStatus, text }) => resultFrom(submission, httpStatus, text)),
        Effect.withSpan("SegmindClient.result")
      )

    const result = (submission: Submission): Effect.Effect<CompletedResult, ResultError> =>
      Effect.flatMap(onApiOrigin(submission), resultAt)

    const unrecognised = (answered: string): ResultOrPending => ({ _tag: "Unrecognised", answered })

    /** A poll answer of the result URL read: only the shapes that cannot be misread count. */
    const pollAnswerFrom = (
      submission: Submission,
      httpStatus: number,
      text: string
    ): Effect.Effect<ResultOrPending, GenerationFailed> => {
      const body = Option.flatMap(parseJson(text), decodeResult)
      const said = detailOf(text).slice(0, 80)
      const http = `HTTP ${httpStatus}${said.length > 0 ? ` (${said})` : ""}`
      if (Option.isNone(body)) return Effect.succeed(unrecognised(`${http}, without a known status`))
      const { error, metrics, status } = body.value
      // FAILED is served as 422 on both URLs (documented); a FAILED 200 is left to the status URL.
      if (httpStatus === 422 && status === "FAILED") return Effect.fail(failed(submission, error ?? detailOf(text)))
      if (httpStatus !== 200) return Effect.succeed(unrecognised(http))
      const videoUrl = findVideoUrl(body.value)
      if ((status === "QUEUED" || status === "PROCESSING") && Option.isNone(videoUrl)) {
        return Effect.succeed({ _tag: "Pending", answer: { status, metrics: metrics ?? {} } })
      }
      if (status === "COMPLETED" && Option.isSome(videoUrl)) {
        return Effect.succeed({ _tag: "Done", result: { videoUrl: videoUrl.value, metrics: metrics ?? {} } })
      }
      return Effect.succeed(
        unrecognised(`HTTP 200, ${status} ${Option.isSome(videoUrl) ? "with" : "without"} a video URL`)
      )
    }

    /**
     * The result URL polled as a status URL (undocumented): a 200 that says
     * QUEUED or PROCESSING and names no video is "not yet"; COMPLETED with a
     * video is the result, with no separate fetch; a 422 FAILED is the
     * request's failure; a 429 is a 429. Any other answer, a lost connection
     * included, is `Unrecognised`: never read as the request expired or failed.
     */
    const resultOrPendingAt = (
      submission: Submission
    ): Effect.Effect<ResultOrPending, RateLimited | GenerationFailed> =>
      call(
        HttpClientRequest.get(submission.responseUrl),
        expired(submission, submission.responseUrl),
        (s) => s !== 429
      ).pipe(
        Effect.flatMap(({ status: httpStatus, text }) => pollAnswerFrom(submission, httpStatus, text)),
        Effect.catchIf(
          (error) => error._tag !== "RateLimited" && error._tag !== "GenerationFailed",
          (error) => Effect.succeed(unrecognised(`no usable answer: ${error.message}`))
        ),
        Effect.withSpan("SegmindClient.resultOrPending")
      )

    const resultOrPending = (
      submission: Submission
    ): Effect.Effect<ResultOrPending, RateLimited | GenerationFailed> =>
      Effect.flatMap(onApiOrigin(submission), resultOrPendingAt)

    /** Uploads one image given as a data URI; answers the URL to send as a frame. */
    const upload = (dataUrl: string): Effect.Effect<string, UploadError> =>
      call(
        HttpClientRequest.post(config.uploadUrl).pipe(HttpClientRequest.bodyUnsafeJson({ data_urls: [dataUrl] })),
        (detail) => new ModelNotFound({ url: config.uploadUrl, detail }),
        (s) => s === 200 || s === 201
      ).pipe(
        Effect.flatMap(({ text }) => {
          const body = Option.flatMap(parseJson(text), decodeUpload)
          const url = Option.flatMap(body, (b) => Option.fromNullable((b.file_urls ?? b.urls ?? [])[0]))
          return Option.match(url, {
            onNone: () =>
              Effect.fail(new UploadFailed({ reason: "NoFileUrl", frame: undefined, detail: detailOf(text) })),
            onSome: Effect.succeed
          })
        }),
        Effect.withSpan("SegmindClient.upload")
      )

    const openVideo = makeStorageDownload({
      http,
      idleTimeoutMs: config.downloadIdleTimeoutMs,
      transportError,
      detailOf
    })
    const downloadSlots = yield* Effect.makeSemaphore(DOWNLOADS_AT_ONCE)
    /**
     * Opens a finished video for streaming, holding one of the run's download
     * slots while the caller's scope lasts; the storage host is not the API,
     * so no key is sent.
     */
    const download = (url: string) =>
      Effect.acquireRelease(downloadSlots.take(1), () => downloadSlots.release(1)).pipe(
        Effect.zipRight(openVideo(url))
      )

    return { submit, status, result, resultOrPending, upload, download } as const
  })
}) {}
