import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Duration, Effect, Layer, Option, Ref } from "effect"
import type { Job } from "../domain/Job.js"
import { type ErrorRecord, type JobReport, jobReportBase } from "../domain/JobReport.js"
import { TOOL_NAME, TOOL_VERSION } from "../domain/Tool.js"
import { type Report, REPORT_SCHEMA_VERSION, summarize } from "../report/Report.js"
import { writeReportFiles } from "../report/ReportFile.js"
import { SegmindClient } from "../segmind/SegmindClient.js"
import { layerSegmindConfig, type SegmindSettings } from "../segmind/SegmindConfig.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { Journal } from "../store/Journal.js"
import type { JournaledRun } from "../store/JournalReader.js"
import { runFiles } from "../store/RunDirectory.js"
import { CrashPoints } from "./CrashPoints.js"
import { isTransient } from "./FailureClass.js"
import { keepFrameCopies, makeFrameResolver } from "./FrameUploads.js"
import { makeGenerationTimes } from "./GenerationTimes.js"
import { runJob, submitStart } from "./JobRunner.js"
import type { PollSettings } from "./PollSchedule.js"
import { RequestBudget, withBudget } from "./RequestBudget.js"
import { type ResumeOptions, type ResumeStart, resumeStartOf } from "./ResumePlan.js"
import type { RetrySettings } from "./RetryPolicy.js"
import { retrySchedule } from "./RetryPolicy.js"
import type { ReuseIndex } from "./ReuseCache.js"
import { RunProgress } from "./RunProgress.js"

/** The manifest a run renders, as recorded in its report. */
export interface RunManifest {
  readonly path: string
  readonly sha256: string
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
  /** set by `resume`: the journal's record of the run so far */
  readonly resume: { readonly journaled: JournaledRun; readonly options: ResumeOptions } | undefined
}

/** What a run talks through: the Segmind client for `segmind` and one request budget of `rpm` calls a minute. */
export const runServices = (segmind: SegmindSettings, rpm: number) =>
  Layer.mergeAll(SegmindClient.Default.pipe(Layer.provide(layerSegmindConfig(segmind))), RequestBudget.layer(rpm))

/**
 * The run: every job planned in the journal first, then rendered under the
 * concurrency bound; one job's failure never stops the others, a fatal answer
 * stops new submissions. Ends with `report.json` written. On resume, each job
 * carries on from where the journal says it stopped. The caller holds the
 * run directory's lock.
 */
export const runPipeline = (
  plan: RunPlan
): Effect.Effect<Report, PlatformError, SegmindClient | RequestBudget | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const client = yield* SegmindClient
    const budget = yield* RequestBudget
    const crashPoints = yield* CrashPoints
    const progress = yield* RunProgress
    const files = runFiles(path, plan.runDirectory)
    const nowMs = yield* Clock.currentTimeMillis
    const journaled = plan.resume?.journaled
    const startedMs = journaled?.run === undefined ? nowMs : Date.parse(journaled.run.at)
    const resumedAt = journaled === undefined ? undefined : [...journaled.resumedAt, new Date(nowMs).toISOString()]

    yield* fs.makeDirectory(files.videos, { recursive: true })
    yield* fs.makeDirectory(files.partial, { recursive: true })
    if (journaled === undefined && plan.manifest.text !== undefined) {
      yield* writeFileAtomic(files.manifest, plan.manifest.text)
    }

    const journal = yield* Journal.open(files.journal)
    if (journaled === undefined) {
      yield* journal.append({
        _tag: "run",
        runId: plan.runId,
        manifest: { path: plan.manifest.path, sha256: plan.manifest.sha256 },
        model: plan.model,
        baseUrl: plan.baseUrl,
        emulator: plan.emulator,
        concurrency: plan.concurrency,
        rpm: plan.rpm,
        ...(plan.replayOf === undefined ? {} : { replayOf: plan.replayOf })
      })
      // The seed and exact body of every job are on disk before anything is sent.
      yield* Effect.forEach(plan.jobs, (job) => journal.append({ _tag: "planned", job }), { discard: true })
    } else {
      yield* journal.append({ _tag: "resumed", pid: process.pid })
    }

    const starts = yield* Effect.forEach(plan.jobs, (job) => {
      const state = journaled?.jobs.get(job.id)
      return plan.resume === undefined || state === undefined
        ? Effect.succeed<ResumeStart>(submitStart)
        : resumeStartOf(state, plan.runDirectory, nowMs, plan.resume.options)
    }, { concurrency: 4 })
    if (journaled !== undefined) yield* logResumeDecisions(starts)

    const abort = yield* Ref.make(Option.none<ErrorRecord>())
    const finished = yield* Ref.make(starts.filter((start) => start._tag === "Keep").length)
    const total = plan.jobs.length
    const uploadWithBudget = (dataUrl: string) =>
      withBudget(budget, plan.retry.base)(client.upload(dataUrl)).pipe(
        Effect.retry(retrySchedule(plan.retry, isTransient))
      )
    const resolveFrame = yield* makeFrameResolver(uploadWithBudget)
    const generationTimes = yield* makeGenerationTimes(plan.poll)

    // What an interruption's report needs: jobs ended, and request ids of jobs in flight. Updated in place,
    // one entry per event: copying a 10,000-entry map on every event would be quadratic.
    const done = new Map<string, JobReport>()
    const accepted = new Map<string, string | undefined>()
    for (const [index, start] of starts.entries()) {
      if (start._tag === "Poll") accepted.set(plan.jobs[index]!.id, start.submission.requestId)
    }
    const reportAt = (jobs: ReadonlyArray<JobReport>, finishedMs: number, aborted: Option.Option<ErrorRecord>) =>
      buildReport(plan, jobs, startedMs, finishedMs, aborted, resumedAt)

    const writeInterruptedReport = Effect.gen(function*() {
      const finishedMs = yield* Clock.currentTimeMillis
      const reports = done
      const requestIds = accepted
      const jobs = plan.jobs.map(
        (job, index) => {
          const start = starts[index]!
          return start._tag === "Keep"
            ? start.report
            : (reports.get(job.id) ?? interruptedJob(job, requestIds.has(job.id), requestIds.get(job.id)))
        }
      )
      yield* writeReportFiles(files, reportAt(jobs, finishedMs, yield* Ref.get(abort)))
      yield* Effect.logWarning(
        `interrupted: report written to ${files.report}; every request id is in the journal. Resume with: shotlist resume ${plan.runDirectory}`
      )
    }).pipe(Effect.ignore)

    yield* progress.started({
      total,
      alreadyDone: starts.filter((start) => start._tag === "Keep").length,
      concurrency: plan.concurrency,
      atMs: yield* Clock.currentTimeMillis
    })
    const reports = yield* Effect.forEach(
      plan.jobs,
      (job, index) => {
        const start = starts[index]!
        if (start._tag === "Keep") return Effect.succeed(start.report)
        return runJob(
          {
            model: plan.model,
            client,
            budget,
            journal,
            resolveFrame,
            poll: plan.poll,
            generationTimes,
            runDeadlineAtMs: plan.runDeadline === undefined ? undefined : nowMs + Duration.toMillis(plan.runDeadline),
            retry: plan.retry,
            abort,
            partialDirectory: files.partial,
            rejectedDirectory: files.rejected,
            videoPath: (job) => ({
              absolute: path.join(files.videos, `${job.id}.mp4`),
              relative: `videos/${job.id}.mp4`
            }),
            log: (job, phase, message) =>
              Effect.gen(function*() {
                const count = yield* Ref.get(finished)
                yield* Effect.logInfo(`[${count}/${total}] ${job.id}: ${message}`).pipe(
                  Effect.annotateLogs({ job: job.id, phase })
                )
                yield* progress.changed({ jobId: job.id, phase, message, atMs: yield* Clock.currentTimeMillis })
              }),
            onSubmitted: (job, requestId) => Effect.sync(() => void accepted.set(job.id, requestId)),
            reuse: plan.reuse,
            crashPoints
          },
          job,
          start
        ).pipe(
          Effect.tap((report) => Effect.sync(() => void done.set(job.id, report))),
          Effect.tap(() => Ref.update(finished, (n) => n + 1))
        )
      },
      { concurrency: plan.concurrency }
    ).pipe(Effect.onInterrupt(() => writeInterruptedReport))

    yield* fs.remove(files.partial, { recursive: true }).pipe(Effect.ignore)
    yield* crashPoints.reach("before-report")
    const finishedMs = yield* Clock.currentTimeMillis
    const report = reportAt(reports, finishedMs, yield* Ref.get(abort))
    yield* keepFrameCopies(plan.jobs, plan.runDirectory).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning(`could not copy the local frames for the contact sheet: ${error.message}`)
      )
    )
    yield* writeReportFiles(files, report)
    return report
  }).pipe(Effect.scoped)

const logResumeDecisions = (starts: ReadonlyArray<ResumeStart>) => {
  const count = (tag: ResumeStart["_tag"]) => starts.filter((start) => start._tag === tag).length
  const again = starts.filter((start) => start._tag === "Submit" && start.resubmitted !== undefined).length
  return Effect.logInfo(
    `resuming: ${count("Keep")} kept as they ended, ${count("Poll")} polled again (already paid for), ${
      count("Submit") - again
    } never submitted, ${again} submitted again`
  )
}

/** A job the interruption caught: `running` with its request id when the API had accepted it, else skipped. */
const interruptedJob = (job: Job, sent: boolean, requestId: string | undefined): JobReport => ({
  ...jobReportBase(job),
  status: requestId === undefined ? "skipped" : "running",
  ...(requestId === undefined ? {} : { requestId }),
  attempts: 1,
  error: {
    tag: "Interrupted",
    message: requestId !== undefined
      ? `interrupted while request ${requestId} was in flight; resume polls it again`
      : sent
      ? "interrupted while its submit was on the wire: the API may have accepted (and will bill) it"
      : "not submitted: the run was interrupted"
  }
})

export const buildReport = (
  plan: RunPlan,
  jobs: ReadonlyArray<JobReport>,
  startedMs: number,
  finishedMs: number,
  aborted: Option.Option<ErrorRecord>,
  resumedAt: ReadonlyArray<string> | undefined
): Report => ({
  schemaVersion: REPORT_SCHEMA_VERSION,
  tool: { name: TOOL_NAME, version: TOOL_VERSION },
  run: {
    id: plan.runId,
    manifest: { path: plan.manifest.path, sha256: plan.manifest.sha256 },
    model: plan.model,
    baseUrl: plan.baseUrl,
    concurrency: plan.concurrency,
    rpm: plan.rpm,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    ...(Option.isSome(aborted) ? { aborted: aborted.value } : {}),
    ...(resumedAt === undefined ? {} : { resumedAt }),
    ...(plan.replayOf === undefined ? {} : { replayOf: plan.replayOf })
  },
  summary: summarize(jobs, finishedMs - startedMs),
  jobs
})
