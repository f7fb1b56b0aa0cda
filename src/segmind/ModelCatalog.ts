import { FRAMES_PER_SECOND, pixelSize, SEEDANCE_MODEL, type SeedanceParams } from "../domain/SeedanceParams.js"

/** The request fields a generation's price depends on. */
export type PricedParams = Pick<SeedanceParams, "duration" | "resolution" | "aspect_ratio" | "generate_audio">

/** What one generation of a model costs and how long it usually takes, for estimates only. */
export interface ModelInfo {
  readonly priceUsd: (params: PricedParams) => number
  readonly typicalLatencySeconds: number
  /** where the price comes from, as the plan says it */
  readonly priceBasis: string
}

/** Upstream (BytePlus) tokens of one Seedance generation: width × height × frames / 1024, at 24 fps plus one frame. */
export const seedanceTokens = (params: PricedParams): number => {
  const [width, height] = pixelSize(params.resolution, params.aspect_ratio)
  return (width * height * (FRAMES_PER_SECOND * params.duration + 1)) / 1024
}

const upstreamUsd = (params: PricedParams): number =>
  (seedanceTokens(params) * (params.generate_audio ? 2.4 : 1.2)) / 1_000_000

/** The one generation Segmind quotes a price for: 5 s, 720p, 16:9, with audio. */
const LIST_PRICED: PricedParams = { duration: 5, resolution: "720p", aspect_ratio: "16:9", generate_audio: true }
const SEGMIND_LIST_USD = 0.41

/**
 * Source: segmind-v2-api.md (Segmind's model page for Seedance 1.5 Pro and the
 * upstream BytePlus price), read 2026-11-26: Segmind lists about $0.41 and
 * ~94–100 s per generation without saying how the price varies; BytePlus bills
 * tokens = width × height × frames / 1024 at $2.4 per million with audio, $1.2
 * without ($0.26 for 5 s 720p with audio).
 * Assumption: Segmind bills the upstream token price times one markup, the one
 * that makes 5 s 720p 16:9 with audio come to its $0.41 (about ×1.57). The
 * report's `cost`, the API's own figure, corrects it where a run has one.
 */
const SEGMIND_MARKUP = SEGMIND_LIST_USD / upstreamUsd(LIST_PRICED)

const SEEDANCE: ModelInfo = {
  priceUsd: (params) => upstreamUsd(params) * SEGMIND_MARKUP,
  typicalLatencySeconds: 100,
  priceBasis: `BytePlus's token price scaled to Segmind's $${SEGMIND_LIST_USD} for 5 s 720p with audio`
}

export const MODEL_CATALOG: Readonly<Record<string, ModelInfo>> = { [SEEDANCE_MODEL]: SEEDANCE }

const FALLBACK = SEEDANCE

/** A class of jobs the API is taken to bill alike: duration, resolution, audio. */
export const costClassOf = (params: PricedParams): string =>
  `${params.duration}s ${params.resolution} ${params.generate_audio ? "audio" : "silent"}`

/** The API's own `cost` figures, averaged per class of job. */
export type ObservedCosts = ReadonlyMap<string, number>

export const noObservedCosts: ObservedCosts = new Map()

/** Averages the `cost` the API reported per class; jobs without one are passed over. */
export const observedCosts = (
  jobs: ReadonlyArray<{ readonly params: PricedParams; readonly cost?: number | undefined }>
): ObservedCosts => {
  const sums = new Map<string, { readonly total: number; readonly count: number }>()
  for (const job of jobs) {
    if (job.cost === undefined) continue
    const key = costClassOf(job.params)
    const sum = sums.get(key) ?? { total: 0, count: 0 }
    sums.set(key, { total: sum.total + job.cost, count: sum.count + 1 })
  }
  return new Map([...sums].map(([key, { count, total }]) => [key, total / count]))
}

/** One job's price: what the API billed for its class in this run, else the model's pricing rule. */
export const estimateJobCost = (
  params: PricedParams,
  model: string,
  observed: ObservedCosts = noObservedCosts
): number => observed.get(costClassOf(params)) ?? (MODEL_CATALOG[model] ?? FALLBACK).priceUsd(params)

/** Rounded to micro-dollars so 12 × 0.41 reads 4.92, not 4.919999…. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6

/** What rendering `jobs` costs, each at its own price. */
export const estimateCost = (
  jobs: ReadonlyArray<{ readonly params: PricedParams }>,
  model: string,
  observed: ObservedCosts = noObservedCosts
): number => roundUsd(jobs.reduce((sum, job) => sum + estimateJobCost(job.params, model, observed), 0))

/** The fewest API calls a job takes: submit, one status that says COMPLETED, one result. */
export const API_CALLS_PER_JOB = 3

export interface RunEstimate {
  readonly jobs: number
  readonly costUsd: number
  readonly wallSeconds: number
  /** what bounds the wall time: the waves of `concurrency`, or the request budget `rpm` */
  readonly limitedBy: "concurrency" | "rpm"
  /** false when the model is not in the catalogue and Seedance 1.5 Pro's figures stood in */
  readonly known: boolean
}

export interface RunShape {
  readonly model: string
  readonly concurrency: number
  /** API calls per minute for the whole run */
  readonly rpm: number
  readonly observed?: ObservedCosts
}

/**
 * Cost and wall time of rendering `jobs`: every job is billed at its own
 * price; jobs run in waves of `concurrency`, each lasting the typical latency,
 * but no faster than the request budget admits (`rpm` / 3 jobs a minute).
 * Takes the jobs' request bodies (a `Job` fits) so segmind stays free of manifests.
 */
export const estimateRun = (
  jobs: ReadonlyArray<{ readonly params: PricedParams }>,
  shape: RunShape
): RunEstimate => {
  const entry = MODEL_CATALOG[shape.model]
  const info = entry ?? FALLBACK
  const waves = Math.ceil(jobs.length / Math.max(1, Math.floor(shape.concurrency)))
  const byWaves = waves * info.typicalLatencySeconds
  const byBudget = Math.ceil((jobs.length * API_CALLS_PER_JOB * 60) / Math.max(1, shape.rpm))
  return {
    jobs: jobs.length,
    costUsd: estimateCost(jobs, shape.model, shape.observed),
    wallSeconds: Math.max(byWaves, byBudget),
    limitedBy: byBudget > byWaves ? "rpm" : "concurrency",
    known: entry !== undefined
  }
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" })

/** `4.92` -> `$4.92`, `1234.5` -> `$1,234.50`. */
export const formatUsd = (n: number): string => usd.format(n)
