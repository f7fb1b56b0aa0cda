import type { PlatformError } from "@effect/platform/Error"
import { Data, Duration, Effect, Schedule } from "effect"
import { Journal, type JournalEntry } from "../store/Journal.js"
import { isPlatformError, type JobError, reportErrorOf } from "./FailureClass.js"
import { retrySchedule, type RetrySettings } from "./RetryPolicy.js"

/** A value, and how many tries of the call that gave it failed and were retried. */
export interface Counted<A> {
  readonly value: A
  readonly failedTries: number
}

/** The call's last error once retrying stopped, and how many of its tries failed retryably (that one included). */
export class GaveUp extends Data.TaggedError("GaveUp")<{
  readonly error: JobError
  readonly failedTries: number
}> {
  override get message() {
    return this.error.message
  }
}

/** Which call of which job is retried: what its retry lines and journal events name. */
export interface RetriedCall {
  readonly jobId: string
  readonly call: Extract<JournalEntry, { readonly _tag: "retry" }>["call"]
  readonly requestId?: string | undefined
}

const secondsText = (wait: Duration.Duration) => {
  const ms = Duration.toMillis(wait)
  return `${(ms / 1000).toFixed(ms < 1000 ? 2 : 1)} s`
}

/** One retry, told: a log line (with job, requestId, attempt and error fields) and a `retry` journal event. */
const announceRetry = (
  retried: RetriedCall,
  tries: number,
  attempt: number,
  error: JobError,
  wait: Duration.Duration
) =>
  Effect.gen(function*() {
    const failure = `${error._tag}: ${error.message}`
    const requestId = retried.requestId === undefined ? {} : { requestId: retried.requestId }
    yield* Effect.logInfo(
      `${retried.jobId}: ${retried.call} failed on attempt ${attempt} of ${tries} (${failure}); trying again in ${
        secondsText(wait)
      }`
    ).pipe(Effect.annotateLogs({ job: retried.jobId, ...requestId, attempt, error: failure }))
    const journal = yield* Journal
    yield* journal.append({
      _tag: "retry",
      jobId: retried.jobId,
      ...requestId,
      call: retried.call,
      attempt,
      error: reportErrorOf(error),
      waitMs: Math.round(Duration.toMillis(wait))
    }).pipe(
      Effect.catchAll((cause) => Effect.logWarning(`could not journal a retry of ${retried.jobId}: ${cause.message}`))
    )
  })

/**
 * The run's retry policy for one call, each retry it decides on told where a
 * user looks: the log and the journal. The one place retries are announced.
 */
export const announcedRetrySchedule = <E extends JobError | PlatformError>(
  settings: RetrySettings,
  retryable: (error: E) => boolean,
  retried: RetriedCall
) =>
  Schedule.delays(retrySchedule(settings, retryable)).pipe(
    Schedule.intersect(Schedule.identity<E>()),
    Schedule.intersect(Schedule.count),
    Schedule.onDecision(([[wait, error], failedBefore], decision) =>
      decision._tag === "Continue" && !isPlatformError(error)
        ? announceRetry(retried, settings.tries, failedBefore + 1, error, wait)
        : Effect.void
    )
  )

/**
 * `call` retried by the run's policy while `retryable` says so, counting its
 * failed tries on both sides: a job reports how many tries it took. The count
 * comes from the schedule (its recurrences so far). A file system error is
 * never retried and passes as it is. Each retry is logged and journaled.
 */
export const retryCounting = (
  settings: RetrySettings,
  retryable: (error: JobError) => boolean,
  retried: RetriedCall
) =>
<A, R>(
  call: Effect.Effect<A, JobError | PlatformError, R>
): Effect.Effect<Counted<A>, GaveUp | PlatformError, R | Journal> =>
  call.pipe(
    Effect.zipWith(Schedule.CurrentIterationMetadata, (value, { recurrence }) => ({ value, failedTries: recurrence })),
    Effect.retryOrElse(
      announcedRetrySchedule(
        settings,
        (error: JobError | PlatformError) => !isPlatformError(error) && retryable(error),
        retried
      ),
      (error): Effect.Effect<never, GaveUp | PlatformError> =>
        isPlatformError(error)
          ? Effect.fail(error)
          : Effect.flatMap(
            Schedule.CurrentIterationMetadata,
            ({ recurrence }) => Effect.fail(new GaveUp({ error, failedTries: recurrence + (retryable(error) ? 1 : 0) }))
          )
    )
  )
