import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import { Effect, Stream } from "effect"
import { UnexpectedResponse } from "./SegmindErrors.js"

/** An API answer is a few hundred bytes of JSON; a megabyte is already hostile. */
export const API_BODY_LIMIT_BYTES = 1024 * 1024

/** Enough of an error page to quote it. */
export const ERROR_PAGE_LIMIT_BYTES = 64 * 1024

const concat = (parts: ReadonlyArray<Uint8Array>, bytes: number): Uint8Array => {
  const whole = new Uint8Array(bytes)
  let offset = 0
  for (const part of parts) {
    whole.set(part, offset)
    offset += part.length
  }
  return whole
}

/**
 * An answer's body as text, read as a stream that stops (closing the
 * connection) past `limitBytes`, so a huge body never reaches memory.
 */
export const readBodyText = (
  response: HttpClientResponse.HttpClientResponse,
  limitBytes: number
): Effect.Effect<string, HttpClientError.ResponseError | UnexpectedResponse> => {
  const tooLarge = (seen: string) =>
    new UnexpectedResponse({
      url: response.request.url,
      httpStatus: response.status,
      problem: undefined,
      detail: `the answer's body is over ${limitBytes} bytes (${seen}): not read`
    })
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && declared > limitBytes) {
    return Effect.fail(tooLarge(`Content-Length ${declared}`))
  }
  return Effect.suspend(() => {
    const parts: Array<Uint8Array> = []
    let bytes = 0
    return response.stream.pipe(
      Stream.runForEach((chunk) => {
        bytes += chunk.length
        if (bytes > limitBytes) return Effect.fail(tooLarge(`stopped after ${bytes} bytes`))
        parts.push(chunk)
        return Effect.void
      }),
      Effect.map(() => new TextDecoder().decode(concat(parts, bytes)))
    )
  })
}

/** The start of an error page, for its message; never fails, never reads past `ERROR_PAGE_LIMIT_BYTES`. */
export const readErrorPage = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<string> =>
  readBodyText(response, ERROR_PAGE_LIMIT_BYTES).pipe(Effect.orElseSucceed(() => ""))
