import type { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Duration, Effect, Option, Ref } from "effect"
import type { Job } from "../manifest/Job.js"
import { type JobReport, jobReportBase, type ReportError, type ReportFrame } from "../report/Report.js"
import type { SeedanceParams } from "../segmind/SeedanceParams.js"
import type { SegmindClient, StatusAnswer, Submission } from "../segmind/SegmindClient.js"
import type { TransportError } from "../segmind/SegmindErrors.js"
import type { Journal } from "../store/Journal.js"
import { classify, httpStatusOf, isSafeToResubmit, isTransient, type JobError } from "./FailureClass.js"
import type { ResolvedFrame } from "./FrameUploads.js"
import { PollDeadlineExceeded, RunAborted, RunDeadlineReached, SubmitUncertain } from "./PipelineErrors.js"
import { pollSchedule, type PollSettings } from "./PollSchedule.js"
import { type RequestBudget, withBudget } from "./RequestBudget.js"
import { retrySchedule, type RetrySettings } from "./RetryPolicy.js"
import { downloadVideo } from "./VideoDownload.js"

export interface JobRunnerContext {
  readonly client: SegmindClient
  readonly budget: RequestBudget["Type"]
  readonly journal: Journal["Type"]
  readonly resolveFrame: (frame: NonNullable<Job["firstFrame"]>) => Effect.Effect<ResolvedFrame, JobError>
  readonly poll: PollSettings
  /** epoch ms after which no job is submitted and no poll goes on (`--deadline`) */
  readonly runDeadlineAtMs: number | undefined
  readonly retry: RetrySettings
  /** set by the first fatal answer: no job submits after it */
  readonly abort: Ref.Ref<Option.Option<ReportError>>
  readonly videoPath: (job: Job) => { readonly absolute: string; readonly relative: string }
  readonly partialDirectory: string
  readonly rejectedDirectory: string
  readonly log: (job: Job, message: string) => Effect.Effect<void>
  /** told before the submit is sent (requestId undefined) and once the API accepted it, so an interrupted run can say which jobs may be billed */
  readonly onSubmitted: (job: Job, requestId: string | undefined) => Effect.Effect<void>
}

const isJobError = (error: JobError | PlatformError): error is JobError =>
  error._tag !== "SystemError" && error._tag !== "BadArgument"

const isoAt = (ms: number) => new Date(ms).toISOString()

export const reportErrorOf = (error: JobError): ReportError => {
  const httpStatus = httpStatusOf(error)
  return {
    tag: error._tag,
    message: error.message,
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...("requestId" in error && typeof error.requestId === "string" ? { detail: `request ${error.requestId}` } : {})
  }
}

/**
 * One job from submission to a verified video on disk. Never fails: whatever
 * happens ends as a `JobReport`; a fatal answer also closes the run's gate.
 */
export const runJob = (
  context: JobRunnerContext,
  job: Job
): Effect.Effect<JobReport, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const { budget, client, journal } = context
    const tries = yield* Ref.make(1)
    const facts = yield* Ref.make<Partial<JobReport>>({})
    const note = (fields: Partial<JobReport>) => Ref.update(facts, (known) => ({ ...known, ...fields }))

    const apiCall = withBudget(budget, context.retry.base)

    const retrying = <A, E extends JobError, R>(effect: Effect.Effect<A, E, R>, retryable: (error: E) => boolean) =>
      effect.pipe(
        Effect.tapError((error) => (retryable(error) ? Ref.update(tries, (n) => n + 1) : Effect.void)),
        Effect.retry(retrySchedule(context.retry, retryable))
      )

    const frames: Array<ReportFrame> = []
    const resolveFrames = Effect.gen(function* () {
      let params: SeedanceParams = job.params
      for (const [role, frame] of [
        ["first_frame", job.firstFrame],
        ["last_frame", job.lastFrame]
      ] as const) {
        if (frame === undefined) continue
        const resolved = yield* context.resolveFrame(frame)
        frames.push({
          role,
          source: frame._tag === "Url" ? frame.url : frame.path,
          url: resolved.url,
          ...(resolved.sha256 === undefined ? {} : { sha256: resolved.sha256 })
        })
        params = { ...params, [`${role}_url`]: resolved.url }
      }
      return params
    })

    const pollUntilDone = (submission: Submission, submittedMs: number) => {
      const runLeft = context.runDeadlineAtMs === undefined ? Infinity : context.runDeadlineAtMs - submittedMs
      const byRun = runLeft < Duration.toMillis(context.poll.deadline)
      const deadline = byRun ? Duration.millis(Math.max(0, runLeft)) : context.poll.deadline
      return Effect.gen(function* () {
        const last = yield* Ref.make<StatusAnswer>({ status: "QUEUED", metrics: {} })
        const statusOnce = retrying(apiCall(client.status(submission)), isTransient).pipe(
          Effect.tap((answer) =>
            Effect.gen(function* () {
              const previous = yield* Ref.getAndSet(last, answer)
              if (previous.status === answer.status) return
              yield* journal.append({ _tag: "status", jobId: job.id, requestId: submission.requestId, status: answer.status })
              if (answer.status !== "COMPLETED") yield* context.log(job, answer.status.toLowerCase())
            })
          )
        )
        yield* Effect.sleep(context.poll.firstPoll)
        yield* statusOnce.pipe(
          Effect.repeat({ schedule: pollSchedule(context.poll), until: (answer) => answer.status === "COMPLETED" })
        )
        return yield* Ref.get(last)
      }).pipe(
        Effect.timeoutFail({
          duration: deadline,
          onTimeout: () =>
            new PollDeadlineExceeded({
              requestId: submission.requestId,
              message: byRun
                ? `the run's deadline passed while it was in flight; request ${submission.requestId} can still be resumed`
                : `no end within ${Duration.format(deadline)} of submission; request ${submission.requestId} can still be resumed`
            })
        })
      )
    }

    const render = Effect.gen(function* () {
      const aborted = yield* Ref.get(context.abort)
      if (Option.isSome(aborted)) {
        return yield* Effect.fail(new RunAborted({ message: `not submitted: the run stopped on ${aborted.value.tag}` }))
      }
      if (context.runDeadlineAtMs !== undefined && (yield* Clock.currentTimeMillis) >= context.runDeadlineAtMs) {
        return yield* Effect.fail(new RunDeadlineReached({ message: "not submitted: the run's deadline had passed" }))
      }
      const params = yield* resolveFrames
      yield* note({ params, ...(frames.length > 0 ? { frames: [...frames] } : {}) })

      yield* journal.append({ _tag: "submitting", jobId: job.id, attempt: 1 })
      yield* context.onSubmitted(job, undefined)
      const submission = yield* retrying(apiCall(client.submit(params)), isSafeToResubmit).pipe(
        Effect.catchTag("TransportError", (error): Effect.Effect<never, TransportError | SubmitUncertain> =>
          error.requestSent
            ? Effect.fail(
                new SubmitUncertain({
                  message: `the submit was sent but its answer was lost (${error.message}); not re-sent, to avoid paying twice`
                })
              )
            : Effect.fail(error)
        )
      )
      const submittedMs = yield* Clock.currentTimeMillis
      yield* journal.append({ _tag: "submitted", jobId: job.id, ...submission })
      yield* note({ requestId: submission.requestId, submittedAt: isoAt(submittedMs) })
      yield* context.onSubmitted(job, submission.requestId)
      yield* context.log(job, `submitted as ${submission.requestId}`)

      const finalStatus = yield* pollUntilDone(submission, submittedMs)
      const result = yield* retrying(apiCall(client.result(submission)), isTransient)
      const endedMs = yield* Clock.currentTimeMillis
      const metrics = { ...finalStatus.metrics, ...result.metrics }
      yield* note({
        waitMs: endedMs - submittedMs,
        ...(metrics.inference_time === undefined ? {} : { inferenceTime: metrics.inference_time }),
        ...(metrics.queue_time === undefined ? {} : { queueMs: Math.round(metrics.queue_time * 1000) }),
        ...(metrics.cost === undefined ? {} : { cost: metrics.cost }),
        ...(metrics.remaining_credits === undefined ? {} : { remainingCredits: metrics.remaining_credits })
      })

      const target = context.videoPath(job)
      const video = yield* retrying(
        downloadVideo(client, result.videoUrl, target.absolute, context.partialDirectory, context.rejectedDirectory, {
          durationSeconds: params.duration,
          audio: params.generate_audio
        }),
        isTransient
      )
      yield* journal.append({
        _tag: "downloaded",
        jobId: job.id,
        requestId: submission.requestId,
        path: target.relative,
        bytes: video.bytes,
        sha256: video.sha256
      })
      const completedMs = yield* Clock.currentTimeMillis
      yield* note({
        completedAt: isoAt(completedMs),
        downloadMs: video.downloadMs,
        output: {
          path: target.relative,
          bytes: video.bytes,
          sha256: video.sha256,
          sourceUrl: result.videoUrl,
          durationSeconds: video.durationSeconds,
          ...(video.width === undefined ? {} : { width: video.width }),
          ...(video.height === undefined ? {} : { height: video.height }),
          hasAudio: video.hasAudio
        }
      })
      yield* context.log(job, `completed: ${target.relative} (${(video.bytes / 1e6).toFixed(1)} MB)`)
    })

    const status = yield* render.pipe(
      Effect.as("completed" as const),
      Effect.catchIf(isJobError, (error) =>
        Effect.gen(function* () {
          const reported = reportErrorOf(error)
          const kind = classify(error)
          if (kind === "fatal") {
            yield* Ref.update(context.abort, (current) => (Option.isSome(current) ? current : Option.some(reported)))
          }
          yield* note({ error: reported })
          const requestId = (yield* Ref.get(facts)).requestId
          // Refused before the API took it (aborted run, or the fatal answer itself): not submitted, so skipped.
          if (error._tag === "RunAborted" || error._tag === "RunDeadlineReached" || (kind === "fatal" && requestId === undefined)) {
            yield* context.log(job, `not submitted: ${reported.tag}: ${reported.message}`)
            return "skipped" as const
          }
          yield* journal.append({
            _tag: "failed",
            jobId: job.id,
            ...(requestId === undefined ? {} : { requestId }),
            error: { tag: reported.tag, message: reported.message, ...(reported.httpStatus === undefined ? {} : { httpStatus: reported.httpStatus }) }
          })
          yield* context.log(job, `failed: ${reported.tag}: ${reported.message}`)
          return "failed" as const
        })
      )
    )

    const known = yield* Ref.get(facts)
    const attempts = yield* Ref.get(tries)
    return {
      ...jobReportBase(job),
      ...known,
      status,
      attempts
    } satisfies JobReport
  })
