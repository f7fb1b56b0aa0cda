import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Duration, Effect, Option, Ref } from "effect"
import type { Job } from "../manifest/Job.js"
import type { LoadedManifest } from "../manifest/ManifestLoader.js"
import { type JobReport, jobReportBase, type Report, REPORT_SCHEMA_VERSION, type ReportError, summarize } from "../report/Report.js"
import { writeReport } from "../report/ReportFile.js"
import { SegmindClient } from "../segmind/SegmindClient.js"
import { Journal } from "../store/Journal.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { makeFrameResolver } from "./FrameUploads.js"
import { runJob } from "./JobRunner.js"
import type { PollSettings } from "./PollSchedule.js"
import { RequestBudget, withBudget } from "./RequestBudget.js"
import type { RetrySettings } from "./RetryPolicy.js"
import { isTransient } from "./FailureClass.js"
import { retrySchedule } from "./RetryPolicy.js"

export const TOOL_NAME = "shotlist"
export const TOOL_VERSION = "0.1.0"

export interface RunPlan {
  readonly runId: string
  readonly runDirectory: string
  readonly manifest: LoadedManifest
  readonly jobs: ReadonlyArray<Job>
  readonly model: string
  readonly baseUrl: string
  readonly concurrency: number
  readonly rpm: number
  readonly poll: PollSettings
  readonly retry: RetrySettings
  /** the whole run's deadline (`--deadline`): later jobs are not submitted, running ones stop polling */
  readonly runDeadline: Duration.Duration | undefined
}

/** Files of a run directory (SPEC §5). */
export const runFiles = (path: Path.Path, runDirectory: string) => ({
  manifest: path.join(runDirectory, "manifest.yaml"),
  journal: path.join(runDirectory, "journal.jsonl"),
  report: path.join(runDirectory, "report.json"),
  videos: path.join(runDirectory, "videos"),
  partial: path.join(runDirectory, ".partial"),
  rejected: path.join(runDirectory, "rejected")
})

/**
 * The run: every job planned in the journal first, then rendered under the
 * concurrency bound; one job's failure never stops the others, a fatal answer
 * stops new submissions. Ends with `report.json` written.
 */
export const runPipeline = (
  plan: RunPlan
): Effect.Effect<Report, PlatformError, SegmindClient | RequestBudget | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const client = yield* SegmindClient
    const budget = yield* RequestBudget
    const files = runFiles(path, plan.runDirectory)
    const startedMs = yield* Clock.currentTimeMillis

    yield* fs.makeDirectory(files.videos, { recursive: true })
    yield* fs.makeDirectory(files.partial, { recursive: true })
    yield* writeFileAtomic(files.manifest, plan.manifest.text)

    const journal = yield* Journal.open(files.journal)
    // The seed and exact body of every job are on disk before anything is sent.
    yield* Effect.forEach(plan.jobs, (job) => journal.append({ _tag: "planned", job }), { discard: true })

    const abort = yield* Ref.make(Option.none<ReportError>())
    const finished = yield* Ref.make(0)
    const total = plan.jobs.length
    const uploadWithBudget = (dataUrl: string) =>
      withBudget(budget, plan.retry.base)(client.upload(dataUrl)).pipe(Effect.retry(retrySchedule(plan.retry, isTransient)))
    const resolveFrame = yield* makeFrameResolver(uploadWithBudget)

    const done = yield* Ref.make(new Map<string, JobReport>())
    const accepted = yield* Ref.make(new Map<string, string | undefined>())
    const writeInterruptedReport = Effect.gen(function* () {
      const finishedMs = yield* Clock.currentTimeMillis
      const reports = yield* Ref.get(done)
      const requestIds = yield* Ref.get(accepted)
      const jobs = plan.jobs.map(
        (job) => reports.get(job.id) ?? interruptedJob(job, requestIds.has(job.id), requestIds.get(job.id))
      )
      yield* writeReport(files.report, buildReport(plan, jobs, startedMs, finishedMs, yield* Ref.get(abort)))
      yield* Effect.logWarning(`interrupted: report written to ${files.report}; the journal keeps every request id`)
    }).pipe(Effect.ignore)

    const reports = yield* Effect.forEach(
      plan.jobs,
      (job) =>
        runJob(
          {
            client,
            budget,
            journal,
            resolveFrame,
            poll: plan.poll,
            runDeadlineAtMs: plan.runDeadline === undefined ? undefined : startedMs + Duration.toMillis(plan.runDeadline),
            retry: plan.retry,
            abort,
            partialDirectory: files.partial,
            rejectedDirectory: files.rejected,
            videoPath: (job) => ({
              absolute: path.join(files.videos, `${job.id}.mp4`),
              relative: `videos/${job.id}.mp4`
            }),
            log: (job, message) =>
              Ref.get(finished).pipe(Effect.flatMap((count) => Effect.logInfo(`[${count}/${total}] ${job.id}: ${message}`))),
            onSubmitted: (job, requestId) => Ref.update(accepted, (map) => new Map(map).set(job.id, requestId))
          },
          job
        ).pipe(
          Effect.tap((report) => Ref.update(done, (map) => new Map(map).set(job.id, report))),
          Effect.tap(() => Ref.update(finished, (n) => n + 1))
        ),
      { concurrency: plan.concurrency }
    ).pipe(Effect.onInterrupt(() => writeInterruptedReport))

    yield* fs.remove(files.partial, { recursive: true }).pipe(Effect.ignore)
    const finishedMs = yield* Clock.currentTimeMillis
    const aborted = yield* Ref.get(abort)
    const report = buildReport(plan, reports, startedMs, finishedMs, aborted)
    yield* writeReport(files.report, report)
    return report
  }).pipe(Effect.scoped)

/** A job the interruption caught: skipped, with its request id when the API had accepted it. */
const interruptedJob = (job: Job, sent: boolean, requestId: string | undefined): JobReport => ({
  ...jobReportBase(job),
  status: "skipped",
  ...(requestId === undefined ? {} : { requestId }),
  attempts: 1,
  error: {
    tag: "Interrupted",
    message:
      requestId !== undefined
        ? `interrupted while request ${requestId} was in flight`
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
  aborted: Option.Option<ReportError>
): Report => ({
  schemaVersion: REPORT_SCHEMA_VERSION,
  tool: { name: TOOL_NAME, version: TOOL_VERSION },
  run: {
    id: plan.runId,
    manifest: { path: plan.manifest.absolutePath, sha256: plan.manifest.sha256 },
    model: plan.model,
    baseUrl: plan.baseUrl,
    concurrency: plan.concurrency,
    rpm: plan.rpm,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    ...(Option.isSome(aborted) ? { aborted: aborted.value } : {})
  },
  summary: summarize(jobs, finishedMs - startedMs),
  jobs
})
