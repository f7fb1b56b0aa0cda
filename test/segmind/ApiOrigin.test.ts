import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { SegmindClient } from "../../src/segmind/SegmindClient.js"
import { fakeSegmindApi, oneShotManifest, undiciClient } from "../support/FakeSegmindApi.js"
import { warningsOf } from "../support/LogCapture.js"
import { answerJson, loopbackServer } from "../support/LoopbackServer.js"
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

/** A host that must never be asked anything: it would gladly answer COMPLETED. */
const otherOrigin = loopbackServer((_request, response) => answerJson(response, 200, { status: "COMPLETED" }))

describe("the API key goes only to the configured API origin", () => {
  it.scopedLive("a submit answer naming another origin: status and result are asked on the configured base, the other host gets nothing", () =>
    Effect.gen(function*() {
      const other = yield* otherOrigin
      const api = yield* fakeSegmindApi({ followUpOrigin: () => other.url, durationSeconds: 4, audio: false })
      const { value: videoUrl, warnings } = yield* warningsOf(
        Effect.gen(function*() {
          const client = yield* SegmindClient
          const submission = yield* client.submit(params)
          expect(submission).toEqual({
            requestId: "req-1",
            statusUrl: `${api.url}/v2/requests/req-1/status`,
            responseUrl: `${api.url}/v2/requests/req-1`
          })
          expect((yield* client.status(submission)).status).toBe("COMPLETED")
          return (yield* client.result(submission)).videoUrl
        }).pipe(Effect.provide(undiciClient({ baseUrl: api.url, apiKey: Redacted.make(TEST_KEY) })))
      )
      expect(videoUrl).toBe(`${api.url}/files/req-1.mp4`)
      expect(other.seen).toEqual([])
      expect(api.seen.map((request) => request.path)).toEqual([
        "/v2/seedance-1.5-pro",
        "/v2/requests/req-1/status",
        "/v2/requests/req-1"
      ])
      expect(warnings.join("\n")).toContain(other.url)
      expect(warnings.join("\n")).toContain(`${api.url}/v2/requests/req-1/status`)
    }))

  it.scopedLive("a journaled submission whose URLs were changed to another host is followed on the configured base", () =>
    Effect.gen(function*() {
      const other = yield* otherOrigin
      const api = yield* fakeSegmindApi({ durationSeconds: 4, audio: false })
      const tampered = {
        requestId: "req-7",
        statusUrl: `${other.url}/v2/requests/req-7/status`,
        responseUrl: `${other.url}/v2/requests/req-7`
      }
      const { warnings } = yield* warningsOf(
        Effect.gen(function*() {
          const client = yield* SegmindClient
          yield* client.status(tampered)
          yield* client.status(tampered)
          yield* client.result(tampered)
        }).pipe(Effect.provide(undiciClient({ baseUrl: api.url, apiKey: Redacted.make(TEST_KEY) })))
      )
      expect(other.seen).toEqual([])
      // Said once per request, not at every poll.
      expect(warnings).toHaveLength(1)
      expect(api.seen.map((request) => request.headers["x-api-key"])).toEqual([TEST_KEY, TEST_KEY, TEST_KEY])
    }))

  it.scopedLive("a run whose submit answer points at another origin still completes its job, and that origin never sees the key", () =>
    Effect.gen(function*() {
      const other = yield* otherOrigin
      const api = yield* fakeSegmindApi({ followUpOrigin: () => other.url, durationSeconds: 4, audio: false })
      const { report } = yield* renderManifest(yield* oneShotManifest, api.url)
      expect(report.summary).toMatchObject({ total: 1, completed: 1, failed: 0 })
      expect(report.jobs[0]?.output?.sourceUrl).toBe(`${api.url}/files/req-1.mp4`)
      expect(other.seen).toEqual([])
    }).pipe(Effect.provide(nodeContext)))
})
