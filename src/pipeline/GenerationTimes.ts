import { Context, Duration, Effect, Layer, Ref } from "effect"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import { tailMean } from "./NormalDistribution.js"
import type { GenerationEstimate, PollSettings } from "./PollSchedule.js"

/** Jobs alike in what drives generation time. */
export const classOf = (params: SeedanceParams) =>
  `${params.duration}s/${params.resolution}/${params.generate_audio ? "audio" : "mute"}`

interface Samples {
  /** the latest measured times, for fits that weigh in the jobs still running */
  readonly values: ReadonlyArray<number>
  readonly count: number
  readonly mean: number
  /** sum of squared deviations (Welford) */
  readonly m2: number
}

const noSamples: Samples = { values: [], count: 0, mean: 0, m2: 0 }

/** A fit weighs at most this many of a class's latest times: the server's pace drifts over a long run. */
const KEPT_VALUES = 200

const add = (samples: Samples, value: number): Samples => {
  const count = samples.count + 1
  const delta = value - samples.mean
  const mean = samples.mean + delta / count
  return {
    values: [...samples.values, value].slice(-KEPT_VALUES),
    count,
    mean,
    m2: samples.m2 + delta * (value - mean)
  }
}

/** Never trust a spread tighter than this fraction of the mean: a handful of samples understates it. */
const MIN_RELATIVE_SD = 0.05

/** Rounds of expectation-maximisation: the fit moves by well under a millisecond after these. */
const FIT_ROUNDS = 30

/**
 * A normal fitted by maximum likelihood to measured times and to jobs still
 * running (right-censored: each only says "longer than this"), by
 * expectation-maximisation: each running job counts as its expected time
 * given that it is past its mark. `start` counts as `startWeight` samples,
 * so a class with few (or no) measured times leans on what the run expects.
 */
export const fitCensored = (
  measured: ReadonlyArray<number>,
  runningFor: ReadonlyArray<number>,
  start: GenerationEstimate,
  startWeight: number
): GenerationEstimate => {
  const n = measured.length + runningFor.length + startWeight
  if (n === 0) return start
  const sum = measured.reduce((total, x) => total + x, 0)
  const sumSquares = measured.reduce((total, x) => total + x * x, 0)
  let { meanMs, sdMs } = start
  for (let round = 0; round < FIT_ROUNDS; round++) {
    let s1 = sum + startWeight * start.meanMs
    let s2 = sumSquares + startWeight * (start.meanMs ** 2 + start.sdMs ** 2)
    for (const mark of runningFor) {
      const lambda = tailMean((mark - meanMs) / sdMs)
      s1 += meanMs + sdMs * lambda
      s2 += meanMs ** 2 + sdMs ** 2 + sdMs * (mark + meanMs) * lambda
    }
    const nextMean = s1 / n
    const nextSd = Math.sqrt(Math.max(0, s2 / n - nextMean ** 2))
    meanMs = nextMean
    sdMs = Math.max(nextSd, nextMean * MIN_RELATIVE_SD)
  }
  return { meanMs, sdMs }
}

/** Below this many samples of its own, a class borrows from the prior, corrected by what the run measured overall. */
const OWN_SAMPLES = 3

/**
 * What the run learns of generation times: from the prior per model,
 * duration and resolution at first, then from the API's `inference_time`
 * (plus `queue_time`) of each completed job. Jobs of a class with few
 * samples take the prior times the run's measured/prior ratio, so one
 * measured class corrects the others.
 */
export class GenerationTimes extends Context.Tag("shotlist/GenerationTimes")<
  GenerationTimes,
  {
    readonly estimate: (params: SeedanceParams) => Effect.Effect<GenerationEstimate>
    readonly record: (params: SeedanceParams, tookMs: number) => Effect.Effect<void>
    /** the estimate refitted with jobs of the class still running after `runningForMs` each (censored samples) */
    readonly fitted: (
      params: SeedanceParams,
      runningForMs: ReadonlyArray<number>
    ) => Effect.Effect<GenerationEstimate>
    /** how many completed jobs the run has measured, of every class */
    readonly measured: Effect.Effect<number>
  }
>() {
  static readonly make = (settings: PollSettings) =>
    Effect.gen(function*() {
      const state = yield* Ref.make({ byClass: new Map<string, Samples>(), ratio: noSamples })
      const priorMs = (params: SeedanceParams) => Duration.toMillis(settings.prior(params))

      const estimate = (params: SeedanceParams) =>
        Effect.map(Ref.get(state), ({ byClass, ratio }): GenerationEstimate => {
          const own = byClass.get(classOf(params)) ?? noSamples
          if (own.count >= OWN_SAMPLES) {
            const sd = Math.sqrt(own.m2 / (own.count - 1))
            return { meanMs: own.mean, sdMs: Math.max(sd, own.mean * MIN_RELATIVE_SD) }
          }
          const meanMs = priorMs(params) * (ratio.count > 0 ? ratio.mean : 1)
          const relativeSd = ratio.count >= OWN_SAMPLES
            ? Math.sqrt(ratio.m2 / (ratio.count - 1)) / ratio.mean
            : settings.priorSpread
          return { meanMs, sdMs: meanMs * Math.max(relativeSd, MIN_RELATIVE_SD) }
        })

      // A class with its own samples is fitted to them; else the borrowed estimate counts as two samples.
      const fitted = (params: SeedanceParams, runningForMs: ReadonlyArray<number>) =>
        Effect.zipWith(estimate(params), Ref.get(state), (start, { byClass }) => {
          const own = byClass.get(classOf(params)) ?? noSamples
          return own.count >= OWN_SAMPLES
            ? fitCensored(own.values, runningForMs, start, 0)
            : fitCensored([], runningForMs, start, 2)
        })

      const measured = Effect.map(Ref.get(state), ({ ratio }) => ratio.count)

      const record = (params: SeedanceParams, tookMs: number) =>
        Ref.update(state, ({ byClass, ratio }) => {
          const key = classOf(params)
          const next = new Map(byClass).set(key, add(byClass.get(key) ?? noSamples, tookMs))
          return { byClass: next, ratio: add(ratio, tookMs / priorMs(params)) }
        })

      return GenerationTimes.of({ estimate, record, fitted, measured })
    })

  /** One learner per run: what a job measures drives when the others are polled. */
  static readonly layer = (settings: PollSettings) => Layer.effect(GenerationTimes, GenerationTimes.make(settings))
}
