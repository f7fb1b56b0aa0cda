import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runChildCli } from "../support/ChildCli.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"
import { NIGHTLY_JOBS, runDirectoryOf, writeNightlyManifest } from "./LookBackRuns.js"

/** Two `shotlist run` processes of the same manifest, started together in `cwd`, with their pids. */
const twoRunsAtOnce = (cwd: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function*() {
    const pids: Array<number> = [0, 0]
    const start = (index: number) =>
      runChildCli(args, env, (pid) => Effect.sync(() => void (pids[index] = pid)), cwd).pipe(
        Effect.map((outcome) => ({ ...outcome, pid: pids[index]! }))
      )
    return yield* Effect.all([start(0), start(1)], { concurrency: 2 })
  })

describe("overlapping nightly runs of one manifest into one output folder", () => {
  it.scopedLive(
    "without --wait the second run exits 2 naming the first's run directory and pid, and sends nothing",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const cwd = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-overlap-" })
        const manifest = yield* writeNightlyManifest(cwd)

        const outcomes = yield* twoRunsAtOnce(cwd, ["run", manifest, "--emulator"], {})
        const winner = outcomes.find((outcome) => outcome.code === 0)
        const refused = outcomes.find((outcome) => outcome.code === 2)
        expect(winner, outcomes.map((outcome) => outcome.stderr).join("\n---\n")).toBeDefined()
        expect(refused, outcomes.map((outcome) => outcome.stderr).join("\n---\n")).toBeDefined()
        const firstRun = runDirectoryOf(winner!.stdout)
        expect(firstRun).toMatch(/^output\/nightly\/\d{8}T\d{6}Z$/)
        expect(refused!.stderr).toContain(`the run ${firstRun} (pid ${winner!.pid} on `)
        expect(refused!.stderr).toContain("would pay for the same jobs")
        expect(refused!.stderr).toContain("--wait")
        expect(refused!.stderr, "refused before its emulator started or anything was sent").not.toMatch(
          /emulator serving|submitted as/
        )
        // The refused run made no run directory of its own; latest names the one that ran.
        expect((yield* fs.readDirectory(`${cwd}/output/nightly`)).sort()).toEqual([firstRun.split("/")[2], "latest"])
        expect(yield* fs.readLink(`${cwd}/output/nightly/latest`)).toBe(firstRun.split("/")[2])
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive(
    "with --wait the second run waits for the first, then reuses every job: only the first run's submissions reach the API",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const cwd = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-overlap-wait-" })
        const manifest = yield* writeNightlyManifest(cwd)
        // Slow enough that the two runs overlap for seconds, as a long night does.
        const emulator = yield* testEmulator({ generationTimeModel: { kind: "fixed", ms: 1500 }, workers: 2 })

        const outcomes = yield* twoRunsAtOnce(
          cwd,
          ["run", manifest, "--base-url", emulator.baseUrl, "--rpm", "6000", "--expect", "1.5s", "--wait"],
          { SEGMIND_API_KEY: TEST_KEY }
        )
        for (const outcome of outcomes) expect(outcome.code, outcome.stderr).toBe(0)
        const runs = yield* Effect.forEach(outcomes, (outcome) =>
          Effect.map(readReport(`${cwd}/${runDirectoryOf(outcome.stdout)}/report.json`), (report) => ({
            outcome,
            report,
            runDirectory: runDirectoryOf(outcome.stdout)
          })))
        const first = runs.find((run) =>
          run.report.jobs.every((job) =>
            job.reusedFrom === undefined
          )
        )
        const second = runs.find((run) => run.report.jobs.every((job) => job.reusedFrom !== undefined))
        expect(first, "one run rendered every job").toBeDefined()
        expect(second, "the other reused every job").toBeDefined()
        expect(second!.report.jobs).toHaveLength(NIGHTLY_JOBS)
        for (const job of second!.report.jobs) expect(job.reusedFrom?.run).toBe(first!.report.run.id)
        expect(second!.outcome.stderr).toContain(
          `waiting for the run ${first!.runDirectory} (pid ${first!.outcome.pid} on `
        )
        expect((yield* emulator.stats).submissions, "submissions: only the first run's").toBe(NIGHTLY_JOBS)
        expect(Date.parse(second!.report.run.startedAt)).toBeGreaterThanOrEqual(
          Date.parse(first!.report.run.finishedAt)
        )

        // latest names the newer run, relative; list counts two runs, not the link.
        expect(yield* fs.readLink(`${cwd}/output/nightly/latest`)).toBe(second!.runDirectory.split("/")[2])
        const listed = yield* runCli(["list", `${cwd}/output`, "--json"])
        const listing = JSON.parse(listed.stdout) as { runs: ReadonlyArray<{ runDirectory: string }> }
        expect(listing.runs.map((run) => run.runDirectory)).toEqual([
          `${cwd}/${second!.runDirectory}`,
          `${cwd}/${first!.runDirectory}`
        ])
        expect(yield* fs.exists(`${cwd}/output/nightly/.lock`), "the manifest's lock is released").toBe(false)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )
})
