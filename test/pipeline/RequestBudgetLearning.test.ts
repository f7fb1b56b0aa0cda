import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Layer, Redacted, Ref, TestClock } from "effect"
import { RequestBudget, withBudget } from "../../src/pipeline/RequestBudget.js"
import { SegmindClient } from "../../src/segmind/SegmindClient.js"
import { layerSegmindConfig } from "../../src/segmind/SegmindConfig.js"

const BASE = "https://api.test"
const submission = {
  requestId: "2c7f59ea-1111-2222-3333-444455556666",
  statusUrl: `${BASE}/v2/requests/2c7f59ea-1111-2222-3333-444455556666/status`,
  responseUrl: `${BASE}/v2/requests/2c7f59ea-1111-2222-3333-444455556666`
}

/** A client whose every call is answered 429 with only `headers` to say when to come back. */
const rateLimitedClient = (headers: Record<string, string>) =>
  SegmindClient.Default.pipe(
    Layer.provide(Layer.succeed(
      HttpClient.HttpClient,
      HttpClient.make((request) =>
        Effect.succeed(HttpClientResponse.fromWeb(
          request,
          new Response(JSON.stringify({ error: "Rate limit exceeded" }), {
            status: 429,
            headers: { "content-type": "application/json", ...headers }
          })
        ))
      )
    )),
    Layer.provide(layerSegmindConfig({ baseUrl: BASE, apiKey: Redacted.make("SG_0123456789abcdef") }))
  )

/** One status poll that the server answers 429, through the budget; then `count` submits, each logged when granted. */
const afterOne429 = (headers: Record<string, string>, count: number) =>
  Effect.gen(function*() {
    const budget = yield* RequestBudget.make(6)
    const client = yield* SegmindClient
    yield* Effect.either(withBudget(budget, Duration.seconds(1), "poll")(client.status(submission)))
    const granted = yield* Ref.make<Array<number>>([])
    const fiber = yield* Effect.forkAll(Array.from({ length: count }, () =>
      budget.take.pipe(
        Effect.zipRight(Clock.currentTimeMillis),
        Effect.flatMap((at) => Ref.update(granted, (all) => [...all, at]))
      )))
    yield* TestClock.adjust(Duration.minutes(3))
    yield* Fiber.join(fiber)
    return yield* Ref.get(granted)
  }).pipe(Effect.provide(rateLimitedClient(headers)))

describe("what a 429 teaches the request budget", () => {
  it.scoped("x-rate-limit-reset-at-utc, where no Retry-After comes: no call of the run before that instant", () =>
    Effect.gen(function*() {
      const startMs = Date.parse("2026-11-24T12:00:00Z")
      yield* TestClock.setTime(startMs)
      const granted = yield* afterOne429({ "x-rate-limit-reset-at-utc": "2026-11-24T12:00:30Z" }, 2)
      // Then the server's window is taken as full: slots come back one per 61 s / 6.
      expect(granted.map((at) => at - startMs)).toEqual([30_000, 40_167])
    }))

  it.scoped("Retry-After wins over x-rate-limit-reset-at-utc", () =>
    Effect.gen(function*() {
      const startMs = Date.parse("2026-11-24T12:00:00Z")
      yield* TestClock.setTime(startMs)
      const granted = yield* afterOne429({
        "retry-after": "4",
        "x-rate-limit-reset-at-utc": "2026-11-24T12:00:30Z"
      }, 1)
      expect(granted.map((at) => at - startMs)).toEqual([4_000])
    }))

  it.scoped("neither header: the gate closes for the fallback wait", () =>
    Effect.gen(function*() {
      const granted = yield* afterOne429({}, 1)
      expect(granted).toEqual([1_000])
    }))
})
