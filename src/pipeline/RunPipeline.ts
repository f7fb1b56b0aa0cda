import { FileSystem, Path } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Duration, Effect, Layer, Option } from "effect"
import type { Job } from "../domain/Job.js"
import { type ErrorRecord, type JobReport, jobReportBase } from "../domain/JobReport.js"
import { TOOL_NAME, TOOL_VERSION } from "../domain/Tool.js"
import { type Report, REPORT_SCHEMA_VERSION, summarize } from "../report/Report.js"
import { writeReportFiles } from "../report/ReportFile.js"
import { SegmindClient } from "../segmind/SegmindClient.js"
import { layerSegmindConfig, type SegmindSettings } from "../segmind/SegmindConfig.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { type DiskUnwritable, diskUnwritableOf, withFix } from "../store/DiskErrors.js"
import { displayPath } from "../store/DisplayPath.js"
import { Journal, type JournalEntry } from "../store/Journal.js"
import type { JournaledRun } from "../store/JournalReader.js"
import { type RunFiles, runFiles } from "../store/RunDirectory.js"
import { CrashPoints } from "./CrashPoints.js"
import { FrameResolver, keepFrameCopies } from "./FrameUploads.js"
import { type JobSettings, runJob } from "./JobRunner.js"
import { submitStart } from "./JobStart.js"
import { type LostRequest, submitAgainIfLost } from "./LostRequests.js"
import type { PollRoute } from "./PollRoute.js"
import { DEFAULT_POLL, type PollSettings } from "./PollSchedule.js"
import { PollScheduler } from "./PollScheduler.js"
import { RequestBudget } from "./RequestBudget.js"
import { type ResumeOptions, type ResumeStart, resumeStartOf } from "./ResumePlan.js"
import { DEFAULT_RETRY, type RetrySettings } from "./RetryPolicy.js"
import { apiOriginOf, emptyReuseIndex, type ReuseIndex } from "./ReuseCache.js"
import { RunGate } from "./RunGate.js"
import { RunProgress } from "./RunProgress.js"
import { makeShotChain, renderInChainOrder, skipFollower } from "./ShotChain.js"
/** The manifest a run renders, as recorded in its report. */
export interface RunManifest {
  readonly path: string
  readonly sha256: string
  /** the manifest's `name`, when known (a replay of an old report may lack it) */
  readonly name?: string | undefined
  /** its text, copied into the run directory (absent for a replay of a run whose copy is gone) */
  readonly text: string | undefined
}

export interface RunPlan {
  readonly runId: string
  readonly runDirectory: string
  readonly manifest: RunManifest
  readonly jobs: ReadonlyArray<Job>
  readonly model: string
  readonly baseUrl: string
  /** rendered on the embedded emulator (a resume starts a new one) */
  readonly emulator: boolean
  readonly concurrency: number
  readonly rpm: number
  readonly poll: PollSettings
  readonly retry: RetrySettings
  /** the whole run's deadline (`--deadline`): later jobs are not submitted, running ones stop polling */
  readonly runDeadline: Duration.Duration | undefined
  /** videos of earlier runs that jobs may take instead of rendering (`--reuse`) */
  readonly reuse: ReuseIndex
  readonly replayOf: { readonly report: string; readonly runId: string } | undefined
  /** the `--only` patterns the jobs were selected with; journaled, so a resume selects the same */
  readonly only: ReadonlyArray<string>
  /** set by `resume`: the journal's record of the run so far, and which of its requests died with an emulator */
  readonly resume:
    | { readonly journaled: JournaledRun; readonly options: ResumeOptions; readonly lost?: LostRequest | undefined }
    | undefined
}

/** What a plan leaves out gets these: a new run (not a resume, not a replay) reusing nothing, with production polling and retries, no deadline. */
const planDefaults = {
  emulator: false,
  poll: DEFAULT_POLL,
  retry: DEFAULT_RETRY,
  runDeadline: undefined,
  reuse: emptyReuseIndex,
  replayOf: undefined,
  only: [],
  resume: undefined
} satisfies Partial<RunPlan>

/** A run's plan: what it must be told, over the defaults. */
export const makeRunPlan = (
  plan: Omit<RunPlan, keyof typeof planDefaults> & Partial<Pick<RunPlan, keyof typeof planDefaults>>
): RunPlan => ({ ...planDefaults, ...plan })

/** What a run talks through: the Segmind client for `segmind` and one request budget of `rpm` calls a minute. */
export const runServices = (segmind: SegmindSettings, rpm: number) =>
  Layer.mergeAll(SegmindClient.Default.pipe(Layer.provide(layerSegmindConfig(segmind))), RequestBudget.layer(rpm))

/**
 * The run: every job planned in the journal first, then rendered under the
 * concurrency bound; one job's failure never stops the others, a fatal answer
 * stops new submissions. Ends with `report.json` written. On resume, each job
 * carries on from where the journal says it stopped. The caller holds the
 * run directory's lock. A disk that refuses the run's own files fails it
 * with `DiskUnwritable`, which names the fix and the resume command.
 */
export const runPipeline = (
  plan: RunPlan
): Effect.Effect<
  Report,
  PlatformError | DiskUnwritable,
  SegmindClient | RequestBudget | CommandExecutor | FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const files = runFiles(yield* Path.Path, plan.runDirectory)
    const nowMs = yield* Clock.currentTimeMillis
    yield* prepareRunDirectory(plan, files)
    return yield* renderRun(plan, files, nowMs).pipe(Effect.provide(runLayer(plan, files, nowMs)))
  }).pipe(
    Effect.catchAll(
      (error): Effect.Effect<never, PlatformError | DiskUnwritable, FileSystem.FileSystem | Path.Path> => {
        const refused = diskUnwritableOf(error)
        return refused === undefined ? Effect.fail(error) : Effect.flip(withFix(refused, plan.runDirectory))
      }
    )
  )

/** What the jobs of a run share for its length: its journal, its gate, its frame uploads, what it learns of generation times. */
const runLayer = (plan: RunPlan, files: RunFiles, nowMs: number) => {
  // One journal: the frame uploads journal their retries into it too.
  const journal = Journal.layer(files.journal)
  // One gate: the poll scheduler ends the jobs a 429 holds past their deadline by it.
  const gate = RunGate.layer(plan.runDeadline === undefined ? undefined : nowMs + Duration.toMillis(plan.runDeadline))
  return Layer.mergeAll(
    journal,
    gate,
    FrameResolver.layer(plan.retry).pipe(Layer.provide(journal)),
    PollScheduler.layer(plan.poll).pipe(Layer.provide(gate))
  )
}

/** The run directory's folders, and a new run's copy of its manifest. */
const prepareRunDirectory = (plan: RunPlan, files: RunFiles) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(files.videos, { recursive: true })
    yield* fs.makeDirectory(files.partial, { recursive: true })
    if (plan.resume === undefined && plan.manifest.text !== undefined) {
      yield* writeFileAtomic(files.manifest, plan.manifest.text)
    }
  })

/** The run's start journaled, every job carried to its end, and the report written: also when the run is interrupted. */
const renderRun = (plan: RunPlan, files: RunFiles, nowMs: number) =>
  Effect.gen(function*() {
    const gate = yield* RunGate
    const scheduler = yield* PollScheduler
    const journaled = plan.resume?.journaled
    const startedMs = journaled?.run === undefined ? nowMs : Date.parse(journaled.run.at)
    const resumedAt = journaled === undefined ? undefined : [...journaled.resumedAt, new Date(nowMs).toISOString()]
    const reportAt = (jobs: ReadonlyArray<JobReport>, finishedMs: number, aborted: Option.Option<ErrorRecord>) =>
      Effect.map(
        scheduler.route,
        (polled) => buildReport(plan, jobs, startedMs, finishedMs, aborted, resumedAt, polled)
      )

    yield* journalStart(plan)
    const starts = yield* startsOf(plan, nowMs)
    if (journaled !== undefined) yield* logResumeDecisions(starts)
    const ledger = makeLedger(plan, starts)
    const writeInterruptedReport = Effect.gen(function*() {
      const finishedMs = yield* Clock.currentTimeMillis
      yield* writeReportFiles(files, yield* reportAt(ledger.jobsSoFar(), finishedMs, yield* gate.stoppedBy))
      yield* Effect.logWarning(
        `interrupted: report written to ${
          displayPath(files.report)
        }; every request id is in the journal. Resume with: shotlist resume ${displayPath(plan.runDirectory)}`
      )
    }).pipe(Effect.ignore)
    const reports = yield* renderJobs(plan, starts, ledger).pipe(Effect.onInterrupt(() => writeInterruptedReport))

    yield* FileSystem.FileSystem.pipe(
      Effect.flatMap((fs) => fs.remove(files.partial, { recursive: true })),
      Effect.ignore
    )
    yield* Effect.flatMap(CrashPoints, (crashPoints) => crashPoints.reach("before-report"))
    const report = yield* reportAt(reports, yield* Clock.currentTimeMillis, yield* gate.stoppedBy)
    yield* keepFrameCopies(plan.jobs, plan.runDirectory).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning(`could not copy the local frames for the contact sheet: ${error.message}`)
      )
    )
    yield* writeReportFiles(files, report)
    return report
  })

/**
 * A new run's first lines: its settings, then every job's seed and exact
 * body, before anything is sent. A resume plans the jobs a crash kept from
 * being planned.
 */
const journalStart = (plan: RunPlan) =>
  Effect.gen(function*() {
    const journal = yield* Journal
    const crashPoints = yield* CrashPoints
    const planAll = (jobs: ReadonlyArray<Job>) =>
      Effect.forEach(
        jobs,
        (job) => journal.append({ _tag: "planned", job }).pipe(Effect.zipRight(crashPoints.reach("mid-plan"))),
        { discard: true }
      )
    if (plan.resume !== undefined) {
      const known = plan.resume.journaled.jobs
      yield* journal.append({ _tag: "resumed", pid: process.pid })
      return yield* planAll(plan.jobs.filter((job) => !known.has(job.id)))
    }
    yield* journal.append({
      _tag: "run",
      runId: plan.runId,
      manifest: { path: plan.manifest.path, sha256: plan.manifest.sha256 },
      ...(plan.manifest.name === undefined ? {} : { name: plan.manifest.name }),
      model: plan.model,
      baseUrl: plan.baseUrl,
      emulator: plan.emulator,
      concurrency: plan.concurrency,
      rpm: plan.rpm,
      ...(plan.replayOf === undefined ? {} : { replayOf: plan.replayOf }),
      ...(plan.only.length === 0 ? {} : { only: plan.only }),
      jobCount: plan.jobs.length
    })
    yield* planAll(plan.jobs)
  })

/** Where each job starts: a new run submits them all; a resume carries each on from what the journal recorded. */
const startsOf = (plan: RunPlan, nowMs: number) =>
  Effect.forEach(plan.jobs, (job) => {
    const state = plan.resume?.journaled.jobs.get(job.id)
    return plan.resume === undefined || state === undefined
      ? Effect.succeed<ResumeStart>(submitStart)
      : resumeStartOf(state, plan.runDirectory, nowMs, plan.resume.options).pipe(
        Effect.map(submitAgainIfLost(plan.resume.lost))
      )
  }, { concurrency: 4 })

/** The jobs under the concurrency bound; those a resume keeps are not run again. */
const renderJobs = (plan: RunPlan, starts: ReadonlyArray<ResumeStart>, ledger: Ledger) =>
  Effect.gen(function*() {
    const journal = yield* Journal
    const watcher = yield* RunProgress
    const total = plan.jobs.length
    const settings: JobSettings = {
      model: plan.model,
      poll: plan.poll,
      retry: plan.retry,
      runDirectory: plan.runDirectory,
      reuse: plan.reuse
    }
    yield* watcher.started({
      total,
      alreadyDone: starts.filter((start) => start._tag === "Keep").length,
      concurrency: plan.concurrency,
      atMs: yield* Clock.currentTimeMillis
    })
    const chain = yield* makeShotChain(plan.jobs, plan.runDirectory)
    // Only a follower yet to be submitted opens on its source's last frame, so only it waits for the source.
    const waits = (index: number) => starts[index]!._tag === "Submit"
    const reports = yield* renderInChainOrder(plan.jobs, plan.concurrency, waits, (index) => {
      const job = plan.jobs[index]!
      const start = starts[index]!
      const rendered = start._tag === "Keep"
        ? Effect.succeed(start.report)
        : start._tag === "Submit"
        ? chain.opening(job).pipe(
          Effect.matchEffect({
            onFailure: (error) => skipFollower(job, error),
            onSuccess: (opened) => runJob(settings, opened, start)
          })
        )
        : runJob(settings, job, start)
      return Effect.tap(rendered, chain.settled)
    }).pipe(
      Effect.provideService(Journal, ledger.watching(journal)),
      Effect.provideService(RunProgress, {
        ...watcher,
        // Each change of a job's phase is a log line too, counted against the whole run.
        changed: (event) =>
          Effect.logInfo(`[${ledger.ended()}/${total}] ${event.jobId}: ${event.message}`).pipe(
            Effect.annotateLogs({ job: event.jobId, phase: event.phase }),
            Effect.zipRight(watcher.changed(event))
          )
      })
    )
    return reports
  })

type Ledger = ReturnType<typeof makeLedger>

/**
 * What the report of an interrupted run needs, kept as the journal records
 * it: the jobs that ended, and the request ids of the jobs in flight.
 */
const makeLedger = (plan: RunPlan, starts: ReadonlyArray<ResumeStart>) => {
  // Updated in place, one entry per event: copying a 10,000-entry map on every event would be quadratic.
  const ended = new Map<string, JobReport>()
  const accepted = new Map<string, string | undefined>()
  for (const [index, start] of starts.entries()) {
    if (start._tag === "Poll" || start._tag === "Download") {
      accepted.set(plan.jobs[index]!.id, start.submission.requestId)
    }
  }
  const kept = starts.filter((start) => start._tag === "Keep").length
  const record = (entry: JournalEntry) =>
    Effect.sync(() => {
      if (entry._tag === "submitting") accepted.set(entry.jobId, undefined)
      if (entry._tag === "submitted") accepted.set(entry.jobId, entry.requestId)
      if (entry._tag === "finished") ended.set(entry.jobId, entry.report)
    })
  return {
    /** the run's journal, as the jobs write it */
    watching: (journal: Journal["Type"]): Journal["Type"] => ({
      append: (entry) => journal.append(entry).pipe(Effect.zipLeft(record(entry)))
    }),
    /** jobs ended so far, those a resume kept included */
    ended: () => kept + ended.size,
    jobsSoFar: () =>
      plan.jobs.map((job, index) => {
        const start = starts[index]!
        if (start._tag === "Keep") return start.report
        return ended.get(job.id) ?? interruptedJob(job, accepted.has(job.id), accepted.get(job.id), plan.emulator)
      })
  }
}

const logResumeDecisions = (starts: ReadonlyArray<ResumeStart>) => {
  const count = (tag: ResumeStart["_tag"]) => starts.filter((start) => start._tag === tag).length
  const again = starts.filter((start) => start._tag === "Submit" && start.resubmitted !== undefined).length
  const held = starts.filter((start) => start._tag === "Keep" && start.report.error?.tag === "SubmitUncertain").length
  return Effect.logInfo(
    `resuming: ${count("Keep")} kept as they ended${held > 0 ? ` (${held} uncertain submits held)` : ""}, ${
      count("Download")
    } downloaded and ${count("Poll")} polled again (already paid for), ${
      count("Submit") - again
    } never submitted, ${again} submitted again`
  )
}

/** A job the interruption caught: `running` with its request id when the API had accepted it, else skipped. */
const interruptedJob = (job: Job, sent: boolean, requestId: string | undefined, onEmulator: boolean): JobReport => ({
  ...jobReportBase(job),
  status: requestId === undefined ? "skipped" : "running",
  ...(requestId === undefined ? {} : { requestId }),
  attempts: 1,
  error: {
    tag: "Interrupted",
    message: requestId !== undefined
      ? `interrupted while request ${requestId} was in flight; ${
        onEmulator
          ? "the embedded emulator stops with this run, so resume submits it again"
          : "resume polls it again"
      }`
      : sent
      ? "interrupted while its submit was on the wire: the API may have accepted (and will bill) it"
      : "not submitted: the run was interrupted"
  }
})

const buildReport = (
  plan: RunPlan,
  jobs: ReadonlyArray<JobReport>,
  startedMs: number,
  finishedMs: number,
  aborted: Option.Option<ErrorRecord>,
  resumedAt: ReadonlyArray<string> | undefined,
  polled: PollRoute | undefined
): Report => ({
  schemaVersion: REPORT_SCHEMA_VERSION,
  tool: { name: TOOL_NAME, version: TOOL_VERSION },
  run: {
    id: plan.runId,
    ...(plan.manifest.name === undefined ? {} : { name: plan.manifest.name }),
    manifest: { path: plan.manifest.path, sha256: plan.manifest.sha256 },
    model: plan.model,
    baseUrl: plan.baseUrl,
    emulator: plan.emulator,
    apiOrigin: apiOriginOf(plan),
    concurrency: plan.concurrency,
    rpm: plan.rpm,
    ...(polled === undefined ? {} : { polledVia: polled.via, polledViaReason: polled.reason }),
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    ...(Option.isSome(aborted) ? { aborted: aborted.value } : {}),
    ...(resumedAt === undefined ? {} : { resumedAt }),
    ...(plan.replayOf === undefined ? {} : { replayOf: plan.replayOf })
  },
  summary: summarize(jobs, finishedMs - startedMs, plan.model),
  jobs
})
