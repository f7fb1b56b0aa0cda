import { HttpClient, HttpClientError } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted } from "effect"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { SegmindClient } from "../../src/segmind/SegmindClient.js"
import { apiKeyConfig, layerSegmindConfig } from "../../src/segmind/SegmindConfig.js"
import { fakeSegmindApi, oneShotManifest, undiciClient } from "../support/FakeSegmindApi.js"
import { nodeContext, renderManifest, TEST_KEY } from "../support/TestRun.js"

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

const submitWithKey = (baseUrl: string, key: string) =>
  Effect.flatMap(SegmindClient, (client) => Effect.either(client.submit(params))).pipe(
    Effect.provide(undiciClient({ baseUrl, apiKey: Redacted.make(key) }))
  )

describe("the API key as read and as sent", () => {
  it.effect.each([`${TEST_KEY}\n`, `${TEST_KEY}\r\n`, `  ${TEST_KEY}\t`])(
    "SEGMIND_API_KEY=%j is read without its surrounding whitespace",
    (value) =>
      Effect.gen(function*() {
        const key = yield* apiKeyConfig
        expect(Redacted.value(key)).toBe(TEST_KEY)
      }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["SEGMIND_API_KEY", value]]))))
  )

  it.scopedLive("a key with a trailing newline (a secret file's) is sent without it and the submit is accepted", () =>
    Effect.gen(function*() {
      const api = yield* fakeSegmindApi({ durationSeconds: 4, audio: false })
      const result = yield* submitWithKey(api.url, `${TEST_KEY}\n`)
      expect(Either.isRight(result) && result.right.requestId).toBe("req-1")
      expect(api.seen.map((request) => request.headers["x-api-key"])).toEqual([TEST_KEY])
    }))

  it.scopedLive.each(
    [["an inner newline", "SG_0123\n456789abcdef"], [
      "a control character",
      "SG_0123\u0001456789abcdef"
    ]] as const
  )(
    "a key with %s is never sent: the submit fails as not sent, not as uncertain",
    ([, key]) =>
      Effect.gen(function*() {
        const api = yield* fakeSegmindApi({ durationSeconds: 4, audio: false })
        const result = yield* submitWithKey(api.url, key)
        expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "TransportError", requestSent: false })
        expect(Either.isLeft(result) && result.left.message).toMatch(/x-api-key/)
        expect(Either.isLeft(result) && result.left.message).not.toContain("456789")
        expect(api.seen).toEqual([])
      })
  )

  it.effect("an argument undici refuses before connecting (UND_ERR_INVALID_ARG) is known not to have been sent", () =>
    Effect.gen(function*() {
      const refusing = HttpClient.make((request) =>
        Effect.fail(
          new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause: Object.assign(new Error("invalid x-api-key header"), { code: "UND_ERR_INVALID_ARG" })
          })
        )
      )
      const result = yield* Effect.flatMap(SegmindClient, (client) => Effect.either(client.submit(params))).pipe(
        Effect.provide(
          SegmindClient.Default.pipe(
            Layer.provide(Layer.succeed(HttpClient.HttpClient, refusing)),
            Layer.provide(layerSegmindConfig({ baseUrl: "https://api.test", apiKey: Redacted.make(TEST_KEY) }))
          )
        )
      )
      expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "TransportError", requestSent: false })
    }))

  it.scopedLive("a run with a key the HTTP client refuses reports its job as not submitted, never as an uncertain submit", () =>
    Effect.gen(function*() {
      const api = yield* fakeSegmindApi({ durationSeconds: 4, audio: false })
      const { report } = yield* renderManifest(yield* oneShotManifest, api.url, { apiKey: "SG_0123\n456789abcdef" })
      expect(report.summary).toMatchObject({ total: 1, completed: 0, failed: 1 })
      expect(report.jobs[0]?.error?.tag).toBe("TransportError")
      expect(report.jobs[0]?.requestId).toBeUndefined()
      expect(api.seen).toEqual([])
    }).pipe(Effect.provide(nodeContext)))
})
