import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { RequestBudget, withBudget } from "../../src/pipeline/RequestBudget.js"
import { RateLimited } from "../../src/segmind/SegmindErrors.js"

/** Starts `count` callers that each take one slot and record when they got it. */
const takeTimes = (budget: RequestBudget["Type"], count: number) =>
  Effect.gen(function* () {
    const times = yield* Ref.make<Array<number>>([])
    const fiber = yield* Effect.forkAll(
      Array.from({ length: count }, () =>
        budget.take.pipe(Effect.zipRight(Clock.currentTimeMillis), Effect.flatMap((t) => Ref.update(times, (ts) => [...ts, t])))
      )
    )
    return { times, fiber }
  })

describe("RequestBudget", () => {
  it.effect("spaces calls evenly so a minute never holds more than rpm calls", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.make(60)
      const { fiber, times } = yield* takeTimes(budget, 5)
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(times)).toEqual([0, 1000, 2000, 3000, 4000])
    })
  )

  it.effect("a 429 with Retry-After holds back every caller, not only the one that saw it", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.make(600)
      const rateLimited = new RateLimited({ retryAfter: Option.some(Duration.seconds(2)), message: "Rate limit exceeded" })
      // One call answers 429: the gate closes for two seconds.
      yield* Effect.either(withBudget(budget, Duration.seconds(1))(Effect.fail(rateLimited)))
      const { fiber, times } = yield* takeTimes(budget, 3)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(fiber)
      const seen = yield* Ref.get(times)
      expect(seen).toHaveLength(3)
      expect(Math.min(...seen)).toBeGreaterThanOrEqual(2000)
    })
  )

  it.effect("a caller already waiting for its slot when the gate closes waits for the gate too", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.make(6) // one slot every 10 s
      yield* budget.take // slot at 0
      const { fiber, times } = yield* takeTimes(budget, 1) // reserved for 10 s
      yield* TestClock.adjust(Duration.seconds(5))
      yield* budget.pause(Duration.seconds(20)) // closed until 25 s
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(fiber)
      expect((yield* Ref.get(times))[0]).toBeGreaterThanOrEqual(25_000)
    })
  )
})
