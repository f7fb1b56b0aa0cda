import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { GenerationTimes } from "../../src/pipeline/GenerationTimes.js"
import { DEFAULT_POLL, type PollSettings, segmindPrior } from "../../src/pipeline/PollSchedule.js"

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

describe("poll settings", () => {
  it("production polls no closer than 250 ms, no further apart than 15 s, and every 2.75 s at most in the window when the budget has room", () => {
    expect(ms(DEFAULT_POLL.floor)).toBe(250)
    expect(ms(DEFAULT_POLL.cap)).toBe(15_000)
    // A detection p95 of 3 s, less the client's own lag.
    expect(ms(DEFAULT_POLL.latencyGap)).toBe(2_750)
    // Segmind counts calls per minute: the budget's spare slots are a rate over that window.
    expect(ms(DEFAULT_POLL.budgetWindow)).toBe(60_000)
    expect(ms(DEFAULT_POLL.deadline)).toBe(15 * 60_000)
    expect(DEFAULT_POLL.priorSpread).toBe(0.25)
  })

  it("Segmind's prior is ~100 s for 5 s of video, scaled by the clip's length, never under 60 s", () => {
    expect(ms(segmindPrior(params(5)))).toBe(100_000)
    expect(ms(segmindPrior(params(10)))).toBe(200_000)
    expect(ms(segmindPrior(params(2)))).toBe(60_000)
  })

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
