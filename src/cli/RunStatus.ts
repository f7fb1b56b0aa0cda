import { Clock, Duration, Effect } from "effect"
import { lostWithEmulator, submitAgainIfLost } from "../pipeline/LostRequests.js"
import { REQUEST_TTL, type ResumeStart, resumeStartOf } from "../pipeline/ResumePlan.js"
import { roundUsd } from "../segmind/ModelCatalog.js"
import type { JournaledJob } from "../store/JournalReader.js"
import { type JobState, jobStateOf, readRunOverview, type RunOverview } from "../store/RunIndex.js"
import type { LockInspection } from "../store/RunLock.js"

/** A word of a shell command line, quoted only when it must be. */
export const shellWord = (word: string): string =>
  /^[\w./:=~+@%,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`

/** `shotlist status --json`: what a run did or is doing, from its journal alone. */
export interface RunStatus {
  readonly runDirectory: string
  readonly runId: string
  readonly name: string
  readonly manifest: { readonly path: string; readonly sha256: string } | undefined
  readonly model: string | undefined
  readonly baseUrl: string | undefined
  readonly emulator: boolean | undefined
  readonly startedAt: string | undefined
  readonly resumedAt: ReadonlyArray<string>
  readonly lastActivityAt: string | undefined
  /** the journal's last line was torn by a crash mid-write (a resume cuts it off) */
  readonly tornLine: boolean
  readonly lock: LockStatus
  readonly jobs: Readonly<Record<JobState, number>> & { readonly total: number }
  /** the API's `cost` figures of the jobs that ended */
  readonly costUsd: number
  readonly inFlight: ReadonlyArray<InFlightRequest>
  readonly uncertain: ReadonlyArray<{ readonly job: string; readonly submitAttempts: number; readonly why: string }>
  readonly failed: ReadonlyArray<{ readonly job: string; readonly tag: string; readonly message: string }>
  readonly resume: ResumeOutlook
  readonly jobList: ReadonlyArray<{ readonly id: string; readonly state: JobState; readonly requestId?: string }>
}

export interface LockStatus {
  /** `held`: a live process works in the run now; `stale`: the lock of a process that is gone */
  readonly state: "free" | "held" | "stale" | "unreadable"
  readonly pid?: number
  readonly host?: string
  readonly since?: string
}

export interface InFlightRequest {
  readonly job: string
  readonly requestId: string
  readonly submittedAt: string
  readonly ageMs: number
  readonly lastStatus?: string
  /** older than the API keeps a request (1 h): a resume submits the job again */
  readonly pastRetention: boolean
}

export interface ResumeOutlook {
  readonly possible: boolean
  /** why a resume is not possible, or has nothing to do */
  readonly note?: string
  /** requests the API still keeps, polled again, not paid for again */
  readonly poll: number
  /** finished videos downloaded from their journaled URL, not paid for again */
  readonly download: number
  /** jobs never submitted, or skipped */
  readonly submit: number
  /** jobs sent again: their request expired, or their submit's answer was lost */
  readonly resubmit: number
  /** verified videos and failures kept as they are */
  readonly keep: number
  /** failed jobs a resume keeps failed; `--retry-failed` renders them again */
  readonly failedKept: number
  readonly command?: string
}

const lockStatus = (lock: LockInspection): LockStatus => {
  switch (lock._tag) {
    case "Free":
      return { state: "free" }
    case "Unreadable":
      return { state: "unreadable" }
    case "Held":
      return { state: lock.alive ? "held" : "stale", pid: lock.pid, host: lock.host, since: lock.since }
  }
}

/** The requests the API accepted for jobs that have not ended, with their age against its retention. */
const inFlightRequests = (states: ReadonlyArray<JournaledJob>, nowMs: number): ReadonlyArray<InFlightRequest> =>
  states.flatMap((state) => {
    const { submitted } = state
    if (submitted === undefined || jobStateOf(state) !== "inFlight") return []
    const ageMs = nowMs - Date.parse(submitted.at)
    return [{
      job: state.job.id,
      requestId: submitted.requestId,
      submittedAt: submitted.at,
      ageMs,
      ...(state.lastStatus === undefined ? {} : { lastStatus: state.lastStatus }),
      pastRetention: ageMs >= Duration.toMillis(REQUEST_TTL)
    }]
  })

const uncertainJobs = (states: ReadonlyArray<JournaledJob>): RunStatus["uncertain"] =>
  states.filter((state) => jobStateOf(state) === "uncertain").map((state) => ({
    job: state.job.id,
    submitAttempts: state.submitAttempts,
    why: state.uncertain === undefined
      ? "its submit's outcome is unknown (a 502/504 or a lost answer): held, never re-sent silently"
      : `${state.uncertain.message}: held, never re-sent silently (shotlist resume --resend-uncertain sends it again)`
  }))

const failedJobs = (states: ReadonlyArray<JournaledJob>): RunStatus["failed"] =>
  states.flatMap((state) => {
    const error = state.finished?.error ?? state.failed?.error
    return jobStateOf(state) === "failed" && error !== undefined
      ? [{ job: state.job.id, tag: error.tag, message: error.message }]
      : []
  })

/** What `shotlist resume` would do with each job: the resume's own decision, made without acting on it. */
const resumeOutlook = (overview: RunOverview, nowMs: number) =>
  Effect.gen(function*() {
    const run = overview.journaled.run
    // A plain resume of an emulator run starts a new emulator: the old one's requests died with it.
    const lost = run === undefined ? undefined : lostWithEmulator(run, { emulator: run.emulator, baseUrl: run.baseUrl })
    const starts = yield* Effect.forEach(overview.journaled.jobs.values(), (state) =>
      resumeStartOf(state, overview.runDirectory, nowMs, {
        retryFailed: false,
        resendUncertain: false,
        requestTtl: REQUEST_TTL
      }).pipe(Effect.map(submitAgainIfLost(lost))))
    const count = (predicate: (start: ResumeStart) => boolean) =>
      starts.filter(predicate).length
    const poll = count((start) =>
      start._tag === "Poll"
    )
    const resubmit = count((start) => start._tag === "Submit" && start.resubmitted !== undefined)
    const submit = count((start) => start._tag === "Submit") - resubmit
    const keep = count((start) => start._tag === "Keep")
    const download = count((start) => start._tag === "Download")
    const failedKept = count((start) => start._tag === "Keep" && start.report.status === "failed")
    const counts = { poll, download, submit, resubmit, keep, failedKept }
    const command = `shotlist resume ${shellWord(overview.runDirectory)}`
    const { lock } = overview
    if (overview.journaled.run === undefined) {
      return {
        ...counts,
        possible: false,
        note: "the journal does not start with the run's settings: it cannot be resumed"
      }
    }
    if (lock._tag === "Held" && lock.alive) {
      return { ...counts, possible: false, note: `pid ${lock.pid} on ${lock.host} is working in it now` }
    }
    if (poll + submit + resubmit === 0) {
      const note = failedKept > 0
        ? `every job ended; ${command} --retry-failed would render the ${failedKept} failed again`
        : "every job ended: nothing to resume"
      return { ...counts, possible: false, note }
    }
    return { ...counts, possible: true, command }
  })

/**
 * Reads what a run did or is doing: its journal, its lock and the files its
 * journal names. Takes no lock and writes nothing, so it is safe beside a
 * live run and after a `kill -9`.
 */
export const runStatus = Effect.fn("RunStatus.runStatus")(function*(runDirectory: string) {
  const overview = yield* readRunOverview(runDirectory)
  const { journaled } = overview
  const run = journaled.run
  const nowMs = yield* Clock.currentTimeMillis
  const states = [...journaled.jobs.values()]
  return {
    runDirectory,
    runId: overview.runId,
    name: overview.name,
    manifest: run?.manifest,
    model: run?.model,
    baseUrl: run?.baseUrl,
    emulator: run?.emulator,
    startedAt: overview.startedAt,
    resumedAt: journaled.resumedAt,
    lastActivityAt: overview.lastActivityAt,
    tornLine: overview.tornLine,
    lock: lockStatus(overview.lock),
    jobs: { ...overview.counts, total: overview.total },
    costUsd: roundUsd(overview.costUsd),
    inFlight: inFlightRequests(states, nowMs),
    uncertain: uncertainJobs(states),
    failed: failedJobs(states),
    resume: yield* resumeOutlook(overview, nowMs),
    jobList: states.map((state) => ({
      id: state.job.id,
      state: jobStateOf(state),
      ...(state.submitted === undefined ? {} : { requestId: state.submitted.requestId })
    }))
  } satisfies RunStatus
})
