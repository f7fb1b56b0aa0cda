import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeReport } from "../../src/report/ReportFile.js"
import { nodeContext, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

describe("shotlist on the command line", () => {
  it.scopedLive("a broken manifest exits 2, lists every problem with file:line:col and sends nothing", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const outcome = yield* runCli(["run", "test/fixtures/runs/broken.yaml", "--base-url", emulator.baseUrl], {
        SEGMIND_API_KEY: TEST_KEY
      })
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain(
        "test/fixtures/runs/broken.yaml:5:15: shot \"first\": shots[0].duration: duration must be an integer number of seconds from 4 to 12 (got 40)"
      )
      expect(outcome.stderr).toContain("unknown key \"promt\" (did you mean \"prompt\"?)")
      expect(outcome.stderr).toContain("3 problems; nothing was submitted")
      expect((yield* emulator.stats).requests).toEqual([])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a wrong key stops the run at the first answer: exit 3, nothing submitted, the report says why", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const outcome = yield* runCli(
        ["run", "test/fixtures/runs/six-jobs.yaml", "--base-url", emulator.baseUrl, "--out", out, "--concurrency", "1"],
        { SEGMIND_API_KEY: "SG_ffffffffffffffff" }
      )
      expect(outcome.exitCode).toBe(3)
      expect(outcome.stdout).toContain("run stopped: Unauthorized: missing or invalid x-api-key")
      expect(outcome.stdout).not.toContain("Unauthorized: Unauthorized")
      expect(outcome.stdout).toContain("check SEGMIND_API_KEY")
      const report = yield* decodeReport(yield* fs.readFileString(`${out}/report.json`))
      expect(report.run.aborted?.tag).toBe("Unauthorized")
      expect(report.summary).toMatchObject({ total: 6, completed: 0, failed: 0, skipped: 6 })
      expect(report.jobs.map((job) => job.error?.tag)).toEqual([
        "Unauthorized",
        "RunAborted",
        "RunAborted",
        "RunAborted",
        "RunAborted",
        "RunAborted"
      ])
      expect((yield* emulator.stats).submissions).toBe(0)
      expect(yield* fs.readFileString(`${out}/report.json`)).not.toContain("SG_ffffffffffffffff")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("without SEGMIND_API_KEY a run exits 2 and says how to set it or use --emulator", () =>
    Effect.gen(function*() {
      const outcome = yield* runCli(["run", "manifests/example.yaml"])
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain("SEGMIND_API_KEY is not set")
      expect(outcome.stderr).toContain("--emulator")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("--only that matches no job is a usage error, not an empty run", () =>
    Effect.gen(function*() {
      const outcome = yield* runCli(["run", "manifests/example.yaml", "--emulator", "--only", "nothing*"])
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain("--only \"nothing*\" matches no job")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("plan prints every job with its seed and the totals, and sends nothing", () =>
    Effect.gen(function*() {
      const outcome = yield* runCli(["plan", "manifests/storyboard.yaml"])
      expect(outcome.exitCode).toBe(0)
      for (
        const id of [
          "establishing",
          "driver~seed=101",
          "driver~seed=303",
          "headland~camera_fixed=false",
          "lookout~take=2",
          "ending"
        ]
      ) {
        expect(outcome.stdout).toContain(id)
      }
      expect(outcome.stdout).toContain("12 jobs from 8 shots, 75 s of video")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("run --emulator renders a subset chosen with --only into --out, exit 0", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      // A fresh parent: --out's siblings are the runs a run may reuse from.
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const outcome = yield* runCli([
        "run",
        "manifests/example.yaml",
        "--emulator",
        "--out",
        out,
        "--only",
        "market~seed=11*"
      ])
      expect(outcome.exitCode).toBe(0)
      expect(outcome.stdout).toContain("2 jobs: 2 completed, 0 failed, 0 skipped")
      expect((yield* fs.readDirectory(`${out}/videos`)).sort()).toEqual([
        "market~seed=11~camera_fixed=false.mp4",
        "market~seed=11~camera_fixed=true.mp4"
      ])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a deadline that is not a duration is a usage error that shows the expected form", () =>
    Effect.gen(function*() {
      const outcome = yield* runCli(["run", "manifests/example.yaml", "--emulator", "--deadline", "soon"])
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain("--deadline takes a duration like 90s, 15m or 2h (got \"soon\")")
    }).pipe(Effect.provide(nodeContext)))
})
