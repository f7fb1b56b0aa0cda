import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { hostname } from "node:os"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

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

  it.scopedLive("run --out on a folder that holds files but no run exits 2, says why and touches nothing; an empty one is used", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const folder = `${root}/footage`
      const mine = {
        "notes.txt": "not shotlist's",
        ".partial/cut.mov": "half an edit",
        "videos/pier.mp4": "a video shotlist did not make"
      }
      for (const [name, text] of Object.entries(mine)) {
        yield* fs.makeDirectory(`${folder}/${name.split("/").slice(0, -1).join("/")}`, { recursive: true })
        yield* fs.writeFileString(`${folder}/${name}`, text)
      }
      const listing = () => Effect.map(fs.readDirectory(folder, { recursive: true }), (names) => [...names].sort())
      const before = yield* listing()

      const refused = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", folder, ...fast], env)
      expect(refused.exitCode).toBe(2)
      expect(refused.stderr).toContain(`${folder} is not empty and holds no run`)
      expect(refused.stderr).toContain("notes.txt")
      expect((yield* emulator.stats).requests).toEqual([])
      expect(yield* listing()).toEqual(before)
      for (const [name, text] of Object.entries(mine)) expect(yield* fs.readFileString(`${folder}/${name}`)).toBe(text)

      const empty = `${root}/empty`
      yield* fs.makeDirectory(empty)
      expect((yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", empty, ...fast], env)).exitCode)
        .toBe(0)
      expect((yield* readReport(`${empty}/report.json`)).summary.completed).toBe(6)

      // What a run that died before its journal leaves: its lock and empty folders. Used, not refused.
      const died = `${root}/died`
      yield* fs.makeDirectory(`${died}/videos`, { recursive: true })
      const dead = spawnSync(process.execPath, ["-e", ""]).pid
      yield* fs.writeFileString(
        `${died}/.lock`,
        JSON.stringify({ pid: dead, host: hostname(), since: "2026-01-01T00:00:00.000Z" })
      )
      expect((yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", died, ...fast], env)).exitCode)
        .toBe(0)
    }).pipe(Effect.provide(nodeContext)))
})
