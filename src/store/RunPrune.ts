import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import { fileMatches } from "./FileDigest.js"
import { latestRunIn, pointLatestAt, removeLatestLink } from "./LatestLink.js"
import { jobUnfinished, readRunOverview, type RunOverview } from "./RunIndex.js"
import { acquireRunLock, inspectRunLock } from "./RunLock.js"

/** Which runs `prune` removes: per manifest name, beyond the newest `keep`, and/or older than `olderThanMs`. */
export interface PrunePolicy {
  readonly keep: number | undefined
  readonly olderThanMs: number | undefined
  readonly includeResumable: boolean
  readonly nowMs: number
}

export const DEFAULT_KEEP = 5

/** What `prune` does with one run, and why it keeps one it would otherwise remove. */
export type PruneVerdict =
  | { readonly _tag: "Remove"; readonly run: RunOverview }
  /** kept by the policy: among the newest, or young enough */
  | { readonly _tag: "Keep"; readonly run: RunOverview }
  /** old enough to go, but removing it could lose work or money: the reason says which */
  | { readonly _tag: "Spare"; readonly run: RunOverview; readonly reason: string }

/** Whether the policy, by age and rank among its manifest's runs (0 = newest), would remove a run. */
const isOld = (run: RunOverview, rank: number, policy: PrunePolicy): boolean => {
  const started = run.startedAt === undefined ? Number.NaN : Date.parse(run.startedAt)
  const olderThan = policy.olderThanMs
  const byAge = olderThan !== undefined && policy.nowMs - started > olderThan
  if (policy.keep === undefined && olderThan !== undefined) return byAge
  const byRank = rank >= (policy.keep ?? DEFAULT_KEEP)
  return olderThan === undefined ? byRank : byRank && byAge
}

/** Why a run the policy would remove must stay, before looking at what other runs reuse from it. */
const protection = (run: RunOverview, policy: PrunePolicy, busyFolders: ReadonlyMap<string, number>) => {
  if (run.running && run.lock._tag === "Held") return `running now (pid ${run.lock.pid} on ${run.lock.host})`
  if (run.resumable && !policy.includeResumable) {
    const left = [...run.journaled.jobs.values()].filter(jobUnfinished).length
    return `resumable: ${left} job${left === 1 ? "" : "s"} not finished (--include-resumable removes it anyway)`
  }
  const pid = busyFolders.get(run.runDirectory)
  if (pid !== undefined) {
    return `a run of ${run.name} is going on beside it (pid ${pid}) and may reuse its videos`
  }
  return undefined
}

/** The videos a run took from another by reuse: `run` is the source's run id, `sha256` the bytes it took. */
const reusedVideos = (run: RunOverview) =>
  [...run.journaled.jobs.values()].flatMap((state) => {
    const downloaded = state.downloaded
    return downloaded?.reusedFrom === undefined
      ? []
      : [{ from: downloaded.reusedFrom, path: downloaded.output.path, sha256: downloaded.output.sha256 }]
  })

/** Whether `source` holds the video `taken` was reused from. */
const isSourceOf = (source: RunOverview, taken: ReturnType<typeof reusedVideos>[number]) =>
  source.runId === taken.from.run &&
  source.journaled.jobs.get(taken.from.job)?.downloaded?.output.sha256 === taken.sha256

/**
 * Decides each run's fate. Never removed: a running run, a resumable one
 * (unless `includeResumable`), one beside a run of its manifest starting
 * now, and one whose video a kept run reuses without a whole copy of its own
 * (a hard link is one: removing the source leaves it whole).
 */
export const pruneVerdicts = (
  runs: ReadonlyArray<RunOverview>,
  policy: PrunePolicy
): Effect.Effect<ReadonlyArray<PruneVerdict>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    // A run of a manifest holds output/<name>/.lock while it starts and renders; its reuse may take from its siblings.
    const folders = [...new Set(runs.map((run) => path.dirname(path.resolve(run.runDirectory))))]
    const folderLocks = new Map<string, number>()
    for (const folder of folders) {
      const lock = yield* inspectRunLock(folder).pipe(Effect.orElseSucceed(() => ({ _tag: "Free" }) as const))
      if (lock._tag === "Held" && lock.alive) folderLocks.set(folder, lock.pid)
    }
    const busyBeside = new Map<string, number>()
    for (const run of runs) {
      const pid = folderLocks.get(path.dirname(path.resolve(run.runDirectory)))
      if (pid !== undefined) busyBeside.set(run.runDirectory, pid)
    }

    const ranks = new Map<string, number>()
    const verdicts = new Map<string, PruneVerdict>()
    for (const run of runs) {
      const rank = ranks.get(run.name) ?? 0
      ranks.set(run.name, rank + 1)
      const reason = protection(run, policy, busyBeside)
      verdicts.set(
        run.runDirectory,
        !isOld(run, rank, policy)
          ? { _tag: "Keep", run }
          : reason === undefined
          ? { _tag: "Remove", run }
          : { _tag: "Spare", run, reason }
      )
    }

    // Sparing a source can make its own sources needed: repeat until nothing changes.
    for (let changed = true; changed;) {
      changed = false
      const kept = runs.filter((run) => verdicts.get(run.runDirectory)?._tag !== "Remove")
      for (const keeper of kept) {
        for (const taken of reusedVideos(keeper)) {
          if (yield* fileMatches(path.join(keeper.runDirectory, taken.path), taken.sha256)) continue
          const source = runs.find((run) => verdicts.get(run.runDirectory)?._tag === "Remove" && isSourceOf(run, taken))
          if (source === undefined) continue
          verdicts.set(source.runDirectory, {
            _tag: "Spare",
            run: source,
            reason: `${keeper.runDirectory} reuses its video of ${taken.from.job} and holds no whole copy of it`
          })
          changed = true
        }
      }
    }
    return runs.map((run) => verdicts.get(run.runDirectory)!)
  })

/** What removing some runs frees: a file another name still links (a kept run's reused video) frees nothing. */
export interface FreedSpace {
  /** bytes of files whose every link lies in the removed runs */
  readonly freed: number
  /** bytes of files that stay on disk through links outside them */
  readonly shared: number
}

/**
 * Takes stock of the files of some runs, so that what removing any of them
 * frees can be told after they are gone (a removed file's links cannot be).
 */
export const measureRuns = (
  runDirectories: ReadonlyArray<string>
): Effect.Effect<(removed: ReadonlySet<string>) => FreedSpace, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const inodes = new Map<string, { size: number; links: number; in: Array<string> }>()
    for (const directory of runDirectories) {
      const entries = yield* fs.readDirectory(directory, { recursive: true }).pipe(
        Effect.orElseSucceed((): ReadonlyArray<string> => [])
      )
      for (const entry of entries) {
        const info = yield* fs.stat(path.join(directory, entry)).pipe(Effect.option)
        if (Option.isNone(info) || info.value.type !== "File") continue
        const { dev, ino, nlink, size } = info.value
        const key = `${dev}:${Option.getOrElse(ino, () => `${directory}/${entry}`)}`
        const known = inodes.get(key) ?? { size: Number(size), links: Option.getOrElse(nlink, () => 1), in: [] }
        known.in.push(directory)
        inodes.set(key, known)
      }
    }
    return (removed) => {
      let freed = 0
      let shared = 0
      for (const inode of inodes.values()) {
        const gone = inode.in.filter((directory) => removed.has(directory)).length
        if (gone === 0) continue
        if (gone >= inode.links) freed += inode.size
        else shared += inode.size
      }
      return { freed, shared }
    }
  })

/** A folder a prune renamed a run to before deleting it: a crash in between leaves only this, which no listing shows. */
const PRUNING = /^\..+\.pruning-[0-9a-f]+$/

/** The outcome of removing one run: gone, or left because it changed since the verdict. */
export type Removal =
  | { readonly _tag: "Removed"; readonly runDirectory: string }
  | { readonly _tag: "Left"; readonly runDirectory: string; readonly reason: string }

/**
 * Removes a run: under its own lock (a run or resume that took it up since is
 * left alone), checked again, renamed aside in one step and then deleted.
 */
export const removeRun = (
  runDirectory: string,
  includeResumable: boolean
): Effect.Effect<Removal, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const left = (reason: string): Removal => ({ _tag: "Left", runDirectory, reason })
    const locked = yield* acquireRunLock(runDirectory).pipe(
      Effect.as(false),
      Effect.catchTag("RunLocked", () => Effect.succeed(true))
    )
    if (locked) return left("a process took it up meanwhile")
    const again = yield* readRunOverview(runDirectory).pipe(Effect.option)
    if (Option.isNone(again)) return left("its journal can no longer be read")
    if (!includeResumable && [...again.value.journaled.jobs.values()].some(jobUnfinished)) {
      return left("it became resumable meanwhile")
    }
    const absolute = path.resolve(runDirectory)
    const aside = path.join(
      path.dirname(absolute),
      `.${path.basename(absolute)}.pruning-${randomBytes(4).toString("hex")}`
    )
    yield* fs.rename(absolute, aside)
    yield* fs.remove(aside, { recursive: true })
    return { _tag: "Removed", runDirectory }
  }))

/** Deletes what an interrupted prune renamed aside in `folder`. */
export const removeLeftoversIn = (folder: string): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const names = yield* fs.readDirectory(folder).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    for (const name of names.filter((entry) => PRUNING.test(entry))) {
      yield* fs.remove(path.join(folder, name), { recursive: true }).pipe(Effect.ignore)
    }
  })

/** After runs of `folder` went: `latest` names the newest run left there, or goes if none is left. */
export const repairLatest = (
  folder: string,
  remaining: ReadonlyArray<RunOverview>
): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const target = yield* latestRunIn(folder)
    if (Option.isNone(target) || (yield* fs.exists(target.value).pipe(Effect.orElseSucceed(() => false)))) return
    const newest = remaining.find((run) => path.dirname(path.resolve(run.runDirectory)) === path.resolve(folder))
    yield* newest === undefined
      ? removeLatestLink(folder)
      : pointLatestAt(newest.runDirectory).pipe(Effect.ignore)
  })
