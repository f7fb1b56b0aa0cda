import { describe, expect, it } from "@effect/vitest"
import { SEEDANCE_DEFAULTS, SEEDANCE_MODEL } from "../../src/domain/SeedanceParams.js"
import { estimateRun, formatUsd, MODEL_CATALOG } from "../../src/segmind/ModelCatalog.js"

const jobs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ params: { ...SEEDANCE_DEFAULTS, prompt: `shot ${i}`, seed: i + 1 } }))

describe("estimateRun", () => {
  it("12 Seedance jobs at concurrency 4 run in 3 waves of 100 s and cost $4.92", () => {
    expect(estimateRun(jobs(12), SEEDANCE_MODEL, 4)).toEqual({ jobs: 12, costUsd: 4.92, wallSeconds: 300, known: true })
  })

  it("a partial last wave still takes a whole latency", () => {
    expect(estimateRun(jobs(13), SEEDANCE_MODEL, 4).wallSeconds).toBe(400)
    expect(estimateRun(jobs(3), SEEDANCE_MODEL, 4).wallSeconds).toBe(100)
  })

  it("concurrency 1 runs jobs one after another; more slots than jobs is one wave", () => {
    expect(estimateRun(jobs(5), SEEDANCE_MODEL, 1)).toMatchObject({ wallSeconds: 500, costUsd: 2.05 })
    expect(estimateRun(jobs(5), SEEDANCE_MODEL, 50).wallSeconds).toBe(100)
  })

  it("no jobs cost nothing and take no time", () => {
    expect(estimateRun([], SEEDANCE_MODEL, 4)).toEqual({ jobs: 0, costUsd: 0, wallSeconds: 0, known: true })
  })

  it("a non-positive concurrency is treated as 1 rather than dividing by zero", () => {
    expect(estimateRun(jobs(2), SEEDANCE_MODEL, 0).wallSeconds).toBe(200)
  })

  it("an unknown model is flagged and estimated with Seedance 1.5 Pro's figures", () => {
    expect(MODEL_CATALOG["some-other-model"]).toBeUndefined()
    expect(estimateRun(jobs(12), "some-other-model", 4)).toEqual({
      jobs: 12,
      costUsd: 4.92,
      wallSeconds: 300,
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
