import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Schedule, Schema } from "effect"
import { noFaults } from "../../src/emulator/Emulator.js"
import { Report } from "../../src/report/Report.js"
import { runChildCli } from "../support/ChildCli.js"
import { TEST_KEY, testEmulator } from "../support/TestRun.js"

const MANIFEST = "test/fixtures/runs/six-jobs.yaml"
const decodeReport = Schema.decodeUnknownSync(Schema.parseJson(Report))

/** Waits until the run's journal holds `count` lines tagged `tag`, then does `then`. */
const once = (
  fs: FileSystem.FileSystem,
  journalFile: string,
  tag: string,
  count: number,
  then: Effect.Effect<void>
) =>
  fs.readFileString(journalFile).pipe(
    Effect.flatMap((text) => (text.split(`"_tag":"${tag}"`).length > count ? Effect.void : Effect.fail("not yet"))),
    Effect.retry(Schedule.spaced(Duration.millis(10))),
    Effect.zipRight(then),
    Effect.orDie
  )

const signal = (pid: number, name: NodeJS.Signals) => Effect.sync(() => void process.kill(pid, name))

/** A run on the embedded emulator stopped by `stop` once a job was submitted: it must stop cleanly, report written. */
const expectCleanStop = (stop: (pid: number) => Effect.Effect<void>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // Run from the folder that holds the run, told it by its absolute path: the lines name it as every command does.
    const workingFolder = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-stop-" })
    const runDirectory = path.join(workingFolder, "run")
    const journalFile = path.join(runDirectory, "journal.jsonl")
    const outcome = yield* runChildCli(
      ["run", path.resolve(MANIFEST), "--emulator", "--out", runDirectory, "--concurrency", "2"],
      {},
      (pid) => once(fs, journalFile, "submitted", 1, stop(pid)),
      workingFolder
    )
    expect(outcome.code, outcome.stderr).toBe(130)
    expect(outcome.stderr).not.toContain("exiting at once")
    expect(outcome.stderr).toContain("report written to run/report.json")
    expect(outcome.stderr).toContain("Resume with: shotlist resume run\n")
    const report = decodeReport(yield* fs.readFileString(path.join(runDirectory, "report.json")))
    expect(report.summary.total).toBe(6)
    expect(report.jobs.some((job) => job.status === "running" && job.requestId !== undefined)).toBe(true)
  }).pipe(Effect.provide(NodeContext.layer))

describe("stop signals, sent to a real process", () => {
  it.scopedLive("one SIGTERM stops the run cleanly: report.json written, exit 130", () =>
    expectCleanStop((pid) => signal(pid, "SIGTERM")))

  it.scopedLive(
    "SIGINT then SIGTERM within a few ms (one stop, delivered twice) still stops cleanly: report.json written, exit 130",
    () =>
      expectCleanStop((pid) =>
        signal(pid, "SIGINT").pipe(
          Effect.zipRight(Effect.sleep(Duration.millis(5))),
          Effect.zipRight(signal(pid, "SIGTERM"))
        )
      )
  )

  it.scopedLive("a second signal 1.5 s after the first exits at once, without waiting for a submit on the wire", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      // The first two submits answer after 6 s: a clean stop waits for them, an exit at once does not.
      const emulator = yield* testEmulator({
        faults: {
          ...noFaults,
          slowDelay: Duration.seconds(6),
          script: [1, 2].map((call) => ({ endpoint: "submit" as const, call, fault: "slow" as const }))
        }
      })
      const runDirectory = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-stop-" }), "run")
      const journalFile = path.join(runDirectory, "journal.jsonl")
      let secondSentAt = 0
      const outcome = yield* runChildCli(
        ["run", MANIFEST, "--base-url", emulator.baseUrl, "--out", runDirectory, "--concurrency", "2", "--rpm", "6000"],
        { SEGMIND_API_KEY: TEST_KEY },
        (pid) =>
          once(
            fs,
            journalFile,
            "submitting",
            2,
            signal(pid, "SIGINT").pipe(
              Effect.zipRight(Effect.sleep(Duration.millis(1500))),
              Effect.zipRight(Effect.sync(() => void (secondSentAt = Date.now()))),
              Effect.zipRight(signal(pid, "SIGTERM"))
            )
          )
      )
      const exitedAfterMs = Date.now() - secondSentAt
      expect(outcome.code, outcome.stderr).toBe(130)
      expect(outcome.stderr).toContain("exiting at once")
      expect(secondSentAt).toBeGreaterThan(0)
      expect(exitedAfterMs).toBeLessThan(2000)
      expect(yield* fs.exists(path.join(runDirectory, "report.json"))).toBe(false)
    }).pipe(Effect.provide(NodeContext.layer)))
})
