import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "3", "--expect", "0.3s"]

describe("budgets and CI outputs of a run", () => {
  it.scopedLive("--max-jobs and --max-cost refuse a run that would exceed them, with exit 2 and nothing sent; reused videos do not count", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const tooMany = yield* runCli([
        "run",
        SIX,
        "--max-jobs",
        "5",
        "--base-url",
        emulator.baseUrl,
        "--out",
        `${root}/a`,
        ...fast
      ], env)
      expect(tooMany.exitCode).toBe(2)
      // Priced per job: 4 s 480p clips, two of them without audio, cost far less than 6 x $0.41.
      expect(tooMany.stderr).toContain("refused: 6 jobs to render, about $0.76, over --max-jobs 5; nothing was sent")
      const tooDear = yield* runCli([
        "run",
        SIX,
        "--max-cost",
        "0.5",
        "--base-url",
        emulator.baseUrl,
        "--out",
        `${root}/a`,
        ...fast
      ], env)
      expect(tooDear.exitCode).toBe(2)
      expect(tooDear.stderr).toContain("over --max-cost $0.50")
      expect((yield* emulator.stats).requests).toEqual([])
      expect(yield* fs.exists(`${root}/a`)).toBe(false)

      // Once rendered, the same shots (explicit seeds) cost nothing and pass a tight budget.
      const board = `${root}/board.yaml`
      yield* fs.writeFileString(board, (yield* fs.readFileString(SIX)).replace("takes: 3", "seed: 5"))
      expect(
        (yield* runCli(["run", board, "--base-url", emulator.baseUrl, "--out", `${root}/runs/a`, ...fast], env))
          .exitCode
      ).toBe(0)
      const again = yield* runCli([
        "run",
        board,
        "--max-jobs",
        "0",
        "--base-url",
        emulator.baseUrl,
        "--out",
        `${root}/runs/b`,
        ...fast
      ], env)
      expect(again.exitCode).toBe(0)
      expect(again.stdout).toContain("4 completed (4 reused from earlier runs)")
      // The report says what each run cost: the API's figures ($0.41 a job on the emulator), nothing for reused videos.
      expect((yield* readReport(`${root}/runs/a/report.json`)).summary).toMatchObject({
        reused: 0,
        cost: { usd: 1.64, estimatedUsd: 0, estimatedJobs: 0 }
      })
      expect((yield* readReport(`${root}/runs/b/report.json`)).summary).toMatchObject({
        reused: 4,
        cost: { usd: 0, estimatedUsd: 0, estimatedJobs: 0 }
      })
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("resume takes --max-jobs and --max-cost too: the jobs it would submit (again) count, kept videos do not", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const out = `${root}/runs/a`
      // A refused key stops the run before any job is accepted: all six are left to submit.
      const stopped = yield* runCli(
        ["run", SIX, "--base-url", emulator.baseUrl, "--out", out, "--rpm", "6000", "--concurrency", "1"],
        { SEGMIND_API_KEY: "SG_ffffffffffffffff" }
      )
      expect(stopped.exitCode).toBe(3)
      const requests = (yield* emulator.stats).requests.length

      const tooMany = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, "--max-jobs", "5", ...fast], env)
      expect(tooMany.exitCode).toBe(2)
      expect(tooMany.stderr).toContain("refused: 6 jobs to submit, about $0.76, over --max-jobs 5; nothing was sent")
      const tooDear = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, "--max-cost", "0.5", ...fast], env)
      expect(tooDear.exitCode).toBe(2)
      expect(tooDear.stderr).toContain("over --max-cost $0.50; nothing was sent")
      // The same through `run --out` on the existing run directory, which resumes it.
      const viaRun = yield* runCli(
        ["run", SIX, "--base-url", emulator.baseUrl, "--out", out, "--max-jobs", "5", ...fast],
        env
      )
      expect(viaRun.exitCode).toBe(2)
      expect(viaRun.stderr).toContain("refused: 6 jobs to submit")
      expect((yield* emulator.stats).requests.length).toBe(requests)

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, "--max-jobs", "6", ...fast], env)
      expect(resumed.exitCode).toBe(0)
      // Everything is done: nothing is left to send, so a zero budget passes.
      const again = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, "--max-jobs", "0", ...fast], env)
      expect(again.exitCode).toBe(0)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("resume --retry-failed counts the failed jobs it would submit again against --max-jobs", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const out = `${root}/run`
      const ran = yield* runCli(
        ["run", "test/fixtures/runs/one-blocked.yaml", "--base-url", emulator.baseUrl, "--out", out, ...fast],
        env
      )
      expect(ran.exitCode).toBe(1)
      const submissions = (yield* emulator.stats).submissions
      const retry = yield* runCli(
        ["resume", out, "--base-url", emulator.baseUrl, "--retry-failed", "--max-jobs", "0", ...fast],
        env
      )
      expect(retry.exitCode).toBe(2)
      // Priced at the $0.41 the emulator billed for each job of that class in this run, not by the formula.
      expect(retry.stderr).toContain(
        "refused: 1 job to submit (2 kept), about $0.41, over --max-jobs 0; nothing was sent"
      )
      expect((yield* emulator.stats).submissions).toBe(submissions)
      // Without --retry-failed the failed job stays failed: nothing to send.
      const keep = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, "--max-jobs", "0", ...fast], env)
      expect(keep.exitCode).toBe(1)
      expect((yield* emulator.stats).submissions).toBe(submissions)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("replay takes --max-jobs and --max-cost, priced with what the source run was billed", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const ran = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", `${root}/a`, ...fast], env)
      expect(ran.exitCode).toBe(0)
      const requests = (yield* emulator.stats).requests.length
      const replay = (...args: ReadonlyArray<string>) =>
        runCli([
          "replay",
          `${root}/a/report.json`,
          "--base-url",
          emulator.baseUrl,
          "--out",
          `${root}/b`,
          ...fast,
          ...args
        ], env)

      const tooMany = yield* replay("--max-jobs", "5")
      expect(tooMany.exitCode).toBe(2)
      // The emulator bills $0.41 a job: the source report's figures, not the formula's $0.76, price a replay.
      expect(tooMany.stderr).toContain("refused: 6 jobs to render, about $2.46, over --max-jobs 5; nothing was sent")
      const tooDear = yield* replay("--max-cost", "1")
      expect(tooDear.exitCode).toBe(2)
      expect(tooDear.stderr).toContain("over --max-cost $1.00; nothing was sent")
      expect((yield* emulator.stats).requests.length).toBe(requests)
      expect(yield* fs.exists(`${root}/b`)).toBe(false)

      const subset = yield* replay("--only", "pier", "--max-jobs", "1", "--max-cost", "0.5")
      expect(subset.exitCode).toBe(0)
      expect(subset.stdout).toContain("1 jobs: 1 completed")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("--junit writes one test case per job, with the failure's tag and message", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const outcome = yield* runCli(
        [
          "run",
          "test/fixtures/runs/one-blocked.yaml",
          "--base-url",
          emulator.baseUrl,
          "--out",
          `${root}/run`,
          "--junit",
          `${root}/junit.xml`,
          ...fast
        ],
        env
      )
      expect(outcome.exitCode).toBe(1)
      const xml = yield* fs.readFileString(`${root}/junit.xml`)
      const report = yield* readReport(`${root}/run/report.json`)
      expect(xml.match(/<testcase /g)).toHaveLength(report.jobs.length)
      expect(xml).toContain("<failure type=\"GenerationFailed\"")
      expect(yield* fs.exists(`${root}/run/report.html`)).toBe(true)
    }).pipe(Effect.provide(nodeContext)))
})
