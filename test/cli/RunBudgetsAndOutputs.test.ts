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
      expect(tooMany.stderr).toContain("refused: 6 jobs to render, about $2.46, over --max-jobs 5; nothing was sent")
      const tooDear = yield* runCli([
        "run",
        SIX,
        "--max-cost",
        "2",
        "--base-url",
        emulator.baseUrl,
        "--out",
        `${root}/a`,
        ...fast
      ], env)
      expect(tooDear.exitCode).toBe(2)
      expect(tooDear.stderr).toContain("over --max-cost $2.00")
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
