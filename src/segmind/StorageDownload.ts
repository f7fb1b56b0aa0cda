import { HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Clock, Duration, Effect, Option, type Scope, Stream } from "effect"
import { readErrorPage } from "./BodyLimit.js"
import { retryAfterFrom } from "./RetryAfter.js"
import {
  type DownloadError,
  RateLimited,
  ResultExpired,
  ServerError,
  TransportError,
  UnexpectedResponse
} from "./SegmindErrors.js"

/** What opening a video can fail with: the download errors, and a storage host's 429. */
export type StorageDownloadError = DownloadError | RateLimited

export interface VideoDownload {
  readonly contentLength: Option.Option<number>
  readonly stream: Stream.Stream<Uint8Array, TransportError>
}

/** Redirects followed from one video URL; a sixth is an error. */
export const MAX_REDIRECTS = 5
/** Answers of 408, 429 or 5xx taken from the storage host before its error goes to the caller. */
export const STORAGE_TRIES = 5
/** The longest `Retry-After` waited here; a longer one goes to the caller's retry policy. */
const MAX_HONOURED_WAIT = Duration.minutes(1)

const REDIRECTS = new Set([301, 302, 303, 307, 308])

const isRetryable = (status: number) => status === 408 || status === 429 || (status >= 500 && status <= 599)

/** Signed URLs carry tokens in the query: logs and errors name the path only. */
const shown = (url: string) => url.replace(/[?#].*$/, "")

const backoff = (attempt: number) => Duration.millis(500 * 2 ** (attempt - 1))

export interface StorageDownloadOptions {
  readonly http: HttpClient.HttpClient
  /** the longest wait for the answer's headers and between two pieces of the body */
  readonly idleTimeoutMs: number
  readonly transportError: (url: string, error: HttpClientError.HttpClientError) => TransportError
  readonly detailOf: (text: string) => string
}

/**
 * Opens a finished video on its storage host: no API key and no tracing
 * headers go there; up to `MAX_REDIRECTS` http(s) redirects are followed;
 * 408, 429 and 5xx are tried again (honouring `Retry-After`); a silence
 * longer than the idle timeout fails the attempt as a transport error.
 */
export const makeStorageDownload = (options: StorageDownloadOptions) => {
  const storage = options.http.pipe(HttpClient.withTracerPropagation(false), HttpClient.withScope)
  const idle = Duration.millis(options.idleTimeoutMs)
  const stalled = (url: string) =>
    new TransportError({
      url: shown(url),
      requestSent: true,
      code: undefined,
      detail: `no byte from the storage host for ${options.idleTimeoutMs} ms`
    })

  const answer = (url: string) =>
    storage.execute(HttpClientRequest.get(url)).pipe(
      Effect.mapError((error) => options.transportError(shown(url), error)),
      Effect.timeoutFail({ duration: idle, onTimeout: () => stalled(url) })
    )

  const redirectRefused = (url: string, status: number, why: string) =>
    new UnexpectedResponse({
      url: shown(url),
      httpStatus: status,
      problem: undefined,
      detail: `redirect ${status} from ${shown(url)} ${why}`
    })

  /** The answer at the end of the redirects from `url`. */
  const follow = (
    url: string,
    redirects: number
  ): Effect.Effect<
    { readonly url: string; readonly response: HttpClientResponse.HttpClientResponse },
    TransportError | UnexpectedResponse,
    Scope.Scope
  > =>
    Effect.gen(function*() {
      const response = yield* answer(url)
      if (!REDIRECTS.has(response.status)) return { url, response }
      yield* readErrorPage(response)
      const location = response.headers["location"]
      if (location === undefined) return yield* Effect.fail(redirectRefused(url, response.status, "names no Location"))
      const next = URL.canParse(location, url) ? new URL(location, url) : undefined
      if (next === undefined || (next.protocol !== "http:" && next.protocol !== "https:")) {
        const target = JSON.stringify(location.slice(0, 80))
        return yield* Effect.fail(redirectRefused(url, response.status, `to ${target} refused: only http and https`))
      }
      if (redirects >= MAX_REDIRECTS) {
        return yield* Effect.fail(
          redirectRefused(
            url,
            response.status,
            `to ${shown(next.href)}: more than ${MAX_REDIRECTS} redirects, not followed`
          )
        )
      }
      return yield* follow(next.href, redirects + 1)
    })

  const opened = (url: string, response: HttpClientResponse.HttpClientResponse): VideoDownload => {
    const length = Number(response.headers["content-length"])
    return {
      contentLength: Number.isInteger(length) && length >= 0 ? Option.some(length) : Option.none(),
      stream: response.stream.pipe(
        Stream.mapError((error) => options.transportError(shown(url), error)),
        Stream.timeoutFail(() => stalled(url), idle)
      )
    }
  }

  const open = (url: string, attempt: number): Effect.Effect<VideoDownload, StorageDownloadError, Scope.Scope> =>
    Effect.gen(function*() {
      const { response, url: at } = yield* follow(url, 0)
      const status = response.status
      if (status === 200) return opened(at, response)
      const message = options.detailOf(yield* readErrorPage(response)) || `HTTP ${status}`
      if (status === 404 || status === 403 || status === 410) {
        return yield* Effect.fail(
          new ResultExpired({ requestId: undefined, url: shown(url), detail: `video no longer served: ${message}` })
        )
      }
      if (!isRetryable(status)) {
        return yield* Effect.fail(
          new UnexpectedResponse({ url: shown(at), httpStatus: status, problem: undefined, detail: message })
        )
      }
      const retryAfter = retryAfterFrom(response.headers, yield* Clock.currentTimeMillis)
      const wait = Option.getOrElse(retryAfter, () => backoff(attempt))
      if (attempt >= STORAGE_TRIES || Duration.greaterThan(wait, MAX_HONOURED_WAIT)) {
        const why = attempt >= STORAGE_TRIES
          ? `the storage host answered ${status} ${attempt} times for ${shown(url)}`
          : `the storage host answered ${status} for ${shown(url)} and asked to wait ${Duration.format(wait)}`
        return yield* Effect.fail(
          status === 429
            ? new RateLimited({ retryAfter, detail: `${why}: ${message}` })
            : new ServerError({ httpStatus: status, detail: `${why}: ${message}` })
        )
      }
      yield* Effect.logWarning(
        `the storage host answered ${status} for ${shown(url)} (${message}); trying again in ${
          Duration.format(wait)
        } (try ${attempt + 1} of ${STORAGE_TRIES})`
      )
      yield* Effect.sleep(wait)
      return yield* open(url, attempt + 1)
    })

  return (url: string): Effect.Effect<VideoDownload, StorageDownloadError, Scope.Scope> => open(url, 1)
}
