import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readJournal } from "../../src/store/JournalReader.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"
import { failingDisk } from "./FailingDisk.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "2", "--expect", "0.3s"]

describe("a disk that fills up during a run", () => {
  it.scopedLive("a full disk while videos are written stops new submits at once, keeps the accepted jobs for resume, and exits 3 naming the path and the fix", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const disk = failingDisk({
        code: "ENOSPC",
        refuses: (path) => path.startsWith(`${out}/.partial/`) || path.startsWith(`${out}/videos/`),
        afterBytes: 4096
      })
      const first = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env).pipe(
        Effect.provide(disk.layer)
      )
      expect(first.exitCode).toBe(3)
      expect(disk.refused.length).toBeGreaterThan(0)
      // The two jobs in flight when the disk filled were paid for; nothing was sent after.
      const stats = yield* emulator.stats
      expect(stats.submissions).toBe(2)
      const report = yield* readReport(`${out}/report.json`)
      expect(report.run.aborted?.tag).toBe("DiskUnwritable")
      expect(report.run.aborted?.message).toContain(`${out}/.partial/`)
      expect(report.run.aborted?.message).toMatch(/free space on \S+, then: shotlist resume /)
      expect(report.run.aborted?.message).toContain(`shotlist resume ${out}`)
      const running = report.jobs.filter((job) => job.status === "running")
      expect(running.map((job) => job.requestId).sort()).toEqual(stats.submitted.map((s) => s.requestId).sort())
      expect(report.jobs.filter((job) => job.status === "skipped")).toHaveLength(4)
      expect(first.stdout).toContain(`run stopped: DiskUnwritable: ${report.run.aborted?.message}`)
      // Nothing is failed for good in the journal: resume takes every job up again.
      const journal = (yield* readJournal(`${out}/journal.jsonl`)).events
      expect(journal.filter((event) => event._tag === "failed")).toEqual([])

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(0)
      const after = yield* readReport(`${out}/report.json`)
      expect(after.summary.completed).toBe(6)
      for (const job of running) expect(after.jobs.find((j) => j.id === job.id)?.requestId).toBe(job.requestId)
      expect((yield* emulator.stats).submissions).toBe(6)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a full disk under the journal (a torn line) stops the run with exit 3; the journal stays readable and resume pays for nothing twice", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const disk = failingDisk({
        code: "ENOSPC",
        refuses: (path) => path === `${out}/journal.jsonl`,
        fillsFrom: (text) => text.includes("\"_tag\":\"status\""),
        afterBytes: 20
      })
      const first = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env).pipe(
        Effect.provide(disk.layer)
      )
      expect(first.exitCode).toBe(3)
      expect((yield* emulator.stats).submissions).toBe(2)
      const report = yield* readReport(`${out}/report.json`)
      expect(report.run.aborted?.message).toContain(`${out}/journal.jsonl`)
      expect(report.run.aborted?.message).toContain(`shotlist resume ${out}`)
      expect(report.jobs.filter((job) => job.status === "running")).toHaveLength(2)
      const contents = yield* readJournal(`${out}/journal.jsonl`)
      expect(contents.tornLine).toBe(true)

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(0)
      expect((yield* readReport(`${out}/report.json`)).summary.completed).toBe(6)
      expect((yield* emulator.stats).submissions).toBe(6)
    }).pipe(Effect.provide(nodeContext)))
})
