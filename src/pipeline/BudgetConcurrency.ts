import { Duration } from "effect"

/** A job takes at least this many API calls (submit, a status that says COMPLETED, a result). */
const CALLS_PER_JOB = 3

/** Slack over the bare need: generations vary, and a job in flight is waiting on the budget part of its time. */
const HEADROOM = 1.2

/** More jobs in flight than this only hold open requests (and memory) for no gain. */
export const CONCURRENCY_CAP = 64

/** Jobs the budget admits a minute: each takes at least `CALLS_PER_JOB` calls. */
export const jobsPerMinute = (rpm: number): number => rpm / CALLS_PER_JOB

/**
 * Jobs in flight that keep the budget busy: as many as it admits a minute
 * times the minutes a generation takes (Little's law), with headroom, within
 * 1 and the cap. ~100 s jobs at 45 rpm need 30.
 */
export const budgetConcurrency = (rpm: number, expected: Duration.Duration): number =>
  Math.min(
    CONCURRENCY_CAP,
    Math.max(1, Math.ceil(jobsPerMinute(rpm) * (Duration.toMillis(expected) / 60_000) * HEADROOM))
  )
