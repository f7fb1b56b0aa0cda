import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { listRuns } from "../../src/store/RunIndex.js"
import { acquireRunLock } from "../../src/store/RunLock.js"
import { measureRuns, type PrunePolicy, pruneVerdicts } from "../../src/store/RunPrune.js"
import { daysAgo, finishedEvent, fixtureJobs, plannedEvent, runEvent, writeJournal } from "./CraftedRuns.js"

const NOW = Date.parse("2026-03-01T02:00:00.000Z")
const policy = (fields: Partial<PrunePolicy>): PrunePolicy => ({
  keep: undefined,
  olderThanMs: undefined,
  includeResumable: false,
  nowMs: NOW,
  ...fields
})

/** Runs of two manifests: `nightly` started 40, 10 and 0 days ago, `weekly` 40 days ago; every job of each ended. */
const craftRuns = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const root = yield* fs.makeTempDirectoryScoped()
  const jobs = yield* fixtureJobs
  const ended = (days: number) => {
    const at = daysAgo(NOW, days)
    return [plannedEvent(jobs[0]!, at), finishedEvent(jobs[0]!, at, "failed", "GenerationFailed")]
  }
  for (const [name, days] of [["nightly", 40], ["nightly", 10], ["nightly", 0], ["weekly", 40]] as const) {
    const runId = `${days}-days-ago`
    yield* writeJournal(`${root}/${name}/${runId}`, [runEvent(runId, name, daysAgo(NOW, days)), ...ended(days)])
  }
  return root
})

const removedBy = (root: string, fields: Partial<PrunePolicy>) =>
  Effect.gen(function*() {
    const verdicts = yield* pruneVerdicts((yield* listRuns(root)).runs, policy(fields))
    return verdicts.filter((verdict) => verdict._tag === "Remove").map((verdict) =>
      verdict.run.runDirectory.slice(root.length + 1)
    ).sort()
  })

describe("which runs prune removes", () => {
  it.scoped("per manifest: the newest N stay; --older-than alone goes by age; both together remove only runs both old and beyond N", () =>
    Effect.gen(function*() {
      const root = yield* craftRuns
      expect(yield* removedBy(root, {})).toEqual([])
      expect(yield* removedBy(root, { keep: 1 })).toEqual(["nightly/10-days-ago", "nightly/40-days-ago"])
      expect(yield* removedBy(root, { olderThanMs: 30 * 86_400_000 })).toEqual([
        "nightly/40-days-ago",
        "weekly/40-days-ago"
      ])
      expect(yield* removedBy(root, { keep: 1, olderThanMs: 30 * 86_400_000 })).toEqual(["nightly/40-days-ago"])
      expect(yield* removedBy(root, { keep: 0 })).toHaveLength(4)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a running run and a resumable one are spared, with the reason; --include-resumable lets the latter go", () =>
    Effect.gen(function*() {
      const root = yield* craftRuns
      const jobs = yield* fixtureJobs
      const old = daysAgo(NOW, 50)
      yield* writeJournal(`${root}/nightly/interrupted`, [
        runEvent("interrupted", "nightly", old),
        plannedEvent(jobs[1]!, old)
      ])
      yield* acquireRunLock(`${root}/nightly/40-days-ago`)

      const verdicts = yield* pruneVerdicts((yield* listRuns(root)).runs, policy({ keep: 1 }))
      const spared = verdicts.flatMap((verdict) =>
        verdict._tag === "Spare" ? [[verdict.run.runId, verdict.reason] as const] : []
      )
      expect(spared).toEqual([
        ["40-days-ago", expect.stringContaining(`running now (pid ${process.pid} on `)],
        ["interrupted", expect.stringContaining("resumable: 1 job not finished")]
      ])
      expect(yield* removedBy(root, { keep: 1 })).toEqual(["nightly/10-days-ago"])
      expect(yield* removedBy(root, { keep: 1, includeResumable: true })).toEqual([
        "nightly/10-days-ago",
        "nightly/interrupted"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("while a run of a manifest holds its output folder's lock, that manifest's old runs stay: the run may reuse them", () =>
    Effect.gen(function*() {
      const root = yield* craftRuns
      yield* acquireRunLock(`${root}/nightly`)
      const verdicts = yield* pruneVerdicts((yield* listRuns(root)).runs, policy({ keep: 0 }))
      const fates = verdicts.map((verdict) => [verdict.run.runDirectory.slice(root.length + 1), verdict._tag]).sort()
      expect(fates).toEqual([
        ["nightly/0-days-ago", "Spare"],
        ["nightly/10-days-ago", "Spare"],
        ["nightly/40-days-ago", "Spare"],
        ["weekly/40-days-ago", "Remove"]
      ])
      const reasons = verdicts.flatMap((verdict) => (verdict._tag === "Spare" ? [verdict.reason] : []))
      for (const reason of reasons) {
        expect(reason).toContain(`a run of nightly is going on beside it (pid ${process.pid})`)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("space freed counts a file only when every link to it goes: a hard link kept elsewhere frees nothing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      yield* fs.makeDirectory(`${root}/old/videos`, { recursive: true })
      yield* fs.makeDirectory(`${root}/kept/videos`, { recursive: true })
      yield* fs.writeFile(`${root}/old/videos/a.mp4`, new Uint8Array(1000))
      yield* fs.writeFile(`${root}/old/videos/b.mp4`, new Uint8Array(300))
      yield* fs.writeFile(`${root}/old/journal.jsonl`, new Uint8Array(20))
      yield* fs.link(`${root}/old/videos/a.mp4`, `${root}/kept/videos/a.mp4`)

      const freedBy = yield* measureRuns([`${root}/old`, `${root}/kept`])
      expect(freedBy(new Set([`${root}/old`]))).toEqual({ freed: 320, shared: 1000 })
      expect(freedBy(new Set([`${root}/old`, `${root}/kept`]))).toEqual({ freed: 1320, shared: 0 })
      expect(freedBy(new Set())).toEqual({ freed: 0, shared: 0 })
    }).pipe(Effect.provide(NodeContext.layer)))
})
