import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Ref, TestClock } from "effect"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { GenerationTimes } from "../../src/pipeline/GenerationTimes.js"
import {
  DEFAULT_POLL,
  firstPollDelay,
  nextPollDelay,
  pollSchedule,
  type PollSettings
} from "../../src/pipeline/PollSchedule.js"
import type { StatusAnswer } from "../../src/segmind/SegmindClient.js"

const settings: PollSettings = { ...DEFAULT_POLL, prior: () => Duration.seconds(100) }
const params = (duration: number, resolution: SeedanceParams["resolution"] = "720p"): SeedanceParams => ({
  prompt: "p",
  duration,
  resolution,
  aspect_ratio: "16:9",
  seed: 1,
  camera_fixed: false,
  generate_audio: true,
  skip_moderation: false
})
const ms = (d: Duration.Duration) => Duration.toMillis(d)

/** Poll times of a job that ends at `endMs`, following the plan; and when its end is seen. */
const simulate = (estimate: { meanMs: number; sdMs: number }, endMs: number) => {
  let at = ms(firstPollDelay(estimate, settings))
  let polls = 1
  while (at < endMs) {
    at += ms(nextPollDelay(estimate, settings, at, "PROCESSING"))
    polls += 1
  }
  return { polls, latencyMs: at - endMs }
}

describe("polling that learns", () => {
  it("waits for the window of likely ends, polls densely through it, then backs off, within floor and cap", () => {
    const estimate = { meanMs: 100_000, sdMs: 10_000 }
    // The window of likely ends is 100 ± 2 x 10 s; the first look is capped at 15 s.
    expect(ms(firstPollDelay(estimate, settings))).toBe(15_000)
    expect(ms(nextPollDelay(estimate, settings, 15_000, "PROCESSING"))).toBe(15_000)
    expect(ms(nextPollDelay(estimate, settings, 70_000, "PROCESSING"))).toBe(10_000)
    // In the window: five polls across its 40 s.
    expect(ms(nextPollDelay(estimate, settings, 90_000, "PROCESSING"))).toBe(8_000)
    expect(ms(nextPollDelay(estimate, settings, 116_000, "PROCESSING"))).toBe(8_000)
    // Running long: the gap grows with the overrun, up to the cap.
    const late = [130_000, 150_000, 300_000].map((t) => ms(nextPollDelay(estimate, settings, t, "PROCESSING")))
    expect(late[0]!).toBeGreaterThan(8_000)
    expect(late[1]!).toBeGreaterThan(late[0]!)
    expect(late[2]).toBe(15_000)
    // Still queued past the window's start: it has not begun, so it is polled sparsely.
    expect(ms(nextPollDelay(estimate, settings, 90_000, "QUEUED"))).toBe(15_000)
    // A job the run knows well is polled closely, but never closer than the floor.
    expect(ms(nextPollDelay({ meanMs: 5_000, sdMs: 500 }, settings, 5_000, "PROCESSING"))).toBe(400)
    expect(ms(nextPollDelay({ meanMs: 5_000, sdMs: 100 }, settings, 5_000, "PROCESSING"))).toBe(250)
  })

  it("for a 100 s job it spends a fraction of a fixed poller's calls and sees the end within one dense gap", () => {
    const estimate = { meanMs: 100_000, sdMs: 10_000 }
    for (const endMs of [85_000, 95_000, 100_000, 108_000, 115_000]) {
      const { latencyMs, polls } = simulate(estimate, endMs)
      expect(latencyMs).toBeLessThanOrEqual(8_000)
      // A 2 s poller (Segmind's SDK) would make endMs / 2000, 42 to 58 calls.
      expect(polls).toBeLessThanOrEqual(Math.ceil(endMs / 2000 / 3))
    }
  })

  it.effect("is an Effect Schedule: fed status answers, it polls at the planned times and stops at COMPLETED", () =>
    Effect.gen(function*() {
      const estimate = { meanMs: 10_000, sdMs: 1_000 }
      const calls = yield* Ref.make<Array<number>>([])
      const status = Effect.gen(function*() {
        const now = yield* TestClock.currentTimeMillis
        yield* Ref.update(calls, (list) => [...list, now])
        return { status: now >= 11_500 ? "COMPLETED" : "PROCESSING", metrics: {} } satisfies StatusAnswer
      })
      const fiber = yield* Effect.fork(
        Effect.sleep(firstPollDelay(estimate, settings)).pipe(
          Effect.zipRight(Effect.repeat(status, pollSchedule(Effect.succeed(estimate), settings, 0)))
        )
      )
      yield* TestClock.adjust(Duration.seconds(30))
      const last = yield* Fiber.join(fiber)
      expect(last.status).toBe("COMPLETED")
      // Window 8 s .. 12 s, five polls across it (0.8 s apart) until the end at 11.5 s is seen.
      expect(yield* Ref.get(calls)).toEqual([8_000, 8_800, 9_600, 10_400, 11_200, 12_000])
    }))

  it.effect("a job in flight takes up what the run learns meanwhile: a prior far too long gives way to the measured window", () =>
    Effect.gen(function*() {
      const times = yield* GenerationTimes.make(settings)
      const calls = yield* Ref.make<Array<number>>([])
      const status = Effect.gen(function*() {
        const now = yield* TestClock.currentTimeMillis
        yield* Ref.update(calls, (list) => [...list, now])
        return { status: now >= 21_000 ? "COMPLETED" : "PROCESSING", metrics: {} } satisfies StatusAnswer
      })
      const estimate = yield* times.estimate(params(5))
      const fiber = yield* Effect.fork(
        Effect.sleep(firstPollDelay(estimate, settings)).pipe(
          Effect.zipRight(Effect.repeat(status, pollSchedule(times.estimate(params(5)), settings, 0)))
        )
      )
      // The prior says 100 s: the first look is at the cap, 15 s. Before it, three jobs of the run end after ~20 s each.
      yield* TestClock.adjust(Duration.seconds(10))
      for (const took of [19_000, 20_000, 21_000]) yield* times.record(params(5), took)
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(fiber)
      // Window now 18 .. 22 s: polled across it 0.8 s apart, seen 0.2 s after its end.
      expect(yield* Ref.get(calls)).toEqual([15_000, 18_000, 18_800, 19_600, 20_400, 21_200])
    }))

  it.effect("learns from completed jobs: its own class after three, the others by the measured/prior ratio", () =>
    Effect.gen(function*() {
      const times = yield* GenerationTimes.make({ ...settings, prior: (p) => Duration.seconds(20 * p.duration) })
      expect(yield* times.estimate(params(5))).toEqual({ meanMs: 100_000, sdMs: 25_000 })
      for (const took of [9_000, 10_000, 11_000]) yield* times.record(params(5), took)
      const learned = yield* times.estimate(params(5))
      expect(learned.meanMs).toBeCloseTo(10_000)
      expect(learned.sdMs).toBeCloseTo(1_000)
      // A 10 s clip, never measured: its 200 s prior, scaled by what the run saw (a tenth).
      expect((yield* times.estimate(params(10))).meanMs).toBeCloseTo(20_000)
    }))
})
