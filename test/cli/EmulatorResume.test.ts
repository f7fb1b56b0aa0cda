import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import { readJournal } from "../../src/store/JournalReader.js"
import { runChildCli } from "../support/ChildCli.js"
import { nodeContext, readReport } from "../support/TestRun.js"

/** Four seeded jobs of 8 s: about 3 s each on the embedded emulator, so two are surely in flight when it stops. */
const SLOW = `version: 1
name: slow
defaults:
  duration: 8
  resolution: 480p
shots:
  - id: pier
    prompt: A wooden pier at dawn, gentle waves.
    seed: 7
  - id: lanterns
    prompt: Paper lanterns drift over a dark river.
    seed: 11
  - id: street
    prompt: Rain on a neon-lit street, reflections on the asphalt.
    seed: 12
  - id: harbour
    prompt: Fishing boats unload at a quay.
    seed: 13
`

describe("resuming a run of the embedded emulator", () => {
  it.scopedLive(
    "the requests the stopped emulator held are sent again at once to the new one and named; nothing polls the old port",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-emulator-resume-" })
        const manifest = path.join(root, "slow.yaml")
        yield* fs.writeFileString(manifest, SLOW)
        const runDirectory = path.join(root, "run")
        const journalFile = path.join(runDirectory, "journal.jsonl")

        // Ctrl-C once two requests are accepted, long before either can end.
        const interruptWhenInFlight = (pid: number) =>
          fs.readFileString(journalFile).pipe(
            Effect.flatMap((text) =>
              text.split("\"_tag\":\"submitted\"").length > 2 ? Effect.void : Effect.fail("not yet")
            ),
            Effect.retry(Schedule.spaced(Duration.millis(10))),
            Effect.zipRight(Effect.sync(() => void process.kill(pid, "SIGINT"))),
            Effect.orDie
          )
        const interrupted = yield* runChildCli(
          ["run", manifest, "--emulator", "--out", runDirectory, "--concurrency", "2"],
          {},
          interruptWhenInFlight
        )
        expect(interrupted.code, interrupted.stderr).toBe(130)
        const partial = yield* readReport(path.join(runDirectory, "report.json"))
        const held = partial.jobs.filter((job) => job.status === "running")
        expect(held.length).toBeGreaterThanOrEqual(2)
        // status foresees it: a plain resume sends those again rather than polling a dead emulator.
        const status = yield* runChildCli(["status", runDirectory, "--json"], {})
        const outlook = (JSON.parse(status.stdout) as { resume: { poll: number; resubmit: number } }).resume
        expect(outlook.poll).toBe(0)
        expect(outlook.resubmit).toBeGreaterThanOrEqual(held.length)

        const startedMs = Date.now()
        const resumed = yield* runChildCli(["resume", runDirectory], {})
        const tookMs = Date.now() - startedMs
        expect(resumed.code, resumed.stderr).toBe(0)
        const report = yield* readReport(path.join(runDirectory, "report.json"))
        expect(report.summary).toMatchObject({ total: 4, completed: 4, failed: 0, skipped: 0 })
        for (const job of held) {
          const after = report.jobs.find((entry) => entry.id === job.id)!
          expect(after.resubmitted).toEqual({
            reason: `the emulator that held request ${job.requestId} stopped with its run: submitted again`,
            previousRequestId: job.requestId
          })
          expect(after.requestId).not.toBe(job.requestId)
        }
        expect(resumed.stdout).toContain(`${held.length} jobs were submitted again on resume`)
        // Not one status call for a request of the stopped emulator.
        const events = (yield* readJournal(journalFile)).events
        const sinceResume = events.slice(events.findIndex((event) => event._tag === "resumed"))
        const heldIds = new Set(held.map((job) => job.requestId))
        expect(sinceResume.filter((event) => event._tag === "status" && heldIds.has(event.requestId))).toEqual([])
        expect(resumed.stderr).not.toMatch(/ECONNREFUSED|the API named/)
        // Seconds of rendering, not a minute and more of refused connections.
        expect(tookMs).toBeLessThan(25_000)
      }).pipe(Effect.provide(nodeContext)),
    120_000
  )
})
