import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { defaultEmulatorConfig } from "../../src/emulator/Emulator.js"
import { generationTime } from "../../src/emulator/EmulatorConfig.js"
import { makeGenerationTimer, normalDraws } from "../../src/emulator/GenerationTime.js"
import { nodeContext, testEmulator } from "../support/TestRun.js"
import { getJson, pollUntilCompleted, submit } from "./EmulatorCalls.js"

describe("generation times and per-request records", () => {
  it("normal generation times are reproducible for a seed, differ across seeds, and are clamped at 10% of the mean", () => {
    const model = { kind: "normal", meanMs: 10_000, sdMs: 2_000, seed: 42 } as const
    const take = (draw: () => number, n: number) => Array.from({ length: n }, draw)
    const first = take(normalDraws(model), 2000)
    expect(take(normalDraws(model), 2000)).toEqual(first)
    expect(take(normalDraws({ ...model, seed: 43 }), 2000)).not.toEqual(first)
    const mean = first.reduce((a, b) => a + b, 0) / first.length
    const sd = Math.sqrt(first.reduce((a, b) => a + (b - mean) ** 2, 0) / first.length)
    expect(mean).toBeGreaterThan(9_800)
    expect(mean).toBeLessThan(10_200)
    expect(sd).toBeGreaterThan(1_850)
    expect(sd).toBeLessThan(2_150)
    const wide = take(normalDraws({ ...model, sdMs: 20_000 }), 2000)
    expect(Math.min(...wide)).toBe(1_000)
  })

  it("a fixed model gives every job the same time, unscaled; without a model the default one applies", () => {
    const fixedTimer = makeGenerationTimer({
      ...defaultEmulatorConfig,
      timeScale: 0.05,
      generationTimeModel: { kind: "fixed", ms: 250 }
    })
    expect([fixedTimer(4, "480p"), fixedTimer(12, "1080p")].map(Duration.toMillis)).toEqual([250, 250])
    const byDefault = makeGenerationTimer({ ...defaultEmulatorConfig, timeScale: 0.05 })
    expect(byDefault(10, "1080p")).toEqual(generationTime({ ...defaultEmulatorConfig, timeScale: 0.05 }, 10, "1080p"))
  })

  it.scopedLive("per-request records: the drawn generation time, completion time, status calls and first result fetch", () =>
    Effect.gen(function*() {
      const model = { kind: "normal", meanMs: 300, sdMs: 60, seed: 7 } as const
      const emulator = yield* testEmulator({ workers: 4, generationTimeModel: model })
      const accepted = yield* Effect.forEach([1, 2, 3], () => submit(emulator.baseUrl))
      const calls = yield* Effect.forEach(accepted, (a) => pollUntilCompleted(a.status_url), { concurrency: 3 })
      yield* Effect.sleep(Duration.millis(30))
      yield* Effect.forEach(accepted, (a) => getJson(a.response_url))
      const { records } = yield* emulator.stats
      const draw = normalDraws(model)
      expect(records.map((r) => r.requestId)).toEqual(accepted.map((a) => a.request_id))
      records.forEach((record, i) => {
        expect(record.generationMs).toBe(draw())
        expect(record.status).toBe("COMPLETED")
        expect(record.statusCalls).toBe(calls[i])
        expect(record.resultCalls).toBe(1)
        expect(record.completedAt! - record.startedAt!).toBeGreaterThanOrEqual(record.generationMs - 1)
        expect(record.firstResultFetchAt! - record.completedAt!).toBeGreaterThanOrEqual(30)
      })
    }).pipe(Effect.provide(nodeContext)))
})
