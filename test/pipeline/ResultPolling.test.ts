import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, renderManifest, testEmulator } from "../support/TestRun.js"

const SIX_JOBS = "test/fixtures/runs/six-jobs.yaml"

/** Every job takes 400 ms: the run's first poll (its prior is 100 ms) finds a job still running, and probes with it. */
const slowEnoughToProbe = { generationTimeModel: { kind: "fixed", ms: 400 } } as const

const keyedCalls = (byEndpoint: Readonly<Record<string, number>>) =>
  (byEndpoint["submit"] ?? 0) + (byEndpoint["status"] ?? 0) + (byEndpoint["result"] ?? 0)

describe("two calls per job where the result URL answers \"not yet\"", () => {
  it.scopedLive("a result URL that answers a pending job like its status URL is polled instead: no status call, no separate result fetch", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ ...slowEnoughToProbe, resultPending: "status" })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, {
        concurrency: 6,
        poll: { probeResultUrl: true }
      })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 6 })
      const polls = report.jobs.reduce((sum, job) => sum + (job.statusPolls ?? 0), 0)
      expect(stats.requestsByEndpoint["status"] ?? 0).toBe(0)
      // Each poll asked the result URL; the one that said COMPLETED carried the video: a submit and the polls per job.
      expect(stats.requestsByEndpoint["result"]).toBe(polls)
      expect(keyedCalls(stats.requestsByEndpoint)).toBe(6 + polls)
      for (const job of report.jobs) expect(job.statusPolls).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a result URL that answers 404 before the end is probed once, then the status URL is polled: three calls per job", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ ...slowEnoughToProbe, resultPending: "404" })
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, {
        concurrency: 6,
        poll: { probeResultUrl: true }
      })
      const stats = yield* emulator.stats
      expect(report.summary).toMatchObject({ completed: 6 })
      const polls = report.jobs.reduce((sum, job) => sum + (job.statusPolls ?? 0), 0)
      expect(stats.requestsByEndpoint["status"]).toBe(polls)
      // One probe for the run, then one result fetch per job.
      expect(stats.requestsByEndpoint["result"]).toBe(6 + 1)
      expect(keyedCalls(stats.requestsByEndpoint)).toBe(6 + polls + 6 + 1)
    }).pipe(Effect.provide(nodeContext)))
})
