import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { journaledRun, readJournal } from "../../src/store/JournalReader.js"
import { runChildCli } from "../support/ChildCli.js"
import { FAST_RUN, nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const TWELVE = "test/fixtures/runs/twelve-takes.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }

describe("resume after a crash while the run was being planned", () => {
  it.scopedLive("SIGKILL after 5 of 12 jobs were planned: resume renders all 12, not only the 5 the journal knew", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const emulator = yield* testEmulator({ workers: 4 })
      const out = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-plan-" }), "run")
      const common = ["--base-url", emulator.baseUrl, "--concurrency", "4", ...FAST_RUN]
      const crashed = yield* runChildCli(["run", TWELVE, "--out", out, ...common], {
        ...env,
        SHOTLIST_CRASH_AT: "mid-plan:5"
      })
      expect(crashed.signal, crashed.stderr).toBe("SIGKILL")
      const planned = journaledRun((yield* readJournal(path.join(out, "journal.jsonl"))).events).jobs
      expect(planned.size).toBe(5)
      expect((yield* emulator.stats).submissions).toBe(0)

      const resumed = yield* runChildCli(["resume", out, ...common], env)
      expect(resumed.code, resumed.stderr).toBe(0)
      const report = yield* readReport(path.join(out, "report.json"))
      expect(report.summary).toMatchObject({ total: 12, completed: 12 })
      expect(report.jobs.map((job) => job.id)).toEqual(
        Array.from({ length: 12 }, (_, index) => `surf~take=${index + 1}`)
      )
      // The jobs planned before the crash keep the seeds they were planned with.
      for (const [id, state] of planned) {
        expect(report.jobs.find((job) => job.id === id)?.seed, id).toBe(state.job.seed)
      }
      expect((yield* emulator.stats).submissions).toBe(12)
      // Every job is in the journal now, planned once.
      const events = (yield* readJournal(path.join(out, "journal.jsonl"))).events
      expect(events.filter((event) => event._tag === "planned")).toHaveLength(12)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a run narrowed by --only is resumed with the same jobs, whatever the manifest holds besides", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const emulator = yield* testEmulator({ workers: 4 })
      const out = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-plan-" }), "run")
      const common = ["--base-url", emulator.baseUrl, "--concurrency", "4", ...FAST_RUN]
      const crashed = yield* runChildCli(["run", TWELVE, "--only", "surf~take=1*", "--out", out, ...common], {
        ...env,
        SHOTLIST_CRASH_AT: "mid-plan:2"
      })
      expect(crashed.signal, crashed.stderr).toBe("SIGKILL")

      const resumed = yield* runCli(["resume", out, ...common], env)
      expect(resumed.exitCode).toBe(0)
      const report = yield* readReport(path.join(out, "report.json"))
      expect(report.jobs.map((job) => job.id)).toEqual(["surf~take=1", "surf~take=10", "surf~take=11", "surf~take=12"])
      expect((yield* emulator.stats).submissions).toBe(4)
    }).pipe(Effect.provide(nodeContext)))
})
