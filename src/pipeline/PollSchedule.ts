import { Clock, Duration, Effect, Schedule } from "effect"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import { MODEL_CATALOG } from "../segmind/ModelCatalog.js"
import type { StatusAnswer } from "../segmind/SegmindClient.js"

export interface PollSettings {
  /**
   * Expected time from submission to COMPLETED before the run has measured
   * any job: the model's prior for a job's duration and resolution.
   */
  readonly prior: (params: SeedanceParams) => Duration.Duration
  /** spread of the prior, as a fraction of it */
  readonly priorSpread: number
  /**
   * Status calls spread over the window where the job likely ends (the
   * expected time ± 2 standard deviations): the narrower what the run knows,
   * the closer they come, and the sooner an end is seen, at the same cost.
   */
  readonly pollsInWindow: number
  /** never closer than this */
  readonly floor: Duration.Duration
  /** never further apart than this, even for a job that runs long */
  readonly cap: Duration.Duration
  /** a job not ended by then is recorded as timed out, with its request id */
  readonly deadline: Duration.Duration
  /**
   * "auto" (default): the run's first poll probes the result URL, polled
   * instead of the status URL while it answers "not yet"; "status": the
   * status URL only, as documented
   */
  readonly pollVia?: "auto" | "status"
}

/** What the run expects of a job's duration from submission to COMPLETED. */
export interface GenerationEstimate {
  readonly meanMs: number
  readonly sdMs: number
}

/**
 * Seedance 1.5 Pro on Segmind: ~100 s per generation (ModelCatalog), scaled
 * by the clip's length against the 5 s the figure is quoted for. A prior only:
 * the run's own `inference_time` figures replace it as jobs complete.
 */
export const segmindPrior = (params: SeedanceParams): Duration.Duration => {
  const typical = MODEL_CATALOG["seedance-1.5-pro"]?.typicalLatencySeconds ?? 100
  return Duration.seconds(typical * Math.max(0.6, params.duration / 5))
}

export const DEFAULT_POLL: PollSettings = {
  prior: segmindPrior,
  priorSpread: 0.25,
  pollsInWindow: 5,
  floor: Duration.millis(250),
  cap: Duration.seconds(15),
  deadline: Duration.minutes(15)
}

/** Half-width of the window of dense polls, in standard deviations: 95% of jobs end inside it. */
const WINDOW_Z = 2

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value))

/** Gap between polls in the window of likely ends. */
const denseGapMs = (estimate: GenerationEstimate, settings: PollSettings) =>
  clamp(
    (2 * WINDOW_Z * estimate.sdMs) / settings.pollsInWindow,
    Duration.toMillis(settings.floor),
    Duration.toMillis(settings.cap)
  )

/**
 * When the first status call goes out: where the window of likely ends
 * opens, never before the floor, and never later than the cap, so a prior far
 * too long (a faster server) costs one early look, not a long wait.
 */
export const firstPollDelay = (estimate: GenerationEstimate, settings: PollSettings): Duration.Duration =>
  Duration.millis(
    clamp(
      estimate.meanMs - WINDOW_Z * estimate.sdMs,
      Duration.toMillis(settings.floor),
      Duration.toMillis(settings.cap)
    )
  )

/**
 * The wait before the next status call, `elapsedMs` after submission: up to
 * the window of likely ends, then dense polls through it, then a back-off
 * that grows with the overrun (a job running long is not hammered). A job
 * still QUEUED past the window's start has not begun: it is polled sparsely.
 */
export const nextPollDelay = (
  estimate: GenerationEstimate,
  settings: PollSettings,
  elapsedMs: number,
  status: StatusAnswer["status"]
): Duration.Duration => {
  const gap = denseGapMs(estimate, settings)
  const cap = Duration.toMillis(settings.cap)
  const windowStart = estimate.meanMs - WINDOW_Z * estimate.sdMs
  const windowEnd = estimate.meanMs + WINDOW_Z * estimate.sdMs
  if (status === "QUEUED" && elapsedMs >= windowStart) return Duration.millis(clamp(estimate.meanMs * 0.25, gap, cap))
  if (elapsedMs < windowStart) {
    // Towards the window in steps of at most the cap; a last step shorter than half the cap is folded into this one.
    const left = windowStart - elapsedMs
    return Duration.millis(left <= cap * 1.5 ? Math.max(left, gap) : cap)
  }
  if (elapsedMs <= windowEnd) return Duration.millis(gap)
  return Duration.millis(clamp(gap + (elapsedMs - windowEnd) * 0.5, gap, cap))
}

/**
 * Status polls of one job as an Effect `Schedule`: fed each answer, it waits
 * as `nextPollDelay` says, measured from the submission, and stops at COMPLETED
 * (FAILED ends the poll as an error before the schedule sees it). The
 * estimate is read again before each wait, so a job in flight profits from
 * every job that completes meanwhile.
 */
export const pollSchedule = (
  estimate: Effect.Effect<GenerationEstimate>,
  settings: PollSettings,
  submittedAtMs: number
) =>
  Schedule.identity<StatusAnswer>().pipe(
    Schedule.whileInput((answer: StatusAnswer) => answer.status !== "COMPLETED"),
    Schedule.addDelayEffect((answer) =>
      Effect.zipWith(estimate, Clock.currentTimeMillis, (current, now) =>
        nextPollDelay(current, settings, now - submittedAtMs, answer.status))
    )
  )
