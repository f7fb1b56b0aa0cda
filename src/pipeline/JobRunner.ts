import { type FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Chunk, Clock, Data, Duration, Effect, Either, Option, Schedule, Stream } from "effect"
import type { Job } from "../domain/Job.js"
import type { FrameRecord, VideoOutput } from "../domain/JobReport.js"
import { type CompletedResult, type ResultOrPending, SegmindClient, type Submission } from "../segmind/SegmindClient.js"
import { type SubmitError, UploadFailed } from "../segmind/SegmindErrors.js"
import type { Metrics } from "../segmind/WireSchemas.js"
import { type DiskUnwritable, diskUnwritableOf, withFix } from "../store/DiskErrors.js"
import { Journal } from "../store/Journal.js"
import { runFiles, videoPathOf } from "../store/RunDirectory.js"
import { type Counted, type GaveUp, type RetriedCall, retryCounting } from "./CountedRetry.js"
import { CrashPoints } from "./CrashPoints.js"
import {
  classify,
  httpStatusOf,
  isDoubtfulAnswer,
  isPlatformError,
  isSafeToResubmit,
  isTransient,
  type JobError,
  leavesSubmitUncertain,
  reportErrorOf
} from "./FailureClass.js"
import { FrameResolver } from "./FrameUploads.js"
import { GenerationTimes } from "./GenerationTimes.js"
import { boundByDeadline, type JobDeadline, jobDeadlineFrom, withBudgetBy } from "./JobDeadline.js"
import {
  type Generated,
  isAccepted,
  JobOutcome,
  JobProgress,
  type Planned,
  type Prepared,
  reportOf,
  type Submitted
} from "./JobOutcome.js"
import { JobStart, submitStart } from "./JobStart.js"
import { PollDeadlineExceeded, RunDeadlineReached, SubmitUncertain } from "./PipelineErrors.js"
import type { PollVia } from "./PollRoute.js"
import type { PollSettings } from "./PollSchedule.js"
import { type InSlot, type OffRoute, type PolledAnswer, PollScheduler } from "./PollScheduler.js"
import { type CallPriority, RequestBudget } from "./RequestBudget.js"
import type { RetrySettings } from "./RetryPolicy.js"
import {
  type FrameDigests,
  localFrameDigests,
  paramsKeyOf,
  reusedFromOf,
  type ReuseIndex,
  takeReusedVideo
} from "./ReuseCache.js"
import { RunGate } from "./RunGate.js"
import { type JobPhase, RunProgress } from "./RunProgress.js"
import { downloadVideo } from "./VideoDownload.js"

/** How a run renders each job; the services it talks through come from the context. */
export interface JobSettings {
  readonly model: string
  readonly poll: PollSettings
  readonly retry: RetrySettings
  /** videos, partial and rejected files go under it */
  readonly runDirectory: string
  /** completed videos of earlier runs, by params key (`--reuse`) */
  readonly reuse: ReuseIndex
}

/** A phase failed: the job ends with `error` at the stage it had reached. */
class JobStopped extends Data.TaggedError("JobStopped")<{
  readonly error: JobError
  readonly progress: JobProgress
}> {
  override get message() {
    return this.error.message
  }
}

/**
 * A job error stops the job at `progress` (after the tries of a call that gave
 * up), and so does a disk that refuses a write; another file system error passes.
 */
const stopsAt = (progress: JobProgress) =>
<A, R>(
  effect: Effect.Effect<A, JobError | GaveUp | PlatformError, R>
): Effect.Effect<A, JobStopped | PlatformError, R> =>
  Effect.mapError(effect, (error) => {
    if (error._tag === "GaveUp") {
      return new JobStopped({
        error: error.error,
        progress: { ...progress, tries: progress.tries + error.failedTries }
      })
    }
    if (!isPlatformError(error)) return new JobStopped({ error, progress })
    const refused = diskUnwritableOf(error)
    return refused === undefined ? error : new JobStopped({ error: refused, progress })
  })

/** A job's move to another phase, told to whoever watches the run. */
const tell = (job: Job, phase: JobPhase, message: string) =>
  Effect.gen(function*() {
    const progress = yield* RunProgress
    yield* progress.changed({ jobId: job.id, phase, message, atMs: yield* Clock.currentTimeMillis })
  })

/**
 * One job from submission (or from an accepted request, on resume) to a
 * verified video on disk. Never fails on the job's account: whatever happens
 * ends as a `JobReport`, journaled as `finished`; a fatal answer also closes
 * the run's gate.
 */
export const runJob = Effect.fn("JobRunner.runJob")(function*(
  settings: JobSettings,
  job: Job,
  start: JobStart = submitStart
) {
  const rendered = JobStart.$match(start, {
    Submit: ({ resubmitted }) => fromSubmit(settings, job, JobProgress.Planned({ resubmitted, tries: 1 })),
    Poll: (accepted) => fromPoll(settings, job, accepted),
    Download: (finished) => fromDownload(settings, job, finished)
  })
  const outcome = yield* rendered.pipe(Effect.catchTag("JobStopped", (stopped) => Effect.succeed(outcomeOf(stopped))))
  return yield* settle(settings, job, outcome)
})

/**
 * A job stopped short: held for resume when the disk refused a write; skipped
 * when it was never sent (a closed gate, or the fatal answer to its own
 * submit); else failed.
 */
const outcomeOf = ({ error, progress }: JobStopped): JobOutcome => {
  if (error._tag === "DiskUnwritable") return JobOutcome.Held({ progress, error })
  const notSent = error._tag === "RunAborted" || error._tag === "RunDeadlineReached" ||
    (classify(error) === "fatal" && !isAccepted(progress))
  return notSent ? JobOutcome.Skipped({ progress, error }) : JobOutcome.Failed({ progress, error })
}

/** A new job, or one a resume sends again: not sent once the run's gate is closed, taken from an earlier run when it can be. */
const fromSubmit = Effect.fn("JobRunner.fromSubmit")(function*(settings: JobSettings, job: Job, planned: Planned) {
  yield* Effect.flatMap(RunGate, (gate) => gate.check).pipe(stopsAt(planned))
  const digests = yield* localFrameDigests(job).pipe(
    Effect.mapError((error) =>
      new UploadFailed({ reason: "FrameUnreadable", frame: `a frame of ${job.id}`, detail: error.message })
    ),
    stopsAt(planned)
  )
  const paramsKey = paramsKeyOf(settings.model, job, digests)
  const reused = yield* reuse(settings, job, planned, paramsKey)
  if (Option.isSome(reused)) return reused.value
  const prepared = yield* resolveFrames(job, planned)
  const submitted = yield* submit(settings, job, prepared)
  return yield* finish(settings, job, submitted, paramsKey)
})

/** A request the API accepted earlier, as the journal recorded it. */
type Accepted = Data.TaggedEnum.Value<JobStart, "Poll" | "Download">

const acceptedProgress = (start: Accepted): Submitted =>
  JobProgress.Submitted({
    resubmitted: start.resubmitted,
    tries: start.submitAttempts,
    params: start.params,
    frames: start.frames ?? [],
    submission: start.submission,
    submittedMs: start.submittedAtMs
  })

/** A request the API already accepted: polled again, and sent again only when the API has forgotten it and the resume allows it. */
const fromPoll = Effect.fn("JobRunner.fromPoll")(function*(settings: JobSettings, job: Job, start: Accepted) {
  const submitted = acceptedProgress(start)
  const { requestId } = start.submission
  yield* tell(job, "submitted", `resumed: polling ${requestId} again`)
  const paramsKey = paramsKeyOf(settings.model, job, digestsOf(submitted.frames))
  return yield* finish(settings, job, submitted, paramsKey).pipe(
    Effect.catchTag("JobStopped", (stopped) => {
      // Only the API's own 404 for the request says it is gone; without leave to pay again, the job fails.
      const { error } = stopped
      const { ifForgotten } = start
      if (error._tag !== "ResultExpired" || error.requestId === undefined || ifForgotten === undefined) {
        return Effect.fail(stopped)
      }
      const resubmitted = { ...ifForgotten, reason: `${ifForgotten.reason} (${error.message})` }
      return tell(job, "waiting", resubmitted.reason).pipe(
        Effect.zipRight(fromSubmit(settings, job, JobProgress.Planned({ resubmitted, tries: stopped.progress.tries })))
      )
    })
  )
})

/** A finished request whose video URL the journal holds: downloaded from it (files outlive requests), else asked for again. */
const fromDownload = Effect.fn("JobRunner.fromDownload")(function*(
  settings: JobSettings,
  job: Job,
  start: Data.TaggedEnum.Value<JobStart, "Download">
) {
  const generated = JobProgress.Generated({
    ...acceptedProgress(start),
    videoUrl: start.videoUrl,
    metrics: start.metrics,
    polls: 0,
    endedMs: start.endedAtMs
  })
  const paramsKey = paramsKeyOf(settings.model, job, digestsOf(generated.frames))
  const deadline = yield* deadlineOf(settings, generated.submittedMs)
  return yield* download(settings, job, generated, paramsKey, deadline).pipe(
    Effect.catchTag("JobStopped", (stopped) =>
      // The storage host no longer serves the video: the request may still name it, for free.
      stopped.error._tag === "ResultExpired"
        ? tell(job, "waiting", `its video is no longer served (${stopped.error.message}): asking the API again`).pipe(
          Effect.zipRight(fromPoll(settings, job, { ...start, submitAttempts: stopped.progress.tries }))
        )
        : Effect.fail(stopped))
  )
})

const digestsOf = (frames: ReadonlyArray<FrameRecord>): FrameDigests =>
  Object.fromEntries(frames.flatMap((frame) => (frame.sha256 === undefined ? [] : [[frame.role, frame.sha256]])))

/** From an accepted request to a verified video, all of it within the job's deadline. */
const finish = (settings: JobSettings, job: Job, submitted: Submitted, paramsKey: string) =>
  Effect.gen(function*() {
    const deadline = yield* deadlineOf(settings, submitted.submittedMs)
    const polled = yield* poll(settings, job, submitted, deadline)
    const generated = yield* fetchResult(settings, job, polled, deadline)
    return yield* download(settings, job, generated, paramsKey, deadline)
  })

/** A job's deadline, counted from its submission, or from now when a resume takes it up later. */
const deadlineOf = (settings: JobSettings, submittedMs: number) =>
  Effect.gen(function*() {
    const fromMs = Math.max(submittedMs, yield* Clock.currentTimeMillis)
    return jobDeadlineFrom(settings.poll, (yield* RunGate).deadlineAtMs, fromMs)
  })

/** What a job in flight fails with at its deadline, at `stage`, or when a 429 asks it to wait past it. */
const deadlinePassed = (
  submitted: Submitted | Generated,
  deadline: JobDeadline,
  stage?: "result" | "download"
) =>
(rateLimitedFor?: Duration.Duration) =>
  new PollDeadlineExceeded({
    requestId: submitted.submission.requestId,
    after: deadline.after,
    byRun: deadline.byRun,
    ...(stage === undefined ? {} : { stage }),
    ...(rateLimitedFor === undefined ? {} : { rateLimitedFor })
  })

/** `effect` cut short when the job's deadline comes. */
const byDeadline = <E>(deadline: JobDeadline, late: () => E) => <A, E2, R>(effect: Effect.Effect<A, E2, R>) =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (nowMs) =>
      Effect.timeoutFail(effect, { duration: Duration.millis(Math.max(0, deadline.atMs - nowMs)), onTimeout: late })
  )

/** A verified video of an earlier run with the same model and body: taken, not rendered. */
const reuse = Effect.fn("JobRunner.reuse")(function*(
  settings: JobSettings,
  job: Job,
  planned: Planned,
  paramsKey: string
) {
  const path = yield* Path.Path
  const candidate = settings.reuse.find(paramsKey)
  if (candidate === undefined) return Option.none<JobOutcome>()
  const relative = videoPathOf(job.id)
  const expect = { durationSeconds: job.params.duration, audio: job.params.generate_audio }
  const taken = yield* takeReusedVideo(candidate, path.join(settings.runDirectory, relative), expect).pipe(
    stopsAt(planned)
  )
  if (!taken) return Option.none<JobOutcome>()
  const output = { ...candidate.output, path: relative }
  const reusedFrom = reusedFromOf(candidate)
  yield* Effect.flatMap(
    Journal,
    (journal) => journal.append({ _tag: "downloaded", jobId: job.id, output, paramsKey, reusedFrom })
  ).pipe(stopsAt(planned))
  return Option.some(JobOutcome.Reused({ progress: planned, output, reusedFrom }))
})

/** The body to send: local frames uploaded (once per content for the run), URL frames as they are. */
const resolveFrames = Effect.fn("JobRunner.resolveFrames")(function*(job: Job, planned: Planned) {
  const resolver = yield* FrameResolver
  let params = job.params
  const frames: Array<FrameRecord> = []
  for (const [role, frame] of [["first_frame", job.firstFrame], ["last_frame", job.lastFrame]] as const) {
    if (frame === undefined) continue
    const resolved = yield* resolver.resolve(frame, job.id).pipe(stopsAt(planned))
    frames.push({
      role,
      source: frame._tag === "Url" ? frame.url : frame.path,
      url: resolved.url,
      ...(resolved.sha256 === undefined ? {} : { sha256: resolved.sha256 }),
      ...(role === "first_frame" && job.firstFrameFrom !== undefined ? { fromJob: job.firstFrameFrom.job } : {})
    })
    params = { ...params, [`${role}_url`]: resolved.url }
  }
  return JobProgress.Prepared({ ...planned, params, frames })
})

/**
 * Sends the body, again only where the API certainly did not take it; not
 * at all when the run's gate closed while it waited for a slot, or when the
 * wait would pass the run's deadline.
 */
const submit = Effect.fn("JobRunner.submit")(function*(settings: JobSettings, job: Job, prepared: Prepared) {
  const budget = yield* RequestBudget
  const gate = yield* RunGate
  const late = (rateLimitedFor?: Duration.Duration) =>
    new RunDeadlineReached(rateLimitedFor === undefined ? {} : { rateLimitedFor })
  const { failedTries, value: submission } = yield* gate.check.pipe(
    Effect.zipRight(sendOnce(job, prepared)),
    withBudgetBy(budget, settings.retry.base, "submit", gate.deadlineAtMs, late),
    retryCounting(settings.retry, isSafeToResubmit, { jobId: job.id, call: "submit" }),
    stopsAt(prepared)
  )
  const submittedMs = yield* Clock.currentTimeMillis
  yield* tell(job, "submitted", `submitted as ${submission.requestId}`)
  return JobProgress.Submitted({ ...prepared, tries: prepared.tries + failedTries, submission, submittedMs })
})

/** A sent submit whose answer leaves open whether the API took (and bills) it is not sent again. */
const uncertainOnceSent = (error: SubmitError): SubmitError | SubmitUncertain =>
  leavesSubmitUncertain(error) ? new SubmitUncertain({ cause: error }) : error

/**
 * One submit attempt and its journal lines, shielded from interruption:
 * once the request is on the wire, its request id is recorded even when
 * the run is being stopped. The budget wait before it stays interruptible.
 */
const sendOnce = Effect.fn("JobRunner.sendOnce")(function*(job: Job, prepared: Prepared) {
  const client = yield* SegmindClient
  const journal = yield* Journal
  const crashPoints = yield* CrashPoints
  const { recurrence } = yield* Schedule.CurrentIterationMetadata
  yield* crashPoints.reach("before-submit")
  yield* journal.append({
    _tag: "submitting",
    jobId: job.id,
    attempt: prepared.tries + recurrence,
    ...(prepared.resubmitted === undefined ? {} : { resubmitted: prepared.resubmitted })
  })
  const submission = yield* client.submit(prepared.params).pipe(Effect.mapError(uncertainOnceSent))
  yield* crashPoints.reach("after-submit")
  yield* journal.append({
    _tag: "submitted",
    jobId: job.id,
    ...submission,
    params: prepared.params,
    ...(prepared.frames.length > 0 ? { frames: prepared.frames } : {}),
    ...(prepared.resubmitted === undefined ? {} : { resubmitted: prepared.resubmitted })
  })
  return submission
}, Effect.uninterruptible)

/** What polling saw: the job COMPLETED, after `polls` status calls. */
interface Polled {
  readonly submitted: Submitted
  readonly polls: number
  readonly metrics: Metrics
  /** the result, when the poll that saw COMPLETED asked the result URL */
  readonly result?: CompletedResult
}

/**
 * Where polling stands after an answer: the answer (or why polling stopped),
 * the status calls that answered, and the failed tries they took.
 */
interface PollStep {
  readonly seen: Either.Either<PolledAnswer, GaveUp | PollDeadlineExceeded | PlatformError>
  readonly polls: number
  readonly failedTries: number
}

/** A job is QUEUED when the API takes it: only a change from that is news. */
const justSubmitted: PollStep = { seen: Either.right({ status: "QUEUED", metrics: {} }), polls: 0, failedTries: 0 }

const nextStep = (
  before: PollStep,
  seen: Either.Either<Counted<PolledAnswer>, GaveUp | PollDeadlineExceeded | PlatformError>
): PollStep =>
  Either.match(seen, {
    onLeft: (stop) => ({ ...before, seen: Either.left(stop) }),
    onRight: ({ failedTries, value }) => ({
      seen: Either.right(value),
      polls: before.polls + 1,
      failedTries: before.failedTries + failedTries
    })
  })

const sameStatus = (a: PollStep, b: PollStep) =>
  Either.isRight(a.seen) && Either.isRight(b.seen) && a.seen.right.status === b.seen.right.status

/**
 * Status calls until COMPLETED, within the job's deadline: each change of
 * status is journaled and told.
 */
const poll = Effect.fn("JobRunner.poll")(function*(
  settings: JobSettings,
  job: Job,
  submitted: Submitted,
  deadline: JobDeadline
) {
  const passed = deadlinePassed(submitted, deadline)()
  const leftMs = deadline.atMs - (yield* Clock.currentTimeMillis)
  const last = yield* statusAnswers(settings, job, submitted, deadline).pipe(
    Stream.interruptWhen(Effect.delay(Effect.fail(passed), Duration.millis(Math.max(0, leftMs)))),
    Stream.either,
    Stream.mapAccum(justSubmitted, (before, seen) => {
      const step = nextStep(before, seen)
      return [step, step] as const
    }),
    Stream.prepend(Chunk.of(justSubmitted)),
    Stream.changesWith(sameStatus),
    Stream.drop(1),
    Stream.tap((step) => statusChanged(job, submitted.submission, step)),
    Stream.runFold(justSubmitted, (_, step) => step),
    stopsAt(submitted)
  )
  const progress = { ...submitted, tries: submitted.tries + last.failedTries }
  return yield* Either.match(last.seen, {
    onLeft: (stop) => Effect.fail(stop).pipe(stopsAt(progress)),
    onRight: (answer) =>
      answer.status === "COMPLETED"
        ? Effect.succeed<Polled>({
          submitted: progress,
          polls: last.polls,
          metrics: answer.metrics,
          ...(answer.result === undefined ? {} : { result: answer.result })
        })
        : Effect.fail(new JobStopped({ error: passed, progress }))
  })
})

/** Tries of a doubtful answer (a proxy's page, a 404 just after the submit) before it counts as the API's. */
const DOUBTFUL_TRIES = 3

/**
 * A call about an accepted request, within the run's budget and the job's
 * deadline (`within`: a slot or a 429 wait past `atMs` fails with `late`),
 * retried as the run's policy says; a doubtful answer is asked again a few
 * times first. The failed tries of both count.
 */
const askedAbout = <A, R>(
  settings: JobSettings,
  submitted: Submitted,
  slot: CallPriority | InSlot,
  call: Effect.Effect<A, JobError, R>,
  retried: RetriedCall,
  within: { readonly atMs: number; readonly late: (rateLimitedFor?: Duration.Duration) => PollDeadlineExceeded }
): Effect.Effect<Counted<A>, GaveUp | PlatformError, R | RequestBudget | RunGate | Journal> =>
  Effect.gen(function*() {
    const budget = yield* RequestBudget
    const sinceSubmitMs = (yield* Clock.currentTimeMillis) - submitted.submittedMs
    const counted = yield* call.pipe(
      typeof slot === "string"
        ? withBudgetBy(budget, settings.retry.base, slot, within.atMs, within.late)
        : (call) => boundByDeadline(settings.retry.base, within.atMs, within.late)(slot(call)),
      retryCounting({ ...settings.retry, tries: DOUBTFUL_TRIES }, isDoubtfulAnswer(sinceSubmitMs), retried),
      Effect.catchTag("GaveUp", (gaveUp) => Effect.fail(gaveUp.error)),
      retryCounting(settings.retry, isTransient, retried)
    )
    return { value: counted.value.value, failedTries: counted.failedTries + counted.value.failedTries }
  })

/**
 * The job's status answers, each with the failed tries it took: each from a
 * poll the run's scheduler chose to spend on this job, until COMPLETED; at
 * the status URL, or at the result URL where the run's probe found it
 * answers "not yet" (a COMPLETED answer then carries the result).
 */
const statusAnswers = (settings: JobSettings, job: Job, submitted: Submitted, deadline: JobDeadline) =>
  Stream.unwrap(Effect.gen(function*() {
    const client = yield* SegmindClient
    const scheduler = yield* PollScheduler
    const context = yield* Effect.context<RequestBudget | RunGate | Journal>()
    const { submission } = submitted
    const late = deadlinePassed(submitted, deadline)
    const asked = (via: PollVia): Effect.Effect<PolledAnswer | OffRoute, JobError> =>
      via === "status"
        ? client.status(submission)
        : Effect.map(client.resultOrPending(submission), polledAnswerOf)
    return scheduler.watch<GaveUp | PlatformError | PollDeadlineExceeded>({
      params: submitted.params,
      submittedAtMs: submitted.submittedMs,
      rateLimitedFor: settings.retry.base,
      ask: (inSlot, via) =>
        askedAbout(settings, submitted, inSlot, asked(via), {
          jobId: job.id,
          call: via === "status" ? "status" : "result",
          requestId: submission.requestId
        }, { atMs: deadline.atMs, late }).pipe(Effect.provide(context)),
      deadlineAtMs: deadline.atMs,
      late
    })
  }))

const polledAnswerOf = (answer: ResultOrPending): PolledAnswer | OffRoute => {
  switch (answer._tag) {
    case "Pending":
      return answer.answer
    case "Done":
      return { status: "COMPLETED", metrics: answer.result.metrics, result: answer.result }
    case "Unrecognised":
      return { _tag: "OffRoute", answered: answer.answered }
  }
}

/** A change of status: journaled, and told unless it is the end (the download that follows says so). */
const statusChanged = (job: Job, submission: Submission, step: PollStep) =>
  Either.match(step.seen, {
    onLeft: () => Effect.void,
    onRight: ({ status }) =>
      Effect.gen(function*() {
        const journal = yield* Journal
        yield* journal.append({ _tag: "status", jobId: job.id, requestId: submission.requestId, status })
        if (status !== "COMPLETED") {
          yield* tell(job, status === "QUEUED" ? "queued" : "processing", status.toLowerCase())
        }
      })
  })

/** The completed job's video URL and the API's metrics, which teach the run how long generations take. */
const fetchResult = Effect.fn("JobRunner.fetchResult")(function*(
  settings: JobSettings,
  job: Job,
  polled: Polled,
  deadline: JobDeadline
) {
  const { submitted } = polled
  const client = yield* SegmindClient
  const late = deadlinePassed(submitted, deadline, "result")
  // The poll that saw COMPLETED at the result URL already holds the result.
  const { failedTries, value: result } = polled.result === undefined
    ? yield* askedAbout(
      settings,
      submitted,
      "result",
      client.result(submitted.submission),
      { jobId: job.id, call: "result", requestId: submitted.submission.requestId },
      { atMs: deadline.atMs, late }
    ).pipe(byDeadline(deadline, () => late()), stopsAt(submitted))
    : { failedTries: 0, value: polled.result }
  const endedMs = yield* Clock.currentTimeMillis
  const metrics = { ...polled.metrics, ...result.metrics }
  // Before the download: a crash then leaves the URL, which outlives the request by days.
  yield* Effect.flatMap(Journal, (journal) =>
    journal.append({
      _tag: "result",
      jobId: job.id,
      requestId: submitted.submission.requestId,
      videoUrl: result.videoUrl,
      metrics
    })).pipe(stopsAt({ ...submitted, tries: submitted.tries + failedTries }))
  // What the API measured beats what polling saw (which lags by up to a poll gap).
  const tookMs = metrics.inference_time === undefined
    ? endedMs - submitted.submittedMs
    : (metrics.inference_time + (metrics.queue_time ?? 0)) * 1000
  yield* Effect.flatMap(GenerationTimes, (times) => times.record(submitted.params, tookMs))
  return JobProgress.Generated({
    ...submitted,
    tries: submitted.tries + failedTries,
    videoUrl: result.videoUrl,
    metrics,
    polls: polled.polls,
    endedMs
  })
})

/** The video streamed to its place under `videos/`, checked, and journaled, by the job's deadline: the job is done. */
const download = Effect.fn("JobRunner.download")(function*(
  settings: JobSettings,
  job: Job,
  generated: Generated,
  paramsKey: string,
  deadline: JobDeadline
) {
  const path = yield* Path.Path
  const { params, videoUrl } = generated
  const relative = videoPathOf(job.id)
  yield* tell(job, "downloading", `downloading ${videoUrl.replace(/\?.*$/, "")}`)
  const { failedTries, value: video } = yield* downloadVideo(
    videoUrl,
    path.join(settings.runDirectory, relative),
    runFiles(path, settings.runDirectory),
    { durationSeconds: params.duration, audio: params.generate_audio }
  ).pipe(
    retryCounting(settings.retry, isTransient, {
      jobId: job.id,
      call: "download",
      requestId: generated.submission.requestId
    }),
    byDeadline(deadline, deadlinePassed(generated, deadline, "download")),
    stopsAt(generated)
  )
  yield* Effect.flatMap(CrashPoints, (crashPoints) => crashPoints.reach("after-download"))
  const output: VideoOutput = {
    path: relative,
    bytes: video.bytes,
    sha256: video.sha256,
    sourceUrl: videoUrl,
    durationSeconds: video.durationSeconds,
    ...(video.width === undefined ? {} : { width: video.width }),
    ...(video.height === undefined ? {} : { height: video.height }),
    hasAudio: video.hasAudio
  }
  yield* Effect.flatMap(
    Journal,
    (journal) =>
      journal.append({
        _tag: "downloaded",
        jobId: job.id,
        requestId: generated.submission.requestId,
        output,
        paramsKey
      })
  ).pipe(stopsAt(generated))
  return JobOutcome.Completed({
    progress: { ...generated, tries: generated.tries + failedTries },
    output,
    downloadMs: video.downloadMs,
    completedMs: yield* Clock.currentTimeMillis
  })
})

/**
 * The job's end, told; its report is journaled as `finished`. A job the disk
 * stopped journals nothing more (resume takes it up where it stood) and
 * closes the run's gate; so does a disk that refuses the end's own lines.
 */
const settle = Effect.fn("JobRunner.settle")(function*(settings: JobSettings, job: Job, outcome: JobOutcome) {
  const report = reportOf(job, outcome)
  const told: Effect.Effect<void, PlatformError, Journal | RunGate | RunProgress | FileSystem.FileSystem | Path.Path> =
    JobOutcome.$match(outcome, {
      Completed: ({ output }) =>
        tell(job, "completed", `completed: ${output.path} (${(output.bytes / 1e6).toFixed(1)} MB)`),
      Reused: ({ reusedFrom }) =>
        tell(job, "completed", `completed: reused ${reusedFrom.run}/${reusedFrom.job} (same model, params and seed)`),
      Failed: ({ error }) =>
        closeGateIfFatal(error).pipe(
          Effect.zipRight(journalFailure(job, report.requestId, error)),
          Effect.zipRight(tell(job, "failed", `failed: ${error._tag}: ${error.message}`))
        ),
      Skipped: ({ error }) =>
        closeGateIfFatal(error).pipe(
          Effect.zipRight(tell(job, "skipped", `not submitted: ${error._tag}: ${error.message}`))
        ),
      Held: ({ error, progress }) =>
        Effect.flatMap(closeGateForDisk(settings, error), (stopped) =>
          tell(
            job,
            isAccepted(progress) ? "failed" : "skipped",
            `stopped: ${stopped.message}${report.requestId === undefined ? "" : ` (request ${report.requestId} kept)`}`
          ))
    })
  const finished = outcome._tag === "Held"
    ? Effect.void
    : Effect.flatMap(Journal, (journal) => journal.append({ _tag: "finished", jobId: job.id, report }))
  yield* told.pipe(
    Effect.zipRight(finished),
    Effect.catchAll((error) => {
      const refused = diskUnwritableOf(error)
      return refused === undefined ? Effect.fail(error) : Effect.asVoid(closeGateForDisk(settings, refused))
    })
  )
  return report
})

/** A disk that refuses writes stops every submission of the run after it; the run says the fix, and how to resume. */
const closeGateForDisk = (settings: JobSettings, error: DiskUnwritable) =>
  Effect.gen(function*() {
    const stopped = yield* withFix(error, settings.runDirectory)
    yield* Effect.flatMap(RunGate, (gate) => gate.close({ tag: stopped._tag, message: stopped.message }))
    return stopped
  })

/** A fatal answer stops every submission of the run after it. */
const closeGateIfFatal = (error: JobError) =>
  classify(error) === "fatal" ? Effect.flatMap(RunGate, (gate) => gate.close(reportErrorOf(error))) : Effect.void

const journalFailure = (job: Job, requestId: string | undefined, error: JobError) => {
  const httpStatus = httpStatusOf(error)
  return Effect.flatMap(Journal, (journal) =>
    journal.append({
      _tag: "failed",
      jobId: job.id,
      ...(requestId === undefined ? {} : { requestId }),
      error: { tag: error._tag, message: error.message, ...(httpStatus === undefined ? {} : { httpStatus }) }
    }))
}
