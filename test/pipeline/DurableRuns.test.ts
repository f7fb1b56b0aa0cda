import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule } from "effect"
import { spawnSync } from "node:child_process"
import { hostname } from "node:os"
import { readJournal } from "../../src/store/JournalReader.js"
import { acquireRunLock } from "../../src/store/RunLock.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "3", "--expect", "0.3s"]

describe("durable runs", () => {
  it.scoped("a torn last journal line is ignored; a damaged line in the middle is named with its line number", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const line = (jobId: string) =>
        JSON.stringify({ _tag: "submitting", at: new Date(0).toISOString(), jobId, attempt: 1 })
      yield* fs.writeFileString(
        `${dir}/torn.jsonl`,
        `${line("a")}\n${line("b")}\n{"_tag":"submitted","jobId":"b","requ`
      )
      const torn = yield* readJournal(`${dir}/torn.jsonl`)
      expect(torn.events).toHaveLength(2)
      expect(torn.tornLine).toBe(true)
      expect(torn.validLength).toBe(Buffer.byteLength(`${line("a")}\n${line("b")}\n`))

      yield* fs.writeFileString(`${dir}/bad.jsonl`, `${line("a")}\nnot json\n${line("b")}\n`)
      const bad = yield* Effect.flip(readJournal(`${dir}/bad.jsonl`))
      expect(bad).toMatchObject({ _tag: "JournalCorrupt", line: 2 })
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("resume after a crash that tore the journal: the torn line is cut off, finished jobs are kept, nothing is sent again", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const first = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env)
      expect(first.exitCode).toBe(0)
      const before = yield* readReport(`${out}/report.json`)
      // As if the process died writing a line, before the report.
      yield* fs.remove(`${out}/report.json`)
      const journal = yield* fs.readFileString(`${out}/journal.jsonl`)
      yield* fs.writeFileString(`${out}/journal.jsonl`, `${journal}{"_tag":"status","at":"2026-`)

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0)
      expect(yield* fs.readFileString(`${out}/journal.jsonl`)).not.toContain("\"at\":\"2026-\n")
      const after = yield* readReport(`${out}/report.json`)
      expect(after.jobs.map((job) => [job.id, job.output?.sha256])).toEqual(
        before.jobs.map((job) => [job.id, job.output?.sha256])
      )
      expect(after.run.resumedAt).toHaveLength(1)
      expect((yield* emulator.stats).submissions).toBe(6)
    }).pipe(Effect.provide(nodeContext)))

  it.scoped("a run directory is locked while a process works in it; a dead process's lock is taken over", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* acquireRunLock(dir)
          const second = yield* Effect.flip(Effect.scoped(acquireRunLock(dir)))
          expect(second._tag).toBe("RunLocked")
          expect(second.message).toContain(`pid ${process.pid}`)
        })
      )
      expect(yield* fs.exists(`${dir}/.lock`)).toBe(false)

      // A process that has exited left its lock behind (kill -9).
      const dead = spawnSync(process.execPath, ["-e", ""]).pid
      yield* fs.writeFileString(
        `${dir}/.lock`,
        JSON.stringify({ pid: dead, host: hostname(), since: new Date(0).toISOString() })
      )
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* acquireRunLock(dir)
          expect(JSON.parse(yield* fs.readFileString(`${dir}/.lock`)).pid).toBe(process.pid)
        })
      )
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("resume on a run directory another process holds fails fast with exit 2 and sends nothing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      expect((yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env)).exitCode).toBe(0)
      const sent = (yield* emulator.stats).requests.length
      yield* acquireRunLock(out)
      const outcome = yield* runCli(["resume", out, "--base-url", emulator.baseUrl], env)
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain(`is in use by shotlist (pid ${process.pid}`)
      expect((yield* emulator.stats).requests.length).toBe(sent)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("replay sends exactly the recorded bodies and seeds again, into a new run whose report links the source", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      expect((yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", `${root}/a`, ...fast], env)).exitCode)
        .toBe(0)
      const source = yield* readReport(`${root}/a/report.json`)

      const replay = yield* runCli([
        "replay",
        `${root}/a/report.json`,
        "--base-url",
        emulator.baseUrl,
        "--out",
        `${root}/b`,
        ...fast
      ], env)
      expect(replay.exitCode).toBe(0)
      const replayed = yield* readReport(`${root}/b/report.json`)
      expect(replayed.run.replayOf).toEqual({ report: path.resolve(`${root}/a/report.json`), runId: source.run.id })
      expect(replayed.jobs.map((job) => [job.id, job.seed, job.params])).toEqual(
        source.jobs.map((job) => [job.id, job.seed, job.params])
      )
      // Byte for byte, as the API received them (drawn seeds included).
      const bodies = (yield* emulator.stats).submitted.map(({ body }) => JSON.stringify(body))
      expect(bodies).toHaveLength(12)
      expect(bodies.slice(6).sort()).toEqual(bodies.slice(0, 6).sort())
      expect(yield* fs.readFileString(`${root}/b/manifest.yaml`)).toBe(yield* fs.readFileString(SIX))

      const only = yield* runCli(
        [
          "replay",
          `${root}/a/report.json`,
          "--only",
          "street~*",
          "--base-url",
          emulator.baseUrl,
          "--out",
          `${root}/c`,
          ...fast
        ],
        env
      )
      expect(only.exitCode).toBe(0)
      expect((yield* readReport(`${root}/c/report.json`)).jobs.map((job) => job.id)).toEqual([
        "street~take=1",
        "street~take=2",
        "street~take=3"
      ])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a second run under the same output root reuses unchanged shots and renders only the changed one; --no-reuse renders all", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const manifest = `${root}/board.yaml`
      const text = (yield* fs.readFileString(SIX)).replace("takes: 3", "seed: 5")
      yield* fs.writeFileString(manifest, text)
      expect(
        (yield* runCli(["run", manifest, "--base-url", emulator.baseUrl, "--out", `${root}/runs/a`, ...fast], env))
          .exitCode
      ).toBe(0)
      expect((yield* emulator.stats).submissions).toBe(4)

      yield* fs.writeFileString(manifest, text.replace("A wooden pier at dawn", "A wooden pier at dusk"))
      const second = yield* runCli([
        "run",
        manifest,
        "--base-url",
        emulator.baseUrl,
        "--out",
        `${root}/runs/b`,
        ...fast
      ], env)
      expect(second.exitCode).toBe(0)
      expect(second.stdout).toContain("4 jobs: 4 completed (3 reused from earlier runs)")
      expect((yield* emulator.stats).submissions).toBe(5)
      const b = yield* readReport(`${root}/runs/b/report.json`)
      const a = yield* readReport(`${root}/runs/a/report.json`)
      // Each names its source, and keeps what the source's report said of its request.
      const from = (job: string) => {
        const source = a.jobs.find((earlier) => earlier.id === job)!
        return {
          run: "a",
          job,
          requestId: source.requestId,
          cost: source.cost,
          inferenceTime: source.inferenceTime
        }
      }
      expect(b.jobs.map((job) => [job.id, job.reusedFrom])).toEqual([
        ["pier", undefined],
        ["lanterns~seed=11", from("lanterns~seed=11")],
        ["lanterns~seed=22", from("lanterns~seed=22")],
        ["street", from("street")]
      ])
      for (const job of b.jobs.slice(1)) {
        expect(job.output?.sha256).toBe(a.jobs.find((earlier) => earlier.id === job.id)?.output?.sha256)
        const stat = yield* fs.stat(`${root}/runs/b/${job.output!.path}`)
        expect(Number(stat.size)).toBe(job.output!.bytes)
      }

      const third = yield* runCli([
        "run",
        manifest,
        "--no-reuse",
        "--base-url",
        emulator.baseUrl,
        "--out",
        `${root}/runs/c`,
        ...fast
      ], env)
      expect(third.exitCode).toBe(0)
      expect((yield* emulator.stats).submissions).toBe(9)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("resume polls a request the API forgot (404): the job is submitted again and the report says so", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      // Long enough for the requests sent again on resume to live until the run polls them, on a loaded machine.
      const emulator = yield* testEmulator({ resultTtl: Duration.seconds(6) })
      const running = yield* Effect.fork(
        runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env)
      )
      yield* fs.readFileString(`${out}/journal.jsonl`).pipe(
        Effect.flatMap((
          text
        ) => (text.split("\"_tag\":\"submitted\"").length > 2 ? Effect.void : Effect.fail("not yet"))),
        Effect.retry(Schedule.spaced(Duration.millis(10)))
      )
      yield* Fiber.interrupt(running)
      const interrupted = yield* readReport(`${out}/report.json`)
      const inFlight = interrupted.jobs.filter((job) => job.status === "running")
      expect(inFlight.length).toBeGreaterThanOrEqual(2)

      yield* Effect.sleep(Duration.millis(6500))
      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0)
      const report = yield* readReport(`${out}/report.json`)
      expect(report.summary.completed).toBe(6)
      for (const job of inFlight) {
        const after = report.jobs.find((j) => j.id === job.id)!
        expect(after.resubmitted?.previousRequestId).toBe(job.requestId)
        expect(after.resubmitted?.reason).toContain("no longer known to the API")
        expect(after.requestId).not.toBe(job.requestId)
      }
      expect((yield* emulator.stats).submissions).toBe(6 + inFlight.length)
    }).pipe(Effect.provide(nodeContext)))
})
