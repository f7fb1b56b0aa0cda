import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { RequestBudget, withBudget } from "../../src/pipeline/RequestBudget.js"
import { RateLimited } from "../../src/segmind/SegmindErrors.js"

/** Starts `count` callers that each take one slot and record when they got it. */
const takeTimes = (budget: RequestBudget["Type"], count: number) =>
  Effect.gen(function*() {
    const times = yield* Ref.make<Array<number>>([])
    const fiber = yield* Effect.forkAll(
      Array.from({ length: count }, () =>
        budget.take.pipe(
          Effect.zipRight(Clock.currentTimeMillis),
          Effect.flatMap((t) => Ref.update(times, (ts) => [...ts, t]))
        ))
    )
    return { times, fiber }
  })

describe("RequestBudget", () => {
  it.effect("spaces calls evenly so a minute never holds more than rpm calls", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(60)
      const { fiber, times } = yield* takeTimes(budget, 5)
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(times)).toEqual([0, 1000, 2000, 3000, 4000])
    }))

  it.effect("a 429 with Retry-After holds back every caller, not only the one that saw it", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(600)
      const rateLimited = new RateLimited({
        retryAfter: Option.some(Duration.seconds(2)),
        detail: "Rate limit exceeded"
      })
      // One call answers 429: the gate closes for two seconds.
      yield* Effect.either(withBudget(budget, Duration.seconds(1))(Effect.fail(rateLimited)))
      const { fiber, times } = yield* takeTimes(budget, 3)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(fiber)
      const seen = yield* Ref.get(times)
      expect(seen).toHaveLength(3)
      expect(Math.min(...seen)).toBeGreaterThanOrEqual(2000)
    }))

  it.effect("a caller already waiting for its slot when the gate closes waits for the gate too", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(6) // one slot every 10 s
      yield* budget.take // slot at 0
      const { fiber, times } = yield* takeTimes(budget, 1) // reserved for 10 s
      yield* TestClock.adjust(Duration.seconds(5))
      yield* budget.pause(Duration.seconds(20)) // closed until 25 s
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(fiber)
      expect((yield* Ref.get(times))[0]).toBeGreaterThanOrEqual(25_000)
    }))

  it.effect("with 500 jobs polling, the run stays under its rate and submissions still get their slots", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(60)
      const log = yield* Ref.make<Array<{ readonly at: number; readonly kind: "poll" | "submit" }>>([])
      const record = (kind: "poll" | "submit") =>
        Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(log, (entries) => [...entries, { at, kind }]))
      const pollers = yield* Effect.forkAll(
        Array.from({ length: 500 }, () => budget.takePoll.pipe(Effect.zipRight(record("poll"))))
      )
      yield* TestClock.adjust(Duration.seconds(1))
      const submits = yield* Effect.forkAll(
        Array.from({ length: 10 }, () => budget.take.pipe(Effect.zipRight(record("submit"))))
      )
      yield* TestClock.adjust(Duration.minutes(20))
      yield* Fiber.join(pollers)
      yield* Fiber.join(submits)
      const entries = yield* Ref.get(log)
      expect(entries).toHaveLength(510)
      // No 60 s window holds more than 60 calls.
      const times = entries.map((e) => e.at).sort((a, b) => a - b)
      for (let i = 60; i < times.length; i++) expect(times[i]! - times[i - 60]!).toBeGreaterThanOrEqual(60_000)
      // The 10 submits, queued behind 500 polls, all went out within the first minute.
      const submitTimes = entries.filter((e) => e.kind === "submit").map((e) => e.at)
      expect(Math.max(...submitTimes)).toBeLessThan(60_000)
    }))
})
