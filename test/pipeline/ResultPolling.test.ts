import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { noFaults } from "../../src/emulator/Emulator.js"
import type { ResultPending } from "../../src/emulator/EmulatorConfig.js"
import { nodeContext, renderManifest, testEmulator } from "../support/TestRun.js"

const SIX_JOBS = "test/fixtures/runs/six-jobs.yaml"

/** Every job takes 400 ms: the run's first poll (its prior is 100 ms) finds a job still running, and probes with it. */
const slowEnoughToProbe = { generationTimeModel: { kind: "fixed", ms: 400 }, workers: 6 } as const

const keyedCalls = (byEndpoint: Readonly<Record<string, number>>) =>
  (byEndpoint["submit"] ?? 0) + (byEndpoint["status"] ?? 0) + (byEndpoint["result"] ?? 0)

describe("two calls per job where the result URL answers \"not yet\"", () => {
  it.scopedLive("by default, a result URL that answers a pending job like its status URL is polled instead: no status call, no separate result fetch", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ ...slowEnoughToProbe, resultPending: "status" })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 6 })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 6 })
      const polls = report.jobs.reduce((sum, job) => sum + (job.statusPolls ?? 0), 0)
      expect(stats.requestsByEndpoint["status"] ?? 0).toBe(0)
      // Each poll asked the result URL; the one that said COMPLETED carried the video: a submit and the polls per job.
      expect(stats.requestsByEndpoint["result"]).toBe(polls)
      expect(keyedCalls(stats.requestsByEndpoint)).toBe(6 + polls)
      for (const job of report.jobs) expect(job.statusPolls).toBeGreaterThanOrEqual(1)
      expect(report.run).toMatchObject({ polledVia: "result", polledViaReason: expect.stringContaining("not yet") })
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("the default emulator path: a job polled when it is done takes 2 keyed calls, its submit and the poll that carries the video", () =>
    Effect.gen(function*() {
      // 100 ms jobs, first looked at after 300 ms: each job is polled once, at the result URL.
      const emulator = yield* testEmulator({ generationTimeModel: { kind: "fixed", ms: 100 }, workers: 6 })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, {
        concurrency: 6,
        poll: { prior: () => Duration.millis(300) }
      })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 6 })
      expect(stats.requestsByEndpoint["status"] ?? 0).toBe(0)
      expect(keyedCalls(stats.requestsByEndpoint)).toBe(2 * 6)
      expect(report.run.polledVia).toBe("result")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("--poll-via status: the result URL is never polled, only fetched once per completed job", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ ...slowEnoughToProbe, resultPending: "status" })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, {
        concurrency: 6,
        poll: { pollVia: "status" }
      })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 6 })
      expect(stats.requestsByEndpoint["result"]).toBe(6)
      expect(report.run.polledVia).toBe("status")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a result URL that answers 404 before the end is probed once, then the status URL is polled: three calls per job", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ ...slowEnoughToProbe, resultPending: "404" })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 6 })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 6 })
      const polls = report.jobs.reduce((sum, job) => sum + (job.statusPolls ?? 0), 0)
      expect(stats.requestsByEndpoint["status"]).toBe(polls)
      // One probe for the run, then one result fetch per job.
      expect(stats.requestsByEndpoint["result"]).toBe(6 + 1)
      expect(keyedCalls(stats.requestsByEndpoint)).toBe(6 + polls + 6 + 1)
      expect(report.run).toMatchObject({
        polledVia: "status",
        polledViaReason: expect.stringContaining("probe: the result URL answered HTTP 404")
      })
    }).pipe(Effect.provide(nodeContext)))
})

describe("odd answers of the result URL never cost money or a result", () => {
  const oddShapes: ReadonlyArray<readonly [ResultPending, string]> = [
    ["404", "HTTP 404"],
    ["500", "HTTP 500"],
    ["html-200", "HTTP 200"],
    ["empty-200", "HTTP 200"],
    ["unknown-status", "without a known status"],
    ["completed-no-video", "COMPLETED without a video URL"],
    ["redirect", "HTTP 302"],
    ["switch-after-2", "answered \"not yet\", then HTTP 404"]
  ]

  it.scopedLive.each(oddShapes)(
    "a result URL answering a running request %s: every job completes, each submitted once, on status URLs",
    ([shape, said]) =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator({ ...slowEnoughToProbe, resultPending: shape })
        const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 6 })
        const stats = yield* emulator.stats
        expect(report.summary).toMatchObject({ completed: 6, failed: 0 })
        expect(stats.submissions).toBe(6)
        for (const job of report.jobs) expect(job.resubmitted).toBeUndefined()
        expect(report.run).toMatchObject({ polledVia: "status", polledViaReason: expect.stringContaining(said) })
        // The status URL answered every poll after the odd answer, and the result was fetched once per job.
        expect(stats.requestsByEndpoint["status"]).toBeGreaterThanOrEqual(6)
      }).pipe(Effect.provide(nodeContext))
  )

  it.scopedLive("a 429 on the probe is a 429: waited out, then the probe goes on and the result route is taken", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({
        ...slowEnoughToProbe,
        faults: { ...noFaults, retryAfterSeconds: 1, script: [{ endpoint: "result", call: 1, fault: "429" }] }
      })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 6 })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 6 })
      expect(stats.submissions).toBe(6)
      expect(stats.requestsByEndpoint["status"] ?? 0).toBe(0)
      expect(report.run.polledVia).toBe("result")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a request that FAILED answers 422 at the result URL too: the job fails as GenerationFailed, never sent again", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ ...slowEnoughToProbe, faults: { ...noFaults, failRate: 1 } })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 6 })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 0, failed: 6 })
      for (const job of report.jobs) expect(job.error?.tag).toBe("GenerationFailed")
      expect(stats.submissions).toBe(6)
      expect(stats.requestsByEndpoint["status"] ?? 0).toBe(0)
    }).pipe(Effect.provide(nodeContext)))
})
