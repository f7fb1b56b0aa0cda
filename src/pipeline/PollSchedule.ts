import { Duration } from "effect"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import { MODEL_CATALOG } from "../segmind/ModelCatalog.js"

export interface PollSettings {
  /**
   * Expected time from submission to COMPLETED before the run has measured
   * any job: the model's prior for a job's duration and resolution.
   */
  readonly prior: (params: SeedanceParams) => Duration.Duration
  /** spread of the prior, as a fraction of it */
  readonly priorSpread: number
  /**
   * With room in the budget, the widest gap between polls of a job in its
   * window of likely ends: an end is then seen within it (p95 ≈ 0.95 × it).
   */
  readonly latencyGap: Duration.Duration
  /** the span the budget counts its calls a minute over (a time-scaled run scales it): turns spare slots into a rate */
  readonly budgetWindow: Duration.Duration
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
  // 3 s of detection p95, less the client's own lag between a poll's turn and its answer.
  latencyGap: Duration.millis(2750),
  budgetWindow: Duration.minutes(1),
  floor: Duration.millis(250),
  cap: Duration.seconds(15),
  deadline: Duration.minutes(15)
}
