import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Scope } from "effect"
import { spawnSync } from "node:child_process"
import { hostname } from "node:os"
import type { JournalEvent } from "../../src/store/Journal.js"
import { journaledRun } from "../../src/store/JournalReader.js"
import { latestRunIn, pointLatestAt } from "../../src/store/LatestLink.js"
import { jobStateOf, listRuns, readRunOverview, runDirectoriesUnder } from "../../src/store/RunIndex.js"
import { acquireRunLock } from "../../src/store/RunLock.js"
import { finishedEvent, fixtureJobs, plannedEvent, runEvent, writeJournal } from "./CraftedRuns.js"

const AT = "2026-03-01T02:00:00.000Z"

describe("the run index, read from journals alone", () => {
  it.effect("each job is in exactly one state: planned, uncertain, in flight, completed, reused, failed, skipped", () =>
    Effect.gen(function*() {
      const jobs = yield* fixtureJobs
      const [planned, unanswered, inFlight, completed, reused, failed, skipped, heldUncertain] = jobs
      const submitted = (jobId: string, requestId: string): JournalEvent => ({
        _tag: "submitted",
        at: AT,
        jobId,
        requestId,
        statusUrl: `http://127.0.0.1:9/requests/${requestId}/status`,
        responseUrl: `http://127.0.0.1:9/requests/${requestId}`,
        params: jobs[0]!.params
      })
      const downloaded = (jobId: string, reusedFrom?: { run: string; job: string }): JournalEvent => ({
        _tag: "downloaded",
        at: AT,
        jobId,
        output: { path: `videos/${jobId}.mp4`, bytes: 10, sha256: "a".repeat(64), sourceUrl: "http://x/v.mp4" },
        paramsKey: jobId,
        ...(reusedFrom === undefined ? {} : { reusedFrom })
      })
      const events: Array<JournalEvent> = [
        runEvent("r", "twenty-seeds", AT),
        ...jobs.map((job) => plannedEvent(job, AT)),
        { _tag: "submitting", at: AT, jobId: unanswered!.id, attempt: 1 },
        { _tag: "submitting", at: AT, jobId: inFlight!.id, attempt: 1 },
        submitted(inFlight!.id, "req-in-flight"),
        { _tag: "status", at: AT, jobId: inFlight!.id, requestId: "req-in-flight", status: "PROCESSING" },
        { _tag: "submitting", at: AT, jobId: completed!.id, attempt: 1 },
        submitted(completed!.id, "req-done"),
        downloaded(completed!.id),
        downloaded(reused!.id, { run: "earlier", job: reused!.id }),
        { _tag: "submitting", at: AT, jobId: failed!.id, attempt: 1 },
        submitted(failed!.id, "req-failed"),
        finishedEvent(failed!, AT, "failed", "GenerationFailed", 0.33),
        finishedEvent(skipped!, AT, "skipped", "RunAborted"),
        { _tag: "submitting", at: AT, jobId: heldUncertain!.id, attempt: 1 },
        finishedEvent(heldUncertain!, AT, "failed", "SubmitUncertain")
      ]
      const run = journaledRun(events)
      const stateOf = (id: string) => jobStateOf(run.jobs.get(id)!)
      expect(stateOf(planned!.id)).toBe("planned")
      expect(stateOf(unanswered!.id)).toBe("uncertain")
      expect(stateOf(inFlight!.id)).toBe("inFlight")
      expect(stateOf(completed!.id)).toBe("completed")
      expect(stateOf(reused!.id)).toBe("reused")
      expect(stateOf(failed!.id)).toBe("failed")
      expect(stateOf(skipped!.id)).toBe("skipped")
      expect(stateOf(heldUncertain!.id)).toBe("uncertain")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("runs one or two levels down are found; latest, hidden folders and folders without a journal are not runs", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      yield* writeJournal(`${root}/nightly/20260301T020000Z`, [runEvent("20260301T020000Z", "nightly", AT)])
      yield* writeJournal(`${root}/nightly/20260302T020000Z`, [
        runEvent("20260302T020000Z", "nightly", "2026-03-02T02:00:00.000Z")
      ])
      yield* writeJournal(`${root}/by-hand`, [runEvent("by-hand", "other", "2026-02-01T00:00:00.000Z")])
      yield* writeJournal(`${root}/nightly/.20260201T000000Z.pruning-0a1b2c3d`, [runEvent("gone", "nightly", AT)])
      yield* fs.makeDirectory(`${root}/nightly/empty`)
      yield* pointLatestAt(`${root}/nightly/20260302T020000Z`)

      expect((yield* runDirectoriesUnder(root)).map((dir) => dir.slice(root.length + 1)).sort()).toEqual([
        "by-hand",
        "nightly/20260301T020000Z",
        "nightly/20260302T020000Z"
      ])
      const listing = yield* listRuns(root)
      expect(listing.runs.map((run) => run.runId)).toEqual(["20260302T020000Z", "20260301T020000Z", "by-hand"])
      expect(listing.runs.map((run) => run.name)).toEqual(["nightly", "nightly", "other"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("latest is a relative link, replaced atomically: never absent, no temporary name left behind", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const folder = `${yield* fs.makeTempDirectoryScoped()}/nightly`
      yield* fs.makeDirectory(`${folder}/first`, { recursive: true })
      yield* fs.makeDirectory(`${folder}/second`)
      yield* pointLatestAt(`${folder}/first`)
      expect(yield* fs.readLink(`${folder}/latest`)).toBe("first")
      yield* pointLatestAt(`${folder}/second`)
      expect(yield* fs.readLink(`${folder}/latest`)).toBe("second")
      expect(Option.getOrThrow(yield* latestRunIn(folder))).toBe(`${folder}/second`)
      expect((yield* fs.readDirectory(folder)).sort()).toEqual(["first", "latest", "second"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a run whose lock a live process holds is running, not resumable; a dead holder's is resumable, and its lock is left as it was", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const jobs = yield* fixtureJobs
      const runDirectory = `${yield* fs.makeTempDirectoryScoped()}/run`
      yield* writeJournal(runDirectory, [runEvent("run", "twenty-seeds", AT), plannedEvent(jobs[0]!, AT)])
      const journalBefore = yield* fs.readFileString(`${runDirectory}/journal.jsonl`)

      const idle = yield* readRunOverview(runDirectory)
      expect(idle).toMatchObject({ running: false, resumable: true, lock: { _tag: "Free" } })

      const holding = yield* Scope.make()
      yield* acquireRunLock(runDirectory).pipe(Scope.extend(holding))
      const busy = yield* readRunOverview(runDirectory)
      expect(busy).toMatchObject({ running: true, resumable: false, lock: { _tag: "Held", pid: process.pid } })
      yield* Scope.close(holding, Exit.void)

      // A lock left by a process that is gone (a kill -9): the run can be resumed.
      const deadPid = spawnSync(process.execPath, ["-e", ""]).pid
      yield* fs.writeFileString(
        `${runDirectory}/.lock`,
        JSON.stringify({ pid: deadPid, host: hostname(), since: AT }) + "\n"
      )
      const crashed = yield* readRunOverview(runDirectory)
      expect(crashed).toMatchObject({
        running: false,
        resumable: true,
        lock: { _tag: "Held", pid: deadPid, alive: false }
      })
      expect(yield* fs.readFileString(`${runDirectory}/.lock`)).toContain(`"pid":${deadPid}`)

      // Reading never wrote: the journal is as it was.
      expect(yield* fs.readFileString(`${runDirectory}/journal.jsonl`)).toBe(journalBefore)
    }).pipe(Effect.provide(NodeContext.layer)))
})
