import { describe, expect, it } from "@effect/vitest"
import { SEEDANCE_DEFAULTS, SEEDANCE_MODEL, type SeedanceParams } from "../../src/domain/SeedanceParams.js"
import {
  estimateJobCost,
  estimateRun,
  formatUsd,
  MODEL_CATALOG,
  observedCosts,
  seedanceTokens
} from "../../src/segmind/ModelCatalog.js"

const params = (overrides: Partial<SeedanceParams> = {}): SeedanceParams => ({
  ...SEEDANCE_DEFAULTS,
  prompt: "a shot",
  seed: 1,
  ...overrides
})

const jobs = (n: number, overrides: Partial<SeedanceParams> = {}) =>
  Array.from({ length: n }, (_, i) => ({ params: params({ prompt: `shot ${i}`, seed: i + 1, ...overrides }) }))

/** Generous enough that the request budget never limits: these tests are about waves. */
const plenty = { concurrency: 4, rpm: 6000 }

describe("the price of one job", () => {
  it("a 5 s 720p 16:9 clip with audio is Segmind's published $0.41", () => {
    expect(estimateJobCost(params(), SEEDANCE_MODEL)).toBeCloseTo(0.41, 6)
  })

  it("follows the upstream token count: width x height x (24 x seconds + 1) / 1024", () => {
    expect(seedanceTokens(params())).toBe((1280 * 720 * 121) / 1024)
    expect(seedanceTokens(params({ duration: 12, resolution: "1080p" }))).toBe((1920 * 1080 * 289) / 1024)
    expect(seedanceTokens(params({ resolution: "480p", aspect_ratio: "9:16" }))).toBe((496 * 864 * 121) / 1024)
  })

  it("a 12 s 1080p clip costs more than a 5 s 720p one, in proportion to its tokens", () => {
    const long = estimateJobCost(params({ duration: 12, resolution: "1080p" }), SEEDANCE_MODEL)
    const short = estimateJobCost(params(), SEEDANCE_MODEL)
    expect(long).toBeGreaterThan(short)
    expect(long / short).toBeCloseTo((1920 * 1080 * 289) / (1280 * 720 * 121), 6)
  })

  it("without audio it costs half ($1.2 instead of $2.4 per million tokens)", () => {
    const silent = estimateJobCost(params({ generate_audio: false }), SEEDANCE_MODEL)
    expect(silent).toBeLessThan(estimateJobCost(params(), SEEDANCE_MODEL))
    expect(silent).toBeCloseTo(0.205, 6)
  })

  it("the API's own cost for a class of job (duration, resolution, audio) replaces the formula for that class only", () => {
    const observed = observedCosts([
      { params: params(), cost: 0.5 },
      { params: params({ aspect_ratio: "9:16" }), cost: 0.3 },
      { params: params({ duration: 8 }) },
      { params: params({ generate_audio: false }), cost: 0.25 }
    ])
    expect(estimateJobCost(params({ aspect_ratio: "1:1" }), SEEDANCE_MODEL, observed)).toBeCloseTo(0.4, 9)
    expect(estimateJobCost(params({ generate_audio: false }), SEEDANCE_MODEL, observed)).toBe(0.25)
    expect(estimateJobCost(params({ duration: 8 }), SEEDANCE_MODEL, observed)).toBe(
      estimateJobCost(params({ duration: 8 }), SEEDANCE_MODEL)
    )
    expect(estimateJobCost(params({ resolution: "1080p" }), SEEDANCE_MODEL, observed)).toBe(
      estimateJobCost(params({ resolution: "1080p" }), SEEDANCE_MODEL)
    )
  })
})

describe("estimateRun", () => {
  it("12 Seedance 5 s 720p jobs at concurrency 4 run in 3 waves of 100 s and cost 12 x $0.41", () => {
    expect(estimateRun(jobs(12), { model: SEEDANCE_MODEL, ...plenty })).toEqual({
      jobs: 12,
      costUsd: 4.92,
      wallSeconds: 300,
      limitedBy: "concurrency",
      known: true
    })
  })

  it("the cost is the sum of each job's price: a 12 s 1080p job weighs more than a 5 s 720p one", () => {
    const mixed = [...jobs(1), ...jobs(1, { duration: 12, resolution: "1080p", generate_audio: false })]
    const expected = estimateJobCost(mixed[0]!.params, SEEDANCE_MODEL) +
      estimateJobCost(mixed[1]!.params, SEEDANCE_MODEL)
    expect(estimateRun(mixed, { model: SEEDANCE_MODEL, ...plenty }).costUsd).toBeCloseTo(expected, 5)
    expect(estimateRun(mixed, { model: SEEDANCE_MODEL, ...plenty }).costUsd).toBeGreaterThan(0.82)
  })

  it("observed costs are used for the jobs of their class", () => {
    const observed = observedCosts([{ params: params(), cost: 0.3 }])
    expect(estimateRun(jobs(10), { model: SEEDANCE_MODEL, ...plenty, observed }).costUsd).toBe(3)
  })

  it("a partial last wave still takes a whole latency", () => {
    expect(estimateRun(jobs(13), { model: SEEDANCE_MODEL, ...plenty }).wallSeconds).toBe(400)
    expect(estimateRun(jobs(3), { model: SEEDANCE_MODEL, ...plenty }).wallSeconds).toBe(100)
  })

  it("concurrency 1 runs jobs one after another; more slots than jobs is one wave", () => {
    expect(estimateRun(jobs(5), { model: SEEDANCE_MODEL, concurrency: 1, rpm: 6000 })).toMatchObject({
      wallSeconds: 500,
      costUsd: 2.05
    })
    expect(estimateRun(jobs(5), { model: SEEDANCE_MODEL, concurrency: 50, rpm: 6000 }).wallSeconds).toBe(100)
  })

  it("the request budget bounds the wall time: a job needs 3 API calls, so 12 jobs at 5 a minute take 7.2 min, at 45 the waves decide", () => {
    const free = estimateRun(jobs(12), { model: SEEDANCE_MODEL, concurrency: 4, rpm: 5 })
    const pro = estimateRun(jobs(12), { model: SEEDANCE_MODEL, concurrency: 4, rpm: 45 })
    expect(free.wallSeconds).not.toBe(pro.wallSeconds)
    expect(free).toMatchObject({ wallSeconds: (12 * 3 * 60) / 5, limitedBy: "rpm" })
    expect(pro).toMatchObject({ wallSeconds: 300, limitedBy: "concurrency" })
    // Many slots do not help past the budget: 45 calls a minute admit 15 jobs a minute.
    expect(estimateRun(jobs(60), { model: SEEDANCE_MODEL, concurrency: 60, rpm: 45 })).toMatchObject({
      wallSeconds: 240,
      limitedBy: "rpm"
    })
  })

  it("no jobs cost nothing and take no time", () => {
    expect(estimateRun([], { model: SEEDANCE_MODEL, ...plenty })).toEqual({
      jobs: 0,
      costUsd: 0,
      wallSeconds: 0,
      limitedBy: "concurrency",
      known: true
    })
  })

  it("a non-positive concurrency or rpm is treated as 1 rather than dividing by zero", () => {
    expect(estimateRun(jobs(2), { model: SEEDANCE_MODEL, concurrency: 0, rpm: 6000 }).wallSeconds).toBe(200)
    expect(estimateRun(jobs(2), { model: SEEDANCE_MODEL, concurrency: 4, rpm: 0 }).wallSeconds).toBe(360)
  })

  it("an unknown model is flagged and estimated with Seedance 1.5 Pro's figures", () => {
    expect(MODEL_CATALOG["some-other-model"]).toBeUndefined()
    expect(estimateRun(jobs(12), { model: "some-other-model", ...plenty })).toEqual({
      jobs: 12,
      costUsd: 4.92,
      wallSeconds: 300,
      limitedBy: "concurrency",
      known: false
    })
  })
})

describe("formatUsd", () => {
  it("prints dollars with two decimals and thousands separators", () => {
    expect(formatUsd(4.92)).toBe("$4.92")
    expect(formatUsd(0.41)).toBe("$0.41")
    expect(formatUsd(0)).toBe("$0.00")
    expect(formatUsd(1234.5)).toBe("$1,234.50")
  })
})
