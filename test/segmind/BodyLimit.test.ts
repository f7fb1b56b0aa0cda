import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import type { ServerResponse } from "node:http"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { SegmindClient } from "../../src/segmind/SegmindClient.js"
import type { SegmindError } from "../../src/segmind/SegmindErrors.js"
import { undiciClient } from "../support/FakeSegmindApi.js"
import { loopbackServer, type SentCount, streamBody } from "../support/LoopbackServer.js"
import { TEST_KEY } from "../support/TestRun.js"

const MB = 1024 * 1024
const HUGE = 50 * MB

const params: SeedanceParams = {
  prompt: "A lighthouse at dusk",
  duration: 4,
  resolution: "480p",
  aspect_ratio: "16:9",
  seed: 42,
  camera_fixed: false,
  generate_audio: false,
  skip_moderation: false
}

/** `total` bytes of JSON-ish filler, with or without a Content-Length. */
const streamFiller = (response: ServerResponse, total: number, declared: boolean, sent: SentCount) => {
  response.writeHead(200, {
    "content-type": "application/json",
    ...(declared ? { "content-length": String(total) } : {})
  })
  streamBody(response, { total, fill: 0x61 }, sent)
}

const submission = (base: string) => ({
  requestId: "req-1",
  statusUrl: `${base}/v2/requests/req-1/status`,
  responseUrl: `${base}/v2/requests/req-1`
})

const calls: Record<
  "submit" | "status" | "result" | "upload",
  (client: SegmindClient, base: string) => Effect.Effect<unknown, SegmindError>
> = {
  submit: (client: SegmindClient) => client.submit(params),
  status: (client: SegmindClient, base: string) => client.status(submission(base)),
  result: (client: SegmindClient, base: string) => client.result(submission(base)),
  upload: (client: SegmindClient) => client.upload("data:image/png;base64,AA==")
}

describe("API answers are read up to 1 MiB", () => {
  it.scopedLive.each(["status", "result", "submit", "upload"] as const)(
    "a 50 MB %s answer, streamed without a length, fails fast as UnexpectedResponse after reading little of it",
    (endpoint) =>
      Effect.gen(function*() {
        const sent = { bytes: 0 }
        const api = yield* loopbackServer((_request, response) => streamFiller(response, HUGE, false, sent))
        const started = Date.now()
        const result = yield* Effect.flatMap(SegmindClient, (client) => Effect.either(calls[endpoint](client, api.url)))
          .pipe(Effect.provide(undiciClient({ baseUrl: api.url, apiKey: Redacted.make(TEST_KEY) })))
        const tookMs = Date.now() - started
        // Give the server time to notice the closed connection and stop.
        yield* Effect.sleep("300 millis")
        expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "UnexpectedResponse", httpStatus: 200 })
        expect(Either.isLeft(result) && result.left.message).toMatch(/over 1048576 bytes/)
        // What left the server is the 1 MiB read plus what the loopback socket's buffers held (~4 MB here).
        expect(sent.bytes).toBeLessThan(12 * MB)
        expect(tookMs).toBeLessThan(5000)
      })
  )

  it.scopedLive("a status answer declaring 50 MB is refused from its Content-Length, before its body is read", () =>
    Effect.gen(function*() {
      const sent = { bytes: 0 }
      const api = yield* loopbackServer((_request, response) => streamFiller(response, HUGE, true, sent))
      const result = yield* Effect.flatMap(SegmindClient, (client) => Effect.either(client.status(submission(api.url))))
        .pipe(Effect.provide(undiciClient({ baseUrl: api.url, apiKey: Redacted.make(TEST_KEY) })))
      yield* Effect.sleep("300 millis")
      expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "UnexpectedResponse", httpStatus: 200 })
      expect(Either.isLeft(result) && result.left.message).toMatch(/Content-Length 52428800/)
      expect(sent.bytes).toBeLessThan(12 * MB)
    }))

  it.scopedLive("an answer just under 1 MiB is still read", () =>
    Effect.gen(function*() {
      const padding = "x".repeat(MB - 200)
      const api = yield* loopbackServer((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(JSON.stringify({ status: "PROCESSING", request_id: "req-1", error: padding }))
      })
      const answer = yield* Effect.flatMap(SegmindClient, (client) => client.status(submission(api.url))).pipe(
        Effect.provide(undiciClient({ baseUrl: api.url, apiKey: Redacted.make(TEST_KEY) }))
      )
      expect(answer.status).toBe("PROCESSING")
    }))
})
