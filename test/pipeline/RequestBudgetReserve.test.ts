import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Ref, Stream, TestClock } from "effect"
import { SEEDANCE_DEFAULTS, type SeedanceParams } from "../../src/domain/SeedanceParams.js"
import type { PollVia } from "../../src/pipeline/PollRoute.js"
import { DEFAULT_POLL, type PollSettings } from "../../src/pipeline/PollSchedule.js"
import { type PolledAnswer, PollScheduler } from "../../src/pipeline/PollScheduler.js"
import { RequestBudget } from "../../src/pipeline/RequestBudget.js"
import { RunGate } from "../../src/pipeline/RunGate.js"

const settings: PollSettings = { ...DEFAULT_POLL, prior: () => Duration.seconds(10), pollVia: "status" }
const params: SeedanceParams = { prompt: "p", seed: 1, ...SEEDANCE_DEFAULTS }

/** A roomy budget that counts the result slots the scheduler keeps, and the scheduler on it. */
const countingReserves = (reserves: Ref.Ref<number>) =>
  PollScheduler.layer(settings).pipe(
    Layer.provideMerge(Layer.scoped(
      RequestBudget,
      Effect.map(RequestBudget.make(6000), (budget) => ({
        ...budget,
        reserveResult: Effect.zipRight(Ref.update(reserves, (n) => n + 1), budget.reserveResult)
      }))
    )),
    Layer.provideMerge(RunGate.layer(undefined))
  )

/** One job, polled until `answer` (at once COMPLETED); how many result slots were kept for it. */
const reservesFor = (answer: PolledAnswer, via: PollVia) =>
  Effect.gen(function*() {
    const reserves = yield* Ref.make(0)
    yield* Effect.gen(function*() {
      const scheduler = yield* PollScheduler
      const fiber = yield* scheduler.watch({
        params,
        submittedAtMs: 0,
        rateLimitedFor: Duration.seconds(1),
        ask: (inSlot, asked) => {
          expect(asked).toBe(via)
          return inSlot(Effect.succeed({ failedTries: 0, value: answer }))
        },
        deadlineAtMs: Duration.toMillis(settings.deadline),
        late: () => "late" as const
      }).pipe(Stream.runCollect, Effect.fork)
      yield* TestClock.adjust(Duration.seconds(30))
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(countingReserves(reserves)), Effect.scoped)
    return yield* Ref.get(reserves)
  })

describe("the poll scheduler keeps a slot for the result a poll begets", () => {
  it.effect("a status URL's COMPLETED keeps one for the result fetch that follows", () =>
    Effect.gen(function*() {
      expect(yield* reservesFor({ status: "COMPLETED", metrics: {} }, "status")).toBe(1)
    }))

  it.effect("a COMPLETED that carries its result (the result URL's) keeps none: nothing more is fetched", () =>
    Effect.gen(function*() {
      const result = { videoUrl: "https://cdn.test/v.mp4", metrics: {} }
      expect(yield* reservesFor({ status: "COMPLETED", metrics: {}, result }, "status")).toBe(0)
    }))
})
