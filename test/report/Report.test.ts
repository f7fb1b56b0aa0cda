import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import type { JobReport } from "../../src/domain/JobReport.js"
import { SEEDANCE_DEFAULTS, SEEDANCE_MODEL, type SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { Report, summarize } from "../../src/report/Report.js"
import { estimateJobCost } from "../../src/segmind/ModelCatalog.js"

const params = (overrides: Partial<SeedanceParams> = {}): SeedanceParams => ({
  ...SEEDANCE_DEFAULTS,
  prompt: "a shot",
  seed: 1,
  ...overrides
})

const output = { path: "videos/x.mp4", bytes: 1, sha256: "0".repeat(64), sourceUrl: "https://x/y.mp4" }

const job = (id: string, fields: Partial<JobReport> = {}): JobReport => ({
  id,
  shot: id,
  status: "completed",
  seed: 1,
  seedDrawn: false,
  params: params(),
  attempts: 1,
  ...fields
})

const decode = Schema.decodeUnknownSync(Report)

const reportJson = (run: Record<string, unknown>, summary: Record<string, unknown>) => ({
  schemaVersion: 1,
  tool: { name: "shotlist", version: "0.1.0" },
  run: {
    id: "r",
    manifest: { path: "m.yaml", sha256: "0".repeat(64) },
    model: SEEDANCE_MODEL,
    baseUrl: "https://api.segmind.com",
    concurrency: 4,
    rpm: 45,
    startedAt: "2026-11-26T10:00:00.000Z",
    finishedAt: "2026-11-26T10:02:00.000Z",
    ...run
  },
  summary: { total: 0, completed: 0, failed: 0, skipped: 0, wallMs: 1, ...summary },
  jobs: []
})

describe("the report's summary", () => {
  it("says what the run cost: the API's figures, plus an estimate for completed jobs it gave none, and how much is estimated", () => {
    const long = params({ duration: 12, resolution: "1080p" })
    const summary = summarize(
      [
        job("billed", { cost: 0.5, output }),
        // Same class as "billed" (5 s, 720p, audio): estimated at what the API billed for it.
        job("unbilled", { params: params({ aspect_ratio: "9:16" }), output }),
        // No figure for its class: the pricing rule.
        job("long", { params: long, output }),
        job("reused", { output, reusedFrom: { run: "earlier", job: "reused" } }),
        job("failed-billed", { status: "failed", cost: 0.2 }),
        job("failed", { status: "failed" }),
        job("skipped", { status: "skipped" })
      ],
      1000,
      SEEDANCE_MODEL
    )
    const longPrice = estimateJobCost(long, SEEDANCE_MODEL)
    expect(summary).toMatchObject({ total: 7, completed: 4, failed: 2, skipped: 1, reused: 1, wallMs: 1000 })
    expect(summary.cost?.usd).toBeCloseTo(0.5 + 0.5 + longPrice + 0.2, 5)
    expect(summary.cost?.estimatedUsd).toBeCloseTo(0.5 + longPrice, 5)
    expect(summary.cost?.estimatedJobs).toBe(2)
  })

  it("a run the API billed in full has nothing estimated; a run of reused videos cost nothing", () => {
    expect(summarize([job("a", { cost: 0.41, output }), job("b", { cost: 0.2, output })], 1).cost).toEqual({
      usd: 0.61,
      estimatedUsd: 0,
      estimatedJobs: 0
    })
    expect(summarize([job("a", { output, reusedFrom: { run: "r", job: "a" } })], 1)).toMatchObject({
      reused: 1,
      cost: { usd: 0, estimatedUsd: 0, estimatedJobs: 0 }
    })
  })

  it("reports written before these fields still decode; new ones carry the manifest's name", () => {
    const old = decode(reportJson({}, {}))
    expect(old.summary.cost).toBeUndefined()
    expect(old.summary.reused).toBeUndefined()
    expect(old.run.name).toBeUndefined()
    const current = decode(
      reportJson({ name: "coastal-run" }, { reused: 2, cost: { usd: 1.5, estimatedUsd: 0.5, estimatedJobs: 1 } })
    )
    expect(current.run.name).toBe("coastal-run")
    expect(current.summary).toMatchObject({ reused: 2, cost: { usd: 1.5, estimatedUsd: 0.5, estimatedJobs: 1 } })
  })
})
