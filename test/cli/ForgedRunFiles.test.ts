import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "2", "--expect", "0.3s"]
const TWO = ["--only", "lanterns~*"]

type Json = Record<string, unknown>

/** Every file under `root`, relative, sorted: what a command wrote, wherever. */
const everyFile = (root: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readDirectory(root, { recursive: true })).pipe(
    Effect.map((names) => [...names].sort())
  )

/** Rewrites each journal line through `edit` (a line it returns undefined for is dropped). */
const editJournal = (file: string, edit: (event: Json) => Json | undefined) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const lines = (yield* fs.readFileString(file)).trimEnd().split("\n")
    const edited = lines.flatMap((line) => {
      const event = edit(JSON.parse(line) as Json)
      return event === undefined ? [] : [JSON.stringify(event)]
    })
    yield* fs.writeFileString(file, edited.join("\n") + "\n")
  })

describe("ids and paths read back from a report or a journal", () => {
  it.scopedLive("replay of a report whose job id is a path (../../evil) exits 2 naming it, and writes nothing anywhere", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const source = `${root}/runs/a`
      expect(
        (yield* runCli(["run", SIX, ...TWO, "--base-url", emulator.baseUrl, "--out", source, ...fast], env)).exitCode
      )
        .toBe(0)
      const report = JSON.parse(yield* fs.readFileString(`${source}/report.json`)) as { jobs: Array<Json> }
      report.jobs[0]!.id = "../../evil"
      yield* fs.writeFileString(`${source}/report.json`, JSON.stringify(report, null, 2))
      const before = yield* everyFile(root)
      const sent = (yield* emulator.stats).requests.length

      const replay = yield* runCli(
        ["replay", `${source}/report.json`, "--base-url", emulator.baseUrl, "--out", `${root}/runs/b`, ...fast],
        env
      )
      expect(replay.exitCode).toBe(2)
      expect(replay.stderr).toContain("\"../../evil\"")
      expect((yield* emulator.stats).requests.length).toBe(sent)
      expect(yield* everyFile(root)).toEqual(before)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("replay of a report whose output path leads outside its run exits 2 naming it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const source = `${root}/a`
      expect(
        (yield* runCli(["run", SIX, ...TWO, "--base-url", emulator.baseUrl, "--out", source, ...fast], env)).exitCode
      )
        .toBe(0)
      const report = JSON.parse(yield* fs.readFileString(`${source}/report.json`)) as {
        jobs: Array<{ output: Json }>
      }
      report.jobs[1]!.output.path = "../../../etc/passwd"
      yield* fs.writeFileString(`${source}/report.json`, JSON.stringify(report, null, 2))
      const sent = (yield* emulator.stats).requests.length

      const replay = yield* runCli(
        ["replay", `${source}/report.json`, "--base-url", emulator.baseUrl, "--out", `${root}/b`, ...fast],
        env
      )
      expect(replay.exitCode).toBe(2)
      expect(replay.stderr).toContain("../../../etc/passwd")
      expect((yield* emulator.stats).requests.length).toBe(sent)
      expect(yield* fs.exists(`${root}/b`)).toBe(false)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("resume refuses a journal whose video path leads outside the run directory, and says so; the file outside is never taken", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const out = `${root}/run`
      expect((yield* runCli(["run", SIX, ...TWO, "--base-url", emulator.baseUrl, "--out", out, ...fast], env)).exitCode)
        .toBe(0)
      // A copy of a real video outside the run, which the forged journal points at.
      yield* fs.copyFile(`${out}/videos/lanterns~seed=11.mp4`, `${root}/outside.mp4`)
      yield* fs.remove(`${out}/videos/lanterns~seed=11.mp4`)
      yield* fs.remove(`${out}/report.json`)
      const forge = (output: unknown) => ({ ...(output as Json), path: "../outside.mp4" })
      yield* editJournal(`${out}/journal.jsonl`, (event) => {
        if (event["jobId"] !== "lanterns~seed=11") return event
        if (event["_tag"] === "downloaded") return { ...event, output: forge(event["output"]) }
        if (event["_tag"] === "finished") {
          const report = event["report"] as Json
          return { ...event, report: { ...report, output: forge(report["output"]) } }
        }
        return event
      })
      const sent = (yield* emulator.stats).requests.length

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(2)
      expect(resumed.stderr).toContain("../outside.mp4")
      expect(resumed.stderr).toContain("journal")
      expect((yield* emulator.stats).requests.length).toBe(sent)
      expect(yield* fs.exists(`${out}/report.json`)).toBe(false)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("resume refuses a journal whose job id is a path, and writes nothing outside the run", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const out = `${root}/runs/run`
      expect((yield* runCli(["run", SIX, ...TWO, "--base-url", emulator.baseUrl, "--out", out, ...fast], env)).exitCode)
        .toBe(0)
      yield* fs.remove(`${out}/report.json`)
      // The job as planned only, under a forged id: a resume would render it into videos/../../evil.mp4.
      yield* editJournal(`${out}/journal.jsonl`, (event) => {
        if (event["_tag"] === "planned") {
          const job = event["job"] as Json
          return job["id"] === "lanterns~seed=22" ? { ...event, job: { ...job, id: "../../evil" } } : event
        }
        return event["jobId"] === "lanterns~seed=22" ? undefined : event
      })
      const before = yield* everyFile(root)
      const sent = (yield* emulator.stats).requests.length

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(2)
      expect(resumed.stderr).toContain("\"../../evil\"")
      expect((yield* emulator.stats).requests.length).toBe(sent)
      expect(yield* everyFile(root)).toEqual(before)
    }).pipe(Effect.provide(nodeContext)))
})
