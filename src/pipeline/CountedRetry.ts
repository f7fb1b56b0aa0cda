import type { PlatformError } from "@effect/platform/Error"
import { Data, Effect, Schedule } from "effect"
import { isPlatformError, type JobError } from "./FailureClass.js"
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

/**
 * `call` retried by the run's policy while `retryable` says so, counting its
 * failed tries on both sides: a job reports how many tries it took. The count
 * comes from the schedule (its recurrences so far). A file system error is
 * never retried and passes as it is.
 */
export const retryCounting = (settings: RetrySettings, retryable: (error: JobError) => boolean) =>
<A, R>(
  call: Effect.Effect<A, JobError | PlatformError, R>
): Effect.Effect<Counted<A>, GaveUp | PlatformError, R> =>
  call.pipe(
    Effect.zipWith(Schedule.CurrentIterationMetadata, (value, { recurrence }) => ({ value, failedTries: recurrence })),
    Effect.retryOrElse(
      retrySchedule(settings, (error: JobError | PlatformError) => !isPlatformError(error) && retryable(error)),
      (error): Effect.Effect<never, GaveUp | PlatformError> =>
        isPlatformError(error)
          ? Effect.fail(error)
          : Effect.flatMap(
            Schedule.CurrentIterationMetadata,
            ({ recurrence }) => Effect.fail(new GaveUp({ error, failedTries: recurrence + (retryable(error) ? 1 : 0) }))
          )
    )
  )
