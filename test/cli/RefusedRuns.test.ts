import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "3", "--expect", "0.3s"]

describe("runs refused before anything is paid for or overwritten", () => {
  it.scopedLive("replay of a report whose jobs repeat an id exits 2, names the ids and sends nothing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      expect((yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", `${root}/a`, ...fast], env)).exitCode)
        .toBe(0)
      // Hand-edited: two jobs renamed to the ids of others.
      const report = JSON.parse(yield* fs.readFileString(`${root}/a/report.json`)) as {
        jobs: Array<{ id: string }>
      }
      report.jobs[1]!.id = report.jobs[0]!.id
      report.jobs[4]!.id = report.jobs[3]!.id
      yield* fs.writeFileString(`${root}/a/report.json`, JSON.stringify(report, null, 2))
      const sent = (yield* emulator.stats).requests.length

      const replay = yield* runCli(
        ["replay", `${root}/a/report.json`, "--base-url", emulator.baseUrl, "--out", `${root}/b`, ...fast],
        env
      )
      expect(replay.exitCode).toBe(2)
      expect(replay.stderr).toContain("duplicate job ids")
      expect(replay.stderr).toContain(`"${report.jobs[0]!.id}"`)
      expect(replay.stderr).toContain(`"${report.jobs[3]!.id}"`)
      expect((yield* emulator.stats).requests.length).toBe(sent)
      expect(yield* fs.exists(`${root}/b`)).toBe(false)
    }).pipe(Effect.provide(nodeContext)))
})
