import type { HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"
import { TransportError } from "./SegmindErrors.js"

/** What RFC 9110 allows in a field value: tab, visible ASCII, space, obs-text; no CR, LF or other controls. */
const UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/

/**
 * Refuses a request whose header an HTTP client would refuse: it is known
 * never to have left, so a submit stays safe to send again. The value (a
 * key) is never quoted.
 */
export const refuseUnsendableHeaders = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<void, TransportError> => {
  const bad = Object.entries(request.headers).find(([, value]) => UNSENDABLE.test(value))
  return bad === undefined
    ? Effect.void
    : Effect.fail(
      new TransportError({
        url: request.url,
        requestSent: false,
        code: undefined,
        detail: `the ${
          bad[0]
        } header holds a line break or another control character, which no HTTP client sends: not sent`
      })
    )
}
