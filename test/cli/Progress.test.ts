import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { applyEvent, emptyProgress, renderProgress } from "../../src/cli/ProgressView.js"
import type { JobPhase } from "../../src/pipeline/RunProgress.js"
import { runChildCli } from "../support/ChildCli.js"
import { FAST_RUN, nodeContext, TEST_KEY, testEmulator } from "../support/TestRun.js"

const at = (jobId: string, phase: JobPhase, atMs: number, message: string = phase) => ({ jobId, phase, atMs, message })

describe("progress", () => {
  it("the live view counts jobs by state, draws a bar, and learns its ETA from completed jobs", () => {
    let state = { ...emptyProgress, total: 8, concurrency: 2, startedMs: 0 }
    expect(renderProgress(state, 0)[0]).toContain("0/8  elapsed 0s  ETA after the first job")
    state = [
      at("a", "submitted", 1_000),
      at("b", "submitted", 1_000),
      at("a", "processing", 5_000),
      at("a", "completed", 21_000),
      at("b", "failed", 22_000, "failed: GenerationFailed: blocked by moderation"),
      at("c", "submitted", 22_000)
    ].reduce(applyEvent, state)
    const lines = renderProgress(state, 30_000, 120)
    // 2 of 8 ended; one job took 20 s; 6 left (1 in flight + 5 waiting) at concurrency 2: 3 rounds of 20 s.
    expect(lines[0]).toMatch(/^█+░+ 2\/8  elapsed 30s  ETA ~1m00s$/)
    expect(lines[1]).toBe("  1 done, 1 failed, 0 skipped | 1 queued, 0 rendering, 0 downloading | 5 waiting")
    expect(lines[2]).toBe("  ✗ b: failed: GenerationFailed: blocked by moderation")
    for (const line of renderProgress(state, 30_000, 50)) expect(line.length).toBeLessThanOrEqual(50)
  })

  it.scopedLive("--log-format json writes one JSON object per line on stderr, with each job's phases; stdout keeps only the results", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const outcome = yield* runChildCli(
        [
          "run",
          "test/fixtures/runs/one-blocked.yaml",
          "--base-url",
          emulator.baseUrl,
          "--out",
          out,
          ...FAST_RUN,
          "--log-format",
          "json"
        ],
        { SEGMIND_API_KEY: TEST_KEY }
      )
      expect(outcome.code).toBe(1)
      const records = outcome.stderr.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
      for (const record of records) {
        expect(Object.keys(record)).toEqual(expect.arrayContaining(["time", "level", "message"]))
      }
      const phasesOf = (job: string) => records.filter((r) => r["job"] === job).map((r) => r["phase"])
      expect(phasesOf("meadow")).toEqual(expect.arrayContaining(["submitted", "downloading", "completed"]))
      expect(phasesOf("blocked").at(-1)).toBe("failed")
      expect(outcome.stdout).toContain("3 jobs: 2 completed, 1 failed")
      expect(outcome.stdout).not.toContain("{")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("without a terminal, progress is one plain line per change of a job's state", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const outcome = yield* runChildCli(
        [
          "run",
          "test/fixtures/runs/one-blocked.yaml",
          "--base-url",
          emulator.baseUrl,
          "--out",
          out,
          ...FAST_RUN
        ],
        { SEGMIND_API_KEY: TEST_KEY }
      )
      expect(outcome.stderr).not.toContain("\x1b[")
      expect(outcome.stderr).toMatch(/^shotlist: \d\d:\d\d:\d\d \[\d\/3\] meadow: submitted as \S+$/m)
      expect(outcome.stderr).toMatch(/^shotlist: \d\d:\d\d:\d\d \[\d\/3\] meadow: completed: videos\/meadow\.mp4/m)
      expect(outcome.stderr).toMatch(/^shotlist: \d\d:\d\d:\d\d \[\d\/3\] blocked: failed: GenerationFailed/m)
    }).pipe(Effect.provide(nodeContext)))
})
