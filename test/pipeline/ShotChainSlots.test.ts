import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import type { Job } from "../../src/domain/Job.js"
import { type JobReport, jobReportBase } from "../../src/domain/JobReport.js"
import { SEEDANCE_DEFAULTS } from "../../src/domain/SeedanceParams.js"
import { renderInChainOrder } from "../../src/pipeline/ShotChain.js"
import { nodeContext, renderManifest, testEmulator } from "../support/TestRun.js"

const jobOf = (id: string, from?: string): Job => ({
  id,
  shot: id,
  seed: 1,
  seedDrawn: false,
  params: { ...SEEDANCE_DEFAULTS, prompt: id, seed: 1 },
  ...(from === undefined ? {} : { firstFrameFrom: { shot: from, job: from } })
})

/**
 * Renders `jobs` with a render that takes 10 s of test time, counting the
 * renders under way; a follower's render fails if its source has not ended.
 */
const renderCounted = (jobs: ReadonlyArray<Job>, concurrency: number) =>
  Effect.gen(function*() {
    const ended = new Set<string>()
    const startedAt = new Map<string, number>()
    let running = 0
    let most = 0
    const render = (index: number) =>
      Effect.gen(function*() {
        const job = jobs[index]!
        const source = job.firstFrameFrom?.job
        if (source !== undefined && !ended.has(source)) return yield* Effect.die(`${job.id} began before ${source}`)
        running++
        most = Math.max(most, running)
        startedAt.set(job.id, yield* Clock.currentTimeMillis)
        yield* Effect.sleep("10 seconds")
        running--
        ended.add(job.id)
        return { ...jobReportBase(job), status: "completed", attempts: 1 } satisfies JobReport
      })
    const fiber = yield* Effect.fork(renderInChainOrder(jobs, concurrency, () => true, render))
    yield* TestClock.adjust("10 minutes")
    const reports = yield* Fiber.join(fiber)
    return { reports, most, startedAt }
  })

describe("a follower waiting for its source holds no slot", () => {
  it.effect("concurrency 1, followers written before their source: every job ends, one at a time", () =>
    Effect.gen(function*() {
      const jobs = [jobOf("B", "A"), jobOf("C", "B"), jobOf("X"), jobOf("A"), jobOf("D", "A"), jobOf("Y")]
      const { most, reports, startedAt } = yield* renderCounted(jobs, 1)
      expect(reports.map((report) => [report.id, report.status])).toEqual(
        jobs.map((job) => [job.id, "completed"])
      )
      expect(most).toBe(1)
      // Six renders of 10 s one after another: no slot sat idle.
      expect(Math.max(...startedAt.values())).toBe(50_000)
    }))

  it.effect("concurrency 2: while the source renders, the other slot renders an unlinked job, not a waiting follower", () =>
    Effect.gen(function*() {
      const jobs = [jobOf("A"), jobOf("B", "A"), jobOf("C"), jobOf("D")]
      const { most, startedAt } = yield* renderCounted(jobs, 2)
      expect(most).toBe(2)
      expect(Object.fromEntries(startedAt)).toEqual({ A: 0, C: 0, B: 10_000, D: 10_000 })
    }))

  it.effect("concurrency 2, every slot's worth of followers first: their sources still run, never more than 2 at once", () =>
    Effect.gen(function*() {
      const jobs = [jobOf("F1", "S1"), jobOf("F2", "S2"), jobOf("F3", "S1"), jobOf("S1"), jobOf("S2"), jobOf("U")]
      const { most, reports, startedAt } = yield* renderCounted(jobs, 2)
      expect(reports.every((report) => report.status === "completed")).toBe(true)
      expect(most).toBe(2)
      expect(startedAt.get("S1")).toBe(0)
      expect(startedAt.get("S2")).toBe(0)
      expect(Math.max(...startedAt.values())).toBe(20_000)
    }))
})

describe("interrupted", () => {
  it.effect("the renders under way end before the run's own interruption handling (the report) runs; no other starts", () =>
    Effect.gen(function*() {
      const jobs = [jobOf("A"), jobOf("B", "A"), jobOf("C"), jobOf("D")]
      const started: Array<string> = []
      const ended: Array<string> = []
      let endedAtReport: ReadonlyArray<string> | undefined
      // As a submit on the wire: it runs to its end even when the run is stopped.
      const render = (index: number) =>
        Effect.uninterruptible(Effect.gen(function*() {
          const job = jobs[index]!
          started.push(job.id)
          yield* Effect.sleep("10 seconds")
          ended.push(job.id)
          return { ...jobReportBase(job), status: "completed", attempts: 1 } satisfies JobReport
        }))
      const fiber = yield* Effect.fork(
        renderInChainOrder(jobs, 2, () => true, render).pipe(
          Effect.onInterrupt(() => Effect.sync(() => void (endedAtReport = [...ended])))
        )
      )
      yield* TestClock.adjust("1 second")
      const stopping = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(stopping)
      expect(started).toEqual(["A", "C"])
      expect([...(endedAtReport ?? [])].sort()).toEqual(["A", "C"])
    }))
})

describe("on the emulator", () => {
  it.scopedLive(
    "concurrency 2 with A -> B and unlinked C, D: C is submitted while A renders, and never more than 2 are in flight",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        yield* fs.writeFileString(
          `${dir}/slots.yaml`,
          `version: 1
defaults:
  duration: 4
  resolution: 480p
shots:
  - id: A
    prompt: A closed door.
  - id: B
    prompt: The door opens.
    first_frame: {from: A}
  - id: C
    prompt: A gull on a post.
  - id: D
    prompt: Waves on the breakwater.
`
        )
        const emulator = yield* testEmulator()
        const { report } = yield* renderManifest(`${dir}/slots.yaml`, emulator.baseUrl, { concurrency: 2 })
        expect(report.summary).toMatchObject({ completed: 4, failed: 0, skipped: 0 })
        const stats = yield* emulator.stats
        expect(stats.maxInFlight).toBe(2)
        const record = (id: string) => {
          const requestId = report.jobs.find((job) => job.id === id)?.requestId
          return stats.records.find((entry) => entry.requestId === requestId)!
        }
        // B waits for A without a slot: C takes the second one at once, before A's video is done.
        expect(record("C").submittedAt).toBeLessThan(record("A").completedAt!)
        expect(record("B").submittedAt).toBeGreaterThan(record("A").completedAt!)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive(
    "concurrency 1 with A -> B written first and unlinked shots: all complete, one in flight at a time",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        yield* fs.writeFileString(
          `${dir}/one.yaml`,
          `version: 1
defaults:
  duration: 4
  resolution: 480p
shots:
  - id: B
    prompt: The door opens.
    first_frame: {from: A}
  - id: C
    prompt: A gull on a post.
  - id: A
    prompt: A closed door.
  - id: D
    prompt: Waves on the breakwater.
`
        )
        const emulator = yield* testEmulator()
        const { report } = yield* renderManifest(`${dir}/one.yaml`, emulator.baseUrl, { concurrency: 1 })
        expect(report.summary).toMatchObject({ completed: 4, failed: 0, skipped: 0 })
        expect((yield* emulator.stats).maxInFlight).toBe(1)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )
})
