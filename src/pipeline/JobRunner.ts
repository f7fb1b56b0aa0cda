import type { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Duration, Effect, Option, Ref } from "effect"
import type { Job } from "../domain/Job.js"
import { type ErrorRecord, type FrameRecord, type JobReport, jobReportBase } from "../domain/JobReport.js"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import type { SegmindClient, StatusAnswer, Submission } from "../segmind/SegmindClient.js"
import { type ResultExpired, type TransportError, UploadFailed } from "../segmind/SegmindErrors.js"
import type { Journal } from "../store/Journal.js"
import type { CrashPoints } from "./CrashPoints.js"
import { classify, httpStatusOf, isSafeToResubmit, isTransient, type JobError } from "./FailureClass.js"
import type { ResolvedFrame } from "./FrameUploads.js"
import type { GenerationTimes } from "./GenerationTimes.js"
import { PollDeadlineExceeded, RunAborted, RunDeadlineReached, SubmitUncertain } from "./PipelineErrors.js"
import { firstPollDelay, pollSchedule, type PollSettings } from "./PollSchedule.js"
import { type RequestBudget, withBudget } from "./RequestBudget.js"
import { retrySchedule, type RetrySettings } from "./RetryPolicy.js"
import { type FrameDigests, localFrameDigests, paramsKeyOf, type ReuseIndex, takeReusedVideo } from "./ReuseCache.js"
import type { JobPhase } from "./RunProgress.js"
import { downloadVideo } from "./VideoDownload.js"

/**
 * Where a job starts: a submit (a new job, or one a resume must send again),
 * or polling a request the API already accepted (a resume never pays twice).
 */
export type JobStart =
  | { readonly _tag: "Submit"; readonly resubmitted?: NonNullable<JobReport["resubmitted"]> }
  | {
    readonly _tag: "Poll"
    readonly submission: Submission
    readonly submittedAtMs: number
    /** the body and frames that were sent */
    readonly params: SeedanceParams
    readonly frames: ReadonlyArray<FrameRecord> | undefined
    readonly submitAttempts: number
    readonly resubmitted: JobReport["resubmitted"]
  }

export const submitStart: JobStart = { _tag: "Submit" }

export interface JobRunnerContext {
  readonly model: string
  readonly client: SegmindClient
  readonly budget: RequestBudget["Type"]
  readonly journal: Journal["Type"]
  readonly resolveFrame: (frame: NonNullable<Job["firstFrame"]>) => Effect.Effect<ResolvedFrame, JobError>
  readonly poll: PollSettings
  /** learns generation times from completed jobs; drives when each job is polled */
  readonly generationTimes: GenerationTimes
  /** epoch ms after which no job is submitted and no poll goes on (`--deadline`) */
  readonly runDeadlineAtMs: number | undefined
  readonly retry: RetrySettings
  /** set by the first fatal answer: no job submits after it */
  readonly abort: Ref.Ref<Option.Option<ErrorRecord>>
  readonly videoPath: (job: Job) => { readonly absolute: string; readonly relative: string }
  readonly partialDirectory: string
  readonly rejectedDirectory: string
  /** a job's move to another phase, with a line that says what happened */
  readonly log: (job: Job, phase: JobPhase, message: string) => Effect.Effect<void>
  /** told before the submit is sent (requestId undefined) and once the API accepted it, so an interrupted run can say which jobs may be billed */
  readonly onSubmitted: (job: Job, requestId: string | undefined) => Effect.Effect<void>
  /** completed videos of earlier runs, by params key (`--reuse`) */
  readonly reuse: ReuseIndex
  readonly crashPoints: CrashPoints["Type"]
}

const isJobError = (error: JobError | PlatformError): error is JobError =>
  error._tag !== "SystemError" && error._tag !== "BadArgument"

const isoAt = (ms: number) => new Date(ms).toISOString()

export const reportErrorOf = (error: JobError): ErrorRecord => {
  const httpStatus = httpStatusOf(error)
  return {
    tag: error._tag,
    message: error.message,
    ...(httpStatus === undefined ? {} : { httpStatus }),
    ...("requestId" in error && typeof error.requestId === "string" ? { detail: `request ${error.requestId}` } : {})
  }
}

/**
 * One job from submission (or from an accepted request, on resume) to a
 * verified video on disk. Never fails: whatever happens ends as a
 * `JobReport`, journaled as `finished`; a fatal answer also closes the run's
 * gate.
 */
export const runJob = (
  context: JobRunnerContext,
  job: Job,
  start: JobStart = submitStart
): Effect.Effect<JobReport, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const { budget, client, journal } = context
    const tries = yield* Ref.make(start._tag === "Poll" ? start.submitAttempts : 1)
    const facts = yield* Ref.make<Partial<JobReport>>(
      start._tag === "Submit" && start.resubmitted !== undefined ? { resubmitted: start.resubmitted } : {}
    )
    const note = (fields: Partial<JobReport>) => Ref.update(facts, (known) => ({ ...known, ...fields }))
    const polls = yield* Ref.make(0)

    const apiCall = withBudget(budget, context.retry.base)
    const pollCall = withBudget(budget, context.retry.base, "poll")

    const retrying = <A, E extends JobError | PlatformError, R>(
      effect: Effect.Effect<A, E, R>,
      retryable: (error: E) => boolean
    ) =>
      effect.pipe(
        Effect.tapError((error) => (retryable(error) ? Ref.update(tries, (n) => n + 1) : Effect.void)),
        Effect.retry(retrySchedule(context.retry, retryable))
      )

    const resolveFrames = Effect.gen(function*() {
      let params: SeedanceParams = job.params
      const frames: Array<FrameRecord> = []
      for (
        const [role, frame] of [
          ["first_frame", job.firstFrame],
          ["last_frame", job.lastFrame]
        ] as const
      ) {
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
      return { params, frames }
    })

    const digestsOf = (frames: ReadonlyArray<FrameRecord> | undefined): FrameDigests =>
      Object.fromEntries(
        (frames ?? []).flatMap((frame) => (frame.sha256 === undefined ? [] : [[frame.role, frame.sha256]]))
      )

    const pollUntilDone = (submission: Submission, submittedMs: number, params: SeedanceParams) => {
      const runLeft = context.runDeadlineAtMs === undefined ? Infinity : context.runDeadlineAtMs - submittedMs
      const byRun = runLeft < Duration.toMillis(context.poll.deadline)
      const deadline = Duration.millis(Math.max(0, byRun ? runLeft : Duration.toMillis(context.poll.deadline)))
      return Effect.gen(function*() {
        const last = yield* Ref.make<StatusAnswer>({ status: "QUEUED", metrics: {} })
        const statusOnce = retrying(pollCall(client.status(submission)), isTransient).pipe(
          Effect.tap((answer) =>
            Effect.gen(function*() {
              yield* Ref.update(polls, (n) => n + 1)
              const previous = yield* Ref.getAndSet(last, answer)
              if (previous.status === answer.status) return
              yield* journal.append({
                _tag: "status",
                jobId: job.id,
                requestId: submission.requestId,
                status: answer.status
              })
              if (answer.status !== "COMPLETED") {
                yield* context.log(
                  job,
                  answer.status === "QUEUED" ? "queued" : "processing",
                  answer.status.toLowerCase()
                )
              }
            })
          )
        )
        const estimate = yield* context.generationTimes.estimate(params)
        const elapsedMs = (yield* Clock.currentTimeMillis) - submittedMs
        yield* Effect.sleep(
          Duration.millis(Math.max(0, Duration.toMillis(firstPollDelay(estimate, context.poll)) - elapsedMs))
        )
        return yield* statusOnce.pipe(
          Effect.repeat(pollSchedule(context.generationTimes.estimate(params), context.poll, submittedMs))
        )
      }).pipe(
        Effect.timeoutFail({
          duration: deadline,
          onTimeout: () =>
            new PollDeadlineExceeded({
              requestId: submission.requestId,
              message: byRun
                ? `the run's deadline passed while it was in flight; request ${submission.requestId} can still be resumed`
                : `no end within ${
                  Duration.format(deadline)
                } of submission; request ${submission.requestId} can still be resumed`
            })
        })
      )
    }

    /**
     * One submit attempt and its journal lines, shielded from interruption:
     * once the request is on the wire, its request id is recorded even when
     * the run is being stopped. The budget wait before it stays interruptible.
     */
    const submitOnce = (params: SeedanceParams, frames: ReadonlyArray<FrameRecord>) =>
      Effect.gen(function*() {
        yield* context.crashPoints.reach("before-submit")
        yield* journal.append({ _tag: "submitting", jobId: job.id, attempt: yield* Ref.get(tries) })
        yield* context.onSubmitted(job, undefined)
        const submission = yield* client.submit(params)
        yield* context.crashPoints.reach("after-submit")
        const known = yield* Ref.get(facts)
        yield* journal.append({
          _tag: "submitted",
          jobId: job.id,
          ...submission,
          params,
          ...(frames.length > 0 ? { frames } : {}),
          ...(known.resubmitted === undefined ? {} : { resubmitted: known.resubmitted })
        })
        yield* context.onSubmitted(job, submission.requestId)
        return submission
      }).pipe(Effect.uninterruptible)

    /** A verified video of an earlier run with the same model and body: taken, not rendered. */
    const reused = (paramsKey: string) =>
      Effect.gen(function*() {
        const candidate = context.reuse.find(paramsKey)
        if (candidate === undefined) return false
        const target = context.videoPath(job)
        if (!(yield* takeReusedVideo(candidate, target.absolute))) return false
        const output = { ...candidate.output, path: target.relative }
        const reusedFrom = { run: candidate.runId, job: candidate.jobId }
        yield* journal.append({ _tag: "downloaded", jobId: job.id, output, paramsKey, reusedFrom })
        yield* note({ output, reusedFrom })
        yield* context.log(
          job,
          "completed",
          `completed: reused ${candidate.runId}/${candidate.jobId} (same model, params and seed)`
        )
        return true
      })

    const submitPhase = Effect.gen(function*() {
      const aborted = yield* Ref.get(context.abort)
      if (Option.isSome(aborted)) {
        return yield* Effect.fail(new RunAborted({ message: `not submitted: the run stopped on ${aborted.value.tag}` }))
      }
      if (context.runDeadlineAtMs !== undefined && (yield* Clock.currentTimeMillis) >= context.runDeadlineAtMs) {
        return yield* Effect.fail(new RunDeadlineReached({ message: "not submitted: the run's deadline had passed" }))
      }
      const digests = yield* localFrameDigests(job).pipe(
        Effect.mapError((error) =>
          new UploadFailed({ reason: "FrameUnreadable", frame: `a frame of ${job.id}`, detail: error.message })
        )
      )
      const paramsKey = paramsKeyOf(context.model, job, digests)
      if (yield* reused(paramsKey)) return Option.none()

      const { params, frames } = yield* resolveFrames
      yield* note({ params, ...(frames.length > 0 ? { frames } : {}) })
      const submission = yield* retrying(
        apiCall(submitOnce(params, frames)),
        (error) => isJobError(error) && isSafeToResubmit(error)
      ).pipe(
        Effect.catchTag("TransportError", (error): Effect.Effect<never, TransportError | SubmitUncertain> =>
          error.requestSent
            ? Effect.fail(
              new SubmitUncertain({
                message:
                  `the submit was sent but its answer was lost (${error.message}); not re-sent, to avoid paying twice`
              })
            )
            : Effect.fail(error))
      )
      const submittedMs = yield* Clock.currentTimeMillis
      yield* note({ requestId: submission.requestId, submittedAt: isoAt(submittedMs) })
      yield* context.log(job, "submitted", `submitted as ${submission.requestId}`)
      return Option.some({ submission, submittedMs, params, paramsKey })
    })

    const finishPhase = (submission: Submission, submittedMs: number, params: SeedanceParams, paramsKey: string) =>
      Effect.gen(function*() {
        const finalStatus = yield* pollUntilDone(submission, submittedMs, params)
        const result = yield* retrying(apiCall(client.result(submission)), isTransient)
        const endedMs = yield* Clock.currentTimeMillis
        const metrics = { ...finalStatus.metrics, ...result.metrics }
        // What the API measured beats what polling saw (which lags by up to a poll gap).
        const tookMs = metrics.inference_time === undefined
          ? endedMs - submittedMs
          : (metrics.inference_time + (metrics.queue_time ?? 0)) * 1000
        yield* context.generationTimes.record(params, tookMs)
        yield* note({
          statusPolls: yield* Ref.get(polls),
          waitMs: endedMs - submittedMs,
          ...(metrics.inference_time === undefined ? {} : { inferenceTime: metrics.inference_time }),
          ...(metrics.queue_time === undefined ? {} : { queueMs: Math.round(metrics.queue_time * 1000) }),
          ...(metrics.cost === undefined ? {} : { cost: metrics.cost }),
          ...(metrics.remaining_credits === undefined ? {} : { remainingCredits: metrics.remaining_credits })
        })

        const target = context.videoPath(job)
        yield* context.log(job, "downloading", `downloading ${result.videoUrl.replace(/\?.*$/, "")}`)
        const video = yield* retrying(
          downloadVideo(client, result.videoUrl, target.absolute, context.partialDirectory, context.rejectedDirectory, {
            durationSeconds: params.duration,
            audio: params.generate_audio
          }, context.crashPoints),
          isTransient
        )
        yield* context.crashPoints.reach("after-download")
        const output = {
          path: target.relative,
          bytes: video.bytes,
          sha256: video.sha256,
          sourceUrl: result.videoUrl,
          durationSeconds: video.durationSeconds,
          ...(video.width === undefined ? {} : { width: video.width }),
          ...(video.height === undefined ? {} : { height: video.height }),
          hasAudio: video.hasAudio
        }
        yield* journal.append({ _tag: "downloaded", jobId: job.id, requestId: submission.requestId, output, paramsKey })
        const completedMs = yield* Clock.currentTimeMillis
        yield* note({ completedAt: isoAt(completedMs), downloadMs: video.downloadMs, output })
        yield* context.log(job, "completed", `completed: ${target.relative} (${(video.bytes / 1e6).toFixed(1)} MB)`)
      })

    const submitAndFinish = submitPhase.pipe(
      Effect.flatMap(
        Option.match({
          onNone: () =>
            Effect.void,
          onSome: ({ params, paramsKey, submission, submittedMs }) =>
            finishPhase(submission, submittedMs, params, paramsKey)
        })
      )
    )

    const render: Effect.Effect<void, JobError | PlatformError, FileSystem.FileSystem | Path.Path> =
      start._tag === "Submit"
        ? submitAndFinish
        : Effect.gen(function*() {
          yield* note({
            params: start.params,
            ...(start.frames === undefined ? {} : { frames: start.frames }),
            requestId: start.submission.requestId,
            submittedAt: isoAt(start.submittedAtMs),
            ...(start.resubmitted === undefined ? {} : { resubmitted: start.resubmitted })
          })
          yield* context.log(job, "submitted", `resumed: polling ${start.submission.requestId} again`)
          const paramsKey = paramsKeyOf(context.model, job, digestsOf(start.frames))
          yield* finishPhase(start.submission, start.submittedAtMs, start.params, paramsKey)
        }).pipe(
          // The API no longer knows the request (404): only then is the job sent again.
          Effect.catchTag("ResultExpired", (error: ResultExpired) =>
            Effect.gen(function*() {
              const resubmitted = {
                reason:
                  `request ${start.submission.requestId} was no longer known to the API (${error.message}): submitted again`,
                previousRequestId: start.submission.requestId
              }
              yield* Ref.set(facts, { resubmitted })
              yield* context.log(job, "waiting", resubmitted.reason)
              yield* submitAndFinish
            }))
        )

    const status = yield* render.pipe(
      Effect.as("completed" as const),
      Effect.catchIf(isJobError, (error) =>
        Effect.gen(function*() {
          const reported = reportErrorOf(error)
          const kind = classify(error)
          if (kind === "fatal") {
            yield* Ref.update(context.abort, (current) => (Option.isSome(current) ? current : Option.some(reported)))
          }
          yield* note({ error: reported })
          const requestId = (yield* Ref.get(facts)).requestId
          // Refused before the API took it (aborted run, or the fatal answer itself): not submitted, so skipped.
          if (
            error._tag === "RunAborted" || error._tag === "RunDeadlineReached" ||
            (kind === "fatal" && requestId === undefined)
          ) {
            yield* context.log(job, "skipped", `not submitted: ${reported.tag}: ${reported.message}`)
            return "skipped" as const
          }
          yield* journal.append({
            _tag: "failed",
            jobId: job.id,
            ...(requestId === undefined ? {} : { requestId }),
            error: {
              tag: reported.tag,
              message: reported.message,
              ...(reported.httpStatus === undefined ? {} : { httpStatus: reported.httpStatus })
            }
          })
          yield* context.log(job, "failed", `failed: ${reported.tag}: ${reported.message}`)
          return "failed" as const
        }))
    )

    const known = yield* Ref.get(facts)
    const report = {
      ...jobReportBase(job),
      ...known,
      status,
      attempts: known.reusedFrom === undefined ? yield* Ref.get(tries) : 0
    } satisfies JobReport
    yield* journal.append({ _tag: "finished", jobId: job.id, report })
    return report
  })
