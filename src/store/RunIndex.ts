import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Either, Option } from "effect"
import type { JournalCorrupt } from "./JournalReader.js"
import { type JournaledJob, type JournaledRun, journaledRun, readJournal } from "./JournalReader.js"
import { LATEST_LINK } from "./LatestLink.js"
import { runFiles } from "./RunDirectory.js"
import { inspectRunLock, type LockInspection } from "./RunLock.js"

/** Where a job stands, from its journal lines alone; each job is in exactly one. */
export const JOB_STATES = [
  "planned",
  "uncertain",
  "inFlight",
  "completed",
  "reused",
  "failed",
  "skipped"
] as const
export type JobState = (typeof JOB_STATES)[number]

export type JobCounts = Readonly<Record<JobState, number>>

/**
 * `uncertain`: a submit was sent and its answer never recorded (or the job
 * failed as SubmitUncertain), so the API may have taken and billed it.
 */
export const jobStateOf = (state: JournaledJob): JobState => {
  if (state.downloaded !== undefined) return state.downloaded.reusedFrom === undefined ? "completed" : "reused"
  const failure = state.finished?.status === "failed" ? state.finished.error : state.failed?.error
  if (failure !== undefined) return failure.tag === "SubmitUncertain" ? "uncertain" : "failed"
  if (state.finished?.status === "skipped") return "skipped"
  if (state.finished?.status === "completed") return state.finished.reusedFrom === undefined ? "completed" : "reused"
  if (state.submitted !== undefined) return "inFlight"
  return state.uncertain !== undefined ? "uncertain" : "planned"
}

/** A job a resume would carry on (not counting a video gone missing since): it has not ended, or it was skipped. */
export const jobUnfinished = (state: JournaledJob): boolean => {
  const jobState = jobStateOf(state)
  return jobState === "planned" || jobState === "inFlight" || jobState === "skipped" || state.uncertain !== undefined
}

export const countJobStates = (run: JournaledRun): JobCounts => {
  const counts: Record<JobState, number> = {
    planned: 0,
    uncertain: 0,
    inFlight: 0,
    completed: 0,
    reused: 0,
    failed: 0,
    skipped: 0
  }
  for (const state of run.jobs.values()) counts[jobStateOf(state)] += 1
  return counts
}

/** What the API billed so far: the `cost` figures of the jobs that ended. */
export const costSoFar = (run: JournaledRun): number =>
  [...run.jobs.values()].reduce((sum, state) => sum + (state.finished?.cost ?? 0), 0)

/** A whole directory entry, or a name this index leaves alone: hidden, `latest`, or a symbolic link. */
const isRunCandidate = (directory: string, name: string) =>
  Effect.gen(function*() {
    if (name.startsWith(".") || name === LATEST_LINK) return false
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const link = yield* fs.readLink(path.join(directory, name)).pipe(Effect.option)
    return Option.isNone(link)
  })

/**
 * The run directories under `root`, one or two levels down (as
 * `output/<manifest>/<time>/`, or a run `--out` put straight in it): folders
 * holding `journal.jsonl`. Links (`latest`) and hidden entries are no runs.
 */
export const runDirectoriesUnder = (
  root: string
): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const entries = (directory: string) =>
      fs.readDirectory(directory).pipe(
        Effect.flatMap((names) => Effect.filter(names.sort(), (name) => isRunCandidate(directory, name))),
        Effect.map((names) => names.map((name) => path.join(directory, name))),
        Effect.orElseSucceed((): ReadonlyArray<string> => [])
      )
    const holdsJournal = (directory: string) =>
      fs.exists(runFiles(path, directory).journal).pipe(Effect.orElseSucceed(() => false))
    const level1 = yield* entries(root)
    const level2 = (yield* Effect.forEach(level1, entries)).flat()
    return yield* Effect.filter([...level1, ...level2], holdsJournal)
  })

/** What `list` and `prune` know of one run: its journal folded, and who holds its lock now. */
export interface RunOverview {
  readonly runDirectory: string
  readonly runId: string
  /** the manifest's name, else the folder the run lies in */
  readonly name: string
  /** when the run started (its journal's first line) */
  readonly startedAt: string | undefined
  /** its journal's last line: when it last did something */
  readonly lastActivityAt: string | undefined
  readonly journaled: JournaledRun
  readonly counts: JobCounts
  readonly total: number
  readonly costUsd: number
  readonly lock: LockInspection
  /** a live process holds its lock */
  readonly running: boolean
  /** jobs left to carry on and nobody at it */
  readonly resumable: boolean
  /** the journal's last line was torn by a crash mid-write */
  readonly tornLine: boolean
}

/** A run's overview from its directory, read-only: no lock is taken, nothing is written. */
export const readRunOverview = (
  runDirectory: string
): Effect.Effect<RunOverview, JournalCorrupt | PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const contents = yield* readJournal(runFiles(path, runDirectory).journal)
    const journaled = journaledRun(contents.events)
    const lock = yield* inspectRunLock(runDirectory)
    const running = lock._tag === "Held" && lock.alive
    const unfinished = [...journaled.jobs.values()].some(jobUnfinished)
    const folder = path.basename(path.dirname(path.resolve(runDirectory)))
    return {
      runDirectory,
      runId: journaled.run?.runId ?? path.basename(path.resolve(runDirectory)),
      name: journaled.run?.name ?? folder,
      startedAt: contents.events[0]?.at,
      lastActivityAt: contents.events.at(-1)?.at,
      journaled,
      counts: countJobStates(journaled),
      total: journaled.jobs.size,
      costUsd: costSoFar(journaled),
      lock,
      running,
      resumable: unfinished && !running,
      tornLine: contents.tornLine
    }
  })

/** The runs under `root`, newest first, and the run directories whose journal could not be read. */
export interface RunListing {
  readonly runs: ReadonlyArray<RunOverview>
  readonly unreadable: ReadonlyArray<{ readonly runDirectory: string; readonly reason: string }>
}

export const listRuns = (root: string): Effect.Effect<RunListing, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const directories = yield* runDirectoriesUnder(root)
    const read = yield* Effect.forEach(directories, (runDirectory) =>
      readRunOverview(runDirectory).pipe(
        Effect.mapError((error) => ({ runDirectory, reason: error.message })),
        Effect.either
      ))
    const runs = read.flatMap((entry) => (Either.isRight(entry) ? [entry.right] : []))
    const unreadable = read.flatMap((entry) => (Either.isLeft(entry) ? [entry.left] : []))
    return { runs: [...runs].sort(newestFirst), unreadable }
  })

const newestFirst = (a: RunOverview, b: RunOverview): number =>
  (b.startedAt ?? "").localeCompare(a.startedAt ?? "") || b.runDirectory.localeCompare(a.runDirectory)
