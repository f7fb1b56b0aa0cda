import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { RunStatus } from "../../src/cli/RunStatus.js"
import { formatUsd } from "../../src/segmind/ModelCatalog.js"
import { journaledRun, readJournal } from "../../src/store/JournalReader.js"
import { pointLatestAt } from "../../src/store/LatestLink.js"
import { acquireRunLock } from "../../src/store/RunLock.js"
import { runChildCli } from "../support/ChildCli.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"
import { NIGHTLY_JOBS, sha256, snapshotTree, writeNightlyManifest } from "./LookBackRuns.js"

interface ListedRun {
  readonly runId: string
  readonly emulator: boolean
  readonly baseUrl: string
  readonly jobs: Record<string, number>
  readonly costUsd: number
  readonly state: string
  readonly resumable: boolean
}

/**
 * Two finished runs of the nightly manifest under `root/nightly/`, both on the
 * embedded emulator (one origin, whatever its port): `first` renders every job,
 * `second` reuses all of them (hard links to first's videos).
 */
const twoRuns = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-lookback-" })
  const manifest = yield* writeNightlyManifest(root)
  const first = `${root}/nightly/first`
  const second = `${root}/nightly/second`
  const rendered = yield* runCli(["run", manifest, "--emulator", "--out", first])
  expect(rendered.exitCode, rendered.stderr).toBe(0)
  const reused = yield* runCli(["run", manifest, "--emulator", "--out", second])
  expect(reused.exitCode, reused.stderr).toBe(0)
  const secondReport = yield* readReport(`${second}/report.json`)
  expect(secondReport.jobs.every((job) => job.reusedFrom?.run === "first"), "second reused every job").toBe(true)
  return { root, first, second }
})

describe("looking back at runs: status, list, prune", () => {
  it.scopedLive(
    "status of a run SIGKILLed mid-flight shows its in-flight request ids and the resume command, and changes nothing",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const emulator = yield* testEmulator({ timeScale: 1, workers: 8 })
        const runDirectory = `${yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-status-" })}/run`
        let childPid = 0
        const killed = yield* runChildCli(
          [
            "run",
            "test/fixtures/runs/twenty-seeds.yaml",
            "--out",
            runDirectory,
            "--base-url",
            emulator.baseUrl,
            "--concurrency",
            "4",
            "--rpm",
            "6000"
          ],
          { SEGMIND_API_KEY: TEST_KEY, SHOTLIST_CRASH_AT: "after-submit:4" },
          (pid) => Effect.sync(() => void (childPid = pid))
        )
        expect(killed.signal, killed.stderr).toBe("SIGKILL")
        const journal = journaledRun((yield* readJournal(`${runDirectory}/journal.jsonl`)).events)
        const accepted = [...journal.jobs.values()].flatMap((job) =>
          job.submitted === undefined ? [] : [job.submitted.requestId]
        )
        expect(accepted.length).toBeGreaterThanOrEqual(1)

        const before = yield* snapshotTree(runDirectory)
        const text = yield* runCli(["status", runDirectory])
        const json = yield* runCli(["status", runDirectory, "--json"])
        expect(yield* snapshotTree(runDirectory), "status wrote nothing, took no lock").toEqual(before)

        expect(text.exitCode, text.stderr).toBe(0)
        for (const requestId of accepted) expect(text.stdout).toContain(requestId)
        expect(text.stdout).toContain(`shotlist resume ${runDirectory}`)
        expect(text.stdout).toContain(`left by pid ${childPid}`)
        expect(text.stdout).toContain("no longer running")
        expect(text.stdout).toMatch(/jobs \(20\): \d+ planned, \d+ submitting\/uncertain, \d+ in flight/)
        console.info(`status of a killed run:\n${text.stdout}`)

        expect(json.exitCode, json.stderr).toBe(0)
        const status = JSON.parse(json.stdout) as RunStatus
        expect(status.inFlight.map((request) => request.requestId).sort()).toEqual([...accepted].sort())
        for (const request of status.inFlight) expect(request.pastRetention).toBe(false)
        expect(status.lock).toMatchObject({ state: "stale", pid: childPid })
        expect(status.resume).toMatchObject({
          possible: true,
          poll: accepted.length,
          // A submit on the wire at the kill is held, not re-sent, by a plain resume.
          keep: status.uncertain.length,
          command: `shotlist resume ${runDirectory}`
        })
        expect(status.resume.submit + status.resume.resubmit).toBe(20 - accepted.length - status.uncertain.length)
        const { total, ...byState } = status.jobs
        expect(total).toBe(20)
        expect(Object.values(byState).reduce((a, b) => a + b, 0), "each job in one state").toBe(20)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive(
    "list shows two runs on the emulator, newest first, with where they ran, their jobs and cost",
    () =>
      Effect.gen(function*() {
        const { first, root, second } = yield* twoRuns
        // A latest link is no third run.
        yield* pointLatestAt(second)
        const firstReport = yield* readReport(`${first}/report.json`)

        const text = yield* runCli(["list", root])
        expect(text.exitCode, text.stderr).toBe(0)
        console.info(`list:\n${text.stdout}`)
        const rows = text.stdout.split("\n").filter((line) => line.includes(`${root}/nightly/`))
        expect(rows).toHaveLength(2)
        expect(rows[0]).toMatch(
          new RegExp(`nightly\\s+emulator\\s+0\\s+4\\s+0\\s+0\\s+\\$0\\.00\\s+finished\\s+${second}$`)
        )
        expect(rows[1]).toMatch(/nightly\s+emulator\s+4\s+0\s+0\s+0\s+\S+\s+finished/)
        expect(rows[1]).toContain(formatUsd(firstReport.summary.cost!.usd))
        expect(text.stdout).toContain("2 runs under")

        const json = yield* runCli(["list", root, "--json"])
        const listing = JSON.parse(json.stdout) as { runs: ReadonlyArray<ListedRun> }
        expect(listing.runs.map((run) => run.runId)).toEqual(["second", "first"])
        expect(listing.runs[0]).toMatchObject({
          emulator: true,
          jobs: { reused: NIGHTLY_JOBS, completed: 0, failed: 0, total: NIGHTLY_JOBS },
          costUsd: 0,
          state: "finished",
          resumable: false
        })
        expect(listing.runs[1]).toMatchObject({
          emulator: true,
          jobs: { completed: NIGHTLY_JOBS, reused: 0, failed: 0 },
          state: "finished",
          resumable: false
        })
        expect(listing.runs[1]!.costUsd).toBeCloseTo(firstReport.summary.cost!.usd, 6)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive(
    "prune removes an old run whose videos a kept run reuses: the kept run's hard links stay whole; running and resumable runs stay",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const { first, root, second } = yield* twoRuns
        // An interrupted run (planned, never submitted) and one a live process holds, both older than `second`.
        const journalLines = (yield* fs.readFileString(`${first}/journal.jsonl`)).split("\n")
        const interrupted = `${root}/nightly/interrupted`
        const busy = `${root}/nightly/busy`
        yield* fs.makeDirectory(interrupted)
        yield* fs.writeFileString(
          `${interrupted}/journal.jsonl`,
          journalLines.filter((line) => /"_tag":"(run|planned)"/.test(line)).join("\n") + "\n"
        )
        yield* fs.makeDirectory(busy)
        yield* fs.writeFileString(`${busy}/journal.jsonl`, journalLines.join("\n"))
        yield* acquireRunLock(busy)

        const kept = yield* readReport(`${second}/report.json`)
        const reusedVideos = kept.jobs.map((job) => job.output!)
        expect(kept.jobs.every((job) => job.reusedFrom?.run === "first")).toBe(true)
        const linksOf = (file: string) => Effect.map(fs.stat(file), (info) => Option.getOrThrow(info.nlink))
        for (const video of reusedVideos) expect(yield* linksOf(`${second}/${video.path}`)).toBe(2)
        // What removing `first` frees: its files no kept run links.
        let expectedFreed = 0
        for (const entry of yield* fs.readDirectory(first, { recursive: true })) {
          const info = yield* fs.stat(path.join(first, entry))
          if (info.type === "File" && info.nlink._tag === "Some" && info.nlink.value === 1) {
            expectedFreed += Number(info.size)
          }
        }

        const before = yield* snapshotTree(root)
        const dry = yield* runCli(["prune", root, "--keep", "1", "--dry-run"])
        expect(dry.exitCode, dry.stderr).toBe(0)
        expect(yield* snapshotTree(root), "--dry-run removes nothing").toEqual(before)
        expect(dry.stdout).toContain(`would remove ${first} (nightly`)
        expect(dry.stdout).toMatch(new RegExp(`kept ${interrupted} .*: resumable: ${NIGHTLY_JOBS} jobs not finished`))
        expect(dry.stdout).toMatch(new RegExp(`kept ${busy} .*: running now \\(pid ${process.pid} on `))
        expect(dry.stdout).toContain(`would remove 1 of 4 runs, freeing ${expectedFreed} bytes`)
        expect(dry.stdout).toContain("nothing was removed")

        // A kept run that lost its copy of a reused video keeps that video's source.
        const lost = `${second}/${reusedVideos[0]!.path}`
        yield* fs.rename(lost, `${lost}.aside`)
        const guarded = yield* runCli(["prune", root, "--keep", "1", "--dry-run"])
        expect(guarded.stdout).toContain(`kept ${first} `)
        expect(guarded.stdout).toContain(
          `${second} reuses its video of ${kept.jobs[0]!.id} and holds no whole copy of it`
        )
        yield* fs.rename(`${lost}.aside`, lost)

        const pruned = yield* runCli(["prune", root, "--keep", "1"])
        expect(pruned.exitCode, pruned.stderr).toBe(0)
        console.info(`prune:\n${pruned.stdout}`)
        expect(pruned.stdout).toContain(`removed ${first} (nightly`)
        expect(pruned.stdout).toContain(`removed 1 of 4 runs, freed ${expectedFreed} bytes`)
        expect(yield* fs.exists(first)).toBe(false)
        expect(yield* fs.exists(`${interrupted}/journal.jsonl`)).toBe(true)
        expect(yield* fs.exists(`${busy}/journal.jsonl`)).toBe(true)
        for (const video of reusedVideos) {
          const bytes = yield* fs.readFile(`${second}/${video.path}`)
          expect(bytes.length).toBe(video.bytes)
          expect(sha256(bytes), `${video.path} is whole`).toBe(video.sha256)
          expect(yield* linksOf(`${second}/${video.path}`), "its source's link is gone").toBe(1)
        }
        expect((yield* fs.readDirectory(`${root}/nightly`)).filter((name) => name.startsWith("."))).toEqual([])

        const withResumable = yield* runCli(["prune", root, "--keep", "1", "--include-resumable"])
        expect(withResumable.stdout).toContain(`removed ${interrupted} (nightly`)
        expect(yield* fs.exists(interrupted)).toBe(false)
        expect(yield* fs.exists(`${busy}/journal.jsonl`)).toBe(true)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )
})
