import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { failingDisk } from "../pipeline/FailingDisk.js"
import { runChildCli } from "../support/ChildCli.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "3", "--expect", "0.3s"]

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m)

describe("disk problems end a command in one line", () => {
  it.scopedLive("an --out the system refuses (under /sys) ends with one shotlist: line, exit 2, no stack trace", () =>
    Effect.gen(function*() {
      const out = `/sys/shotlist-${process.pid}/run`
      const outcome = yield* runChildCli(
        ["run", SIX, "--base-url", "http://127.0.0.1:9", "--out", out],
        env
      )
      expect(outcome.code).toBe(2)
      noStack(outcome.stderr)
      const lines = outcome.stderr.trimEnd().split("\n").filter((line) => line.startsWith("shotlist: "))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`/sys/shotlist-${process.pid}`)
      expect(lines[0]).toContain("EPERM")
      expect(outcome.stderr).not.toContain("SystemError")
    }))

  it.scopedLive("a read-only --out (EROFS) is refused at the start in one line: exit 2, nothing sent", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const disk = failingDisk({ code: "EROFS", refuses: (path) => path.startsWith(out), afterBytes: 0 })
      const outcome = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env, {
        atTop: true
      }).pipe(
        Effect.provide(disk.layer)
      )
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr.split("\n")).toHaveLength(1)
      expect(outcome.stderr).toMatch(/^shotlist: .*read-only.*EROFS/)
      expect(outcome.stderr).toContain(out)
      noStack(outcome.stderr)
      expect((yield* emulator.stats).requests).toEqual([])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a report that cannot be written for a full disk ends the run in one line, exit 3, naming the fix; resume writes it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator()
      const disk = failingDisk({ code: "ENOSPC", refuses: (path) => path.includes("/.report.json."), afterBytes: 0 })
      const outcome = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env, {
        atTop: true
      }).pipe(
        Effect.provide(disk.layer)
      )
      expect(outcome.exitCode).toBe(3)
      expect(outcome.stderr.split("\n")).toHaveLength(1)
      expect(outcome.stderr).toMatch(/^shotlist: no space left .*ENOSPC.*: free space on \S+, then: shotlist resume /)
      expect(outcome.stderr).toContain(`shotlist resume ${out}`)
      noStack(outcome.stderr)
      expect(yield* fs.exists(`${out}/report.json`)).toBe(false)

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(0)
      expect((yield* readReport(`${out}/report.json`)).summary.completed).toBe(6)
      expect((yield* emulator.stats).submissions).toBe(6)
    }).pipe(Effect.provide(nodeContext)))
})
