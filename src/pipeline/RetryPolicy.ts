import type { PlatformError } from "@effect/platform/Error"
import { Duration, Schedule } from "effect"
import type { JobError } from "./FailureClass.js"

export interface RetrySettings {
  readonly base: Duration.Duration
  readonly cap: Duration.Duration
  /** total tries, the first included */
  readonly tries: number
}

export const DEFAULT_RETRY: RetrySettings = {
  base: Duration.seconds(1),
  cap: Duration.seconds(30),
  tries: 8
}

/**
 * Exponential backoff with full jitter (each wait drawn between 0 and the
 * capped exponential), bounded, and only while `retryable` says so.
 */
export const retrySchedule = <E extends JobError | PlatformError>(
  settings: RetrySettings,
  retryable: (error: E) => boolean
) =>
  Schedule.exponential(settings.base, 2).pipe(
    Schedule.union(Schedule.spaced(settings.cap)),
    Schedule.jitteredWith({ min: 0, max: 1 }),
    Schedule.intersect(Schedule.recurs(Math.max(0, settings.tries - 1))),
    Schedule.whileInput(retryable)
  )
