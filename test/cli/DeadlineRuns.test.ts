import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { noFaults } from "../../src/emulator/Emulator.js"
import { readJournal } from "../../src/store/JournalReader.js"
import { FAST_RUN, nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = [...FAST_RUN]

describe("a run's deadline bounds its waits", () => {
  it.scopedLive("a 429 closing the API for a day ends the run within seconds under --deadline: the job is named and resumable (status URLs)", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator({
        faults: { ...noFaults, retryAfterSeconds: 86_400, script: [{ endpoint: "status", call: 1, fault: "429" }] }
      })
      const started = Date.now()
      const first = yield* runCli(
        [
          "run",
          SIX,
          "--base-url",
          emulator.baseUrl,
          "--out",
          out,
          "--concurrency",
          "1",
          "--deadline",
          "40s",
          "--poll-via",
          "status",
          ...fast
        ],
        env
      )
      expect(Date.now() - started).toBeLessThan(20_000)
      expect(first.exitCode).toBe(1)
      const requestId = (yield* emulator.stats).submitted[0]!.requestId
      const report = yield* readReport(`${out}/report.json`)
      const named = report.jobs.find((job) => job.requestId === requestId)!
      expect(named).toMatchObject({ status: "failed", error: { tag: "PollDeadlineExceeded" } })
      expect(first.stdout).toContain(`failed ${named.id}: PollDeadlineExceeded`)
      expect(first.stdout).toContain(requestId)
      expect(report.jobs.filter((job) => job.status === "skipped")).toHaveLength(5)
      const journal = (yield* readJournal(`${out}/journal.jsonl`)).events
      expect(journal.filter((event) => event._tag === "submitted")).toHaveLength(1)

      // The day has not passed on the emulator's side: resume polls the same request, and sends the rest.
      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(0)
      const after = yield* readReport(`${out}/report.json`)
      expect(after.summary.completed).toBe(6)
      expect(after.jobs.find((job) => job.id === named.id)?.requestId).toBe(requestId)
      expect((yield* emulator.stats).submissions).toBe(6)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("on result URLs, a 429 closing the API for a day ends every job in flight within seconds under --deadline, each named and resumable", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      // Jobs take 2 s: the result URL's first poll finds them running, and its 429 closes the API for a day.
      const emulator = yield* testEmulator({
        workers: 6,
        generationTimeModel: { kind: "fixed", ms: 2000 },
        faults: { ...noFaults, retryAfterSeconds: 86_400, script: [{ endpoint: "result", call: 1, fault: "429" }] }
      })
      const started = Date.now()
      const first = yield* runCli(
        ["run", SIX, "--base-url", emulator.baseUrl, "--out", out, "--concurrency", "6", "--deadline", "40s", ...fast],
        env
      )
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(first.exitCode).toBe(1)
      const submitted = (yield* emulator.stats).submitted.map((request) => request.requestId)
      expect(submitted).toHaveLength(6)
      const report = yield* readReport(`${out}/report.json`)
      for (const job of report.jobs) {
        expect(job).toMatchObject({ status: "failed", error: { tag: "PollDeadlineExceeded" } })
        expect(job.error?.message).toContain("1d")
        expect(job.error?.message).toContain(`request ${job.requestId} can still be resumed`)
        expect(first.stdout).toContain(job.requestId)
      }
      expect(new Set(report.jobs.map((job) => job.requestId))).toEqual(new Set(submitted))
      expect(report.run.polledVia).toBe("result")

      // Resume polls the same requests: nothing is sent again.
      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(0)
      const after = yield* readReport(`${out}/report.json`)
      expect(after.summary.completed).toBe(6)
      expect((yield* emulator.stats).submissions).toBe(6)
    }).pipe(Effect.provide(nodeContext)))
})
