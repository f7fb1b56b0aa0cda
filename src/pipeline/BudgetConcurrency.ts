import { Duration } from "effect"

/** A job takes at least this many API calls (submit, a status that says COMPLETED, a result). */
export const CALLS_PER_JOB = 3

/** Slack over the bare need: generations vary, and a job in flight is waiting on the budget part of its time. */
const HEADROOM = 1.2

/** More jobs in flight than this only hold open requests (and memory) for no gain. */
export const CONCURRENCY_CAP = 64

/** Jobs the budget admits a minute: each takes at least `CALLS_PER_JOB` calls. */
export const jobsPerMinute = (rpm: number): number => rpm / CALLS_PER_JOB

/**
 * Jobs in flight that keep the budget busy: as many as it admits a minute
 * times the minutes a generation takes (Little's law), with headroom, within
 * 1 and the cap. ~100 s jobs on Pro's 50 rpm need 28, 34 with headroom.
 */
export const budgetConcurrency = (rpm: number, expected: Duration.Duration): number =>
  Math.min(
    CONCURRENCY_CAP,
    Math.max(1, Math.ceil(jobsPerMinute(rpm) * (Duration.toMillis(expected) / 60_000) * HEADROOM))
  )

/** What bounds a run's wall time: the calls its jobs need, or their generations wave after wave. */
export interface BudgetMakespan {
  readonly seconds: number
  readonly limitedBy: "rpm" | "concurrency"
}

/** A run's likely wall time: the longer of its calls at `rpm` and its waves of `concurrency` jobs of `expected` each. */
export const budgetMakespan = (
  jobs: number,
  concurrency: number,
  rpm: number,
  expected: Duration.Duration
): BudgetMakespan => {
  const byBudget = Math.ceil((jobs * CALLS_PER_JOB * 60) / Math.max(1, rpm))
  const byWaves = Math.ceil(jobs / Math.max(1, concurrency)) * Math.ceil(Duration.toSeconds(expected))
  return byBudget > byWaves ? { seconds: byBudget, limitedBy: "rpm" } : { seconds: byWaves, limitedBy: "concurrency" }
}
