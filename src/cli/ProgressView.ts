import { Clock, Duration, Effect, HashMap, Logger, LogLevel, Schedule, type Scope } from "effect"
import type { JobPhase, ProgressEvent } from "../pipeline/RunProgress.js"
import type { RunProgress } from "../pipeline/RunProgress.js"
import { formatDuration } from "../report/DurationFormat.js"
import { colourWanted, formatLogLine } from "./Logging.js"

/** The live view redraws itself with ANSI cursor codes: on a terminal only, and not under NO_COLOR, which asks for none. */
export const canRedraw = (stream: { readonly isTTY?: boolean }): boolean => colourWanted(stream)

/** What the live view knows of a run. */
export interface ProgressState {
  readonly total: number
  readonly alreadyDone: number
  readonly concurrency: number
  readonly startedMs: number
  readonly phases: ReadonlyMap<string, JobPhase>
  /** when each job was first submitted in this process */
  readonly submittedMs: ReadonlyMap<string, number>
  /** submission-to-video times of the jobs completed in this process */
  readonly jobTimesMs: ReadonlyArray<number>
  readonly lastErrors: ReadonlyArray<string>
}

export const emptyProgress: ProgressState = {
  total: 0,
  alreadyDone: 0,
  concurrency: 1,
  startedMs: 0,
  phases: new Map(),
  submittedMs: new Map(),
  jobTimesMs: [],
  lastErrors: []
}

/** The state after one job's change of phase. */
export const applyEvent = (state: ProgressState, event: ProgressEvent): ProgressState => {
  const phases = new Map(state.phases).set(event.jobId, event.phase)
  const submittedMs = new Map(state.submittedMs)
  if (event.phase === "submitted" && !submittedMs.has(event.jobId)) submittedMs.set(event.jobId, event.atMs)
  const since = submittedMs.get(event.jobId)
  const jobTimesMs = event.phase === "completed" && since !== undefined
    ? [...state.jobTimesMs, event.atMs - since]
    : state.jobTimesMs
  const lastErrors = event.phase === "failed"
    ? [...state.lastErrors, `${event.jobId}: ${event.message}`].slice(-3)
    : state.lastErrors
  return { ...state, phases, submittedMs, jobTimesMs, lastErrors }
}

const count = (state: ProgressState, ...phases: ReadonlyArray<JobPhase>) =>
  [...state.phases.values()].filter((phase) => phases.includes(phase)).length

/**
 * The lines of the live view: a bar with done/total, elapsed and an ETA
 * learned from this run's completed jobs; jobs by state; the last errors.
 */
export const renderProgress = (state: ProgressState, nowMs: number, width = 80): ReadonlyArray<string> => {
  const completed = state.alreadyDone + count(state, "completed")
  const failed = count(state, "failed")
  const skipped = count(state, "skipped")
  const done = completed + failed + skipped
  const inFlight = count(state, "submitted", "queued", "processing", "downloading")
  const waiting = Math.max(0, state.total - done - inFlight)
  const barWidth = Math.max(10, Math.min(40, width - 50))
  const filled = state.total === 0 ? 0 : Math.round((done / state.total) * barWidth)
  const bar = `${"█".repeat(filled)}${"░".repeat(barWidth - filled)}`
  const times = state.jobTimesMs
  const eta = times.length === 0 || done >= state.total
    ? done >= state.total ? "done" : "ETA after the first job"
    : `ETA ~${
      formatDuration(
        (times.reduce((a, b) => a + b, 0) / times.length) *
          Math.ceil((waiting + inFlight) / Math.max(1, state.concurrency)),
        "clock"
      )
    }`
  const lines = [
    `${bar} ${done}/${state.total}  elapsed ${formatDuration(nowMs - state.startedMs, "clock")}  ${eta}`,
    `  ${completed} done, ${failed} failed, ${skipped} skipped | ${count(state, "submitted", "queued")} queued, ${
      count(state, "processing")
    } rendering, ${count(state, "downloading")} downloading | ${waiting} waiting`,
    ...state.lastErrors.map((error) => `  ✗ ${error}`)
  ]
  return lines.map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line))
}

/**
 * On a terminal: a live view of the run redrawn in place on stderr, with
 * warnings, failures and other messages printed above it (a job's routine
 * changes of phase show in the view only). Provides `RunProgress` and the
 * logger for the scope.
 */
export const liveProgressView = (stream: NodeJS.WriteStream): Effect.Effect<
  { readonly progress: RunProgress["Type"]; readonly logger: Logger.Logger<unknown, void> },
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    // The view's own state, read synchronously by the logger between redraws.
    let snapshot = emptyProgress
    let drawn = 0
    let active = false
    const erase = () => {
      if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[0J`)
      drawn = 0
    }
    const draw = (nowMs: number) => {
      erase()
      const lines = renderProgress(
        snapshot,
        nowMs,
        stream.columns !== undefined && stream.columns >= 40 ? stream.columns : 100
      )
      stream.write(lines.join("\n") + "\n")
      drawn = lines.length
    }
    const redraw = Effect.gen(function*() {
      if (active) draw(yield* Clock.currentTimeMillis)
    })

    const logger = Logger.make<unknown, void>((options) => {
      const phase = HashMap.get(options.annotations, "phase")
      const routine = phase._tag === "Some" && phase.value !== "failed" &&
        !LogLevel.greaterThanEqual(options.logLevel, LogLevel.Warning)
      if (routine) return
      const wasDrawn = drawn > 0
      erase()
      stream.write(formatLogLine(options) + "\n")
      if (wasDrawn) draw(options.date.getTime())
    })

    yield* Effect.forkScoped(redraw.pipe(Effect.repeat(Schedule.spaced(Duration.millis(250)))))
    yield* Effect.addFinalizer(() =>
      redraw.pipe(Effect.zipRight(Effect.sync(() => {
        active = false
        drawn = 0
      })))
    )

    const progress: RunProgress["Type"] = {
      started: (run) =>
        Effect.sync(() => {
          snapshot = {
            ...snapshot,
            total: run.total,
            alreadyDone: run.alreadyDone,
            concurrency: run.concurrency,
            startedMs: run.atMs
          }
          active = true
        }).pipe(Effect.zipRight(redraw)),
      changed: (event) => Effect.sync(() => void (snapshot = applyEvent(snapshot, event)))
    }
    return { progress, logger }
  })
