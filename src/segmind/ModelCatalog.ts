import { SEEDANCE_MODEL, type SeedanceParams } from "../domain/SeedanceParams.js"

/** What one generation of a model costs and how long it usually takes, for estimates only. */
export interface ModelInfo {
  readonly usdPerGeneration: number
  readonly typicalLatencySeconds: number
}

/**
 * Source: Segmind model page for Seedance 1.5 Pro,
 * https://www.segmind.com/models/seedance-1.5-pro, read 2026-11-25: about $0.41
 * and ~94–100 s per generation (also in segmind-v2-api.md).
 * Assumption: a flat per-generation price. Segmind does not publish how the
 * price varies with duration/resolution/audio, so a 12 s 1080p clip is
 * estimated like a 5 s 720p one; the run's report holds the billed `cost`.
 */
export const MODEL_CATALOG: Readonly<Record<string, ModelInfo>> = {
  [SEEDANCE_MODEL]: { usdPerGeneration: 0.41, typicalLatencySeconds: 100 }
}

const FALLBACK: ModelInfo = { usdPerGeneration: 0.41, typicalLatencySeconds: 100 }

export interface RunEstimate {
  readonly jobs: number
  readonly costUsd: number
  readonly wallSeconds: number
  /** false when the model is not in the catalogue and Seedance 1.5 Pro's figures stood in */
  readonly known: boolean
}

/**
 * Cost and wall time of rendering `jobs` with `model`: every job is billed,
 * and jobs run in waves of `concurrency`, each lasting the typical latency.
 * Takes the jobs' request bodies (a `Job` fits) so segmind stays free of manifests.
 */
export const estimateRun = (
  jobs: ReadonlyArray<{ readonly params: SeedanceParams }>,
  model: string,
  concurrency: number
): RunEstimate => {
  const entry = MODEL_CATALOG[model]
  const info = entry ?? FALLBACK
  const waves = Math.ceil(jobs.length / Math.max(1, Math.floor(concurrency)))
  return {
    jobs: jobs.length,
    // Rounded to micro-dollars so 12 × 0.41 reads 4.92, not 4.919999….
    costUsd: Math.round(jobs.length * info.usdPerGeneration * 1e6) / 1e6,
    wallSeconds: waves * info.typicalLatencySeconds,
    known: entry !== undefined
  }
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" })

/** `4.92` -> `$4.92`, `1234.5` -> `$1,234.50`. */
export const formatUsd = (n: number): string => usd.format(n)
