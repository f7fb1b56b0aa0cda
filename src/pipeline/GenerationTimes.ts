import { Context, Duration, Effect, Layer, Ref } from "effect"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import type { GenerationEstimate, PollSettings } from "./PollSchedule.js"

/** Jobs alike in what drives generation time. */
const classOf = (params: SeedanceParams) =>
  `${params.duration}s/${params.resolution}/${params.generate_audio ? "audio" : "mute"}`

interface Samples {
  readonly count: number
  readonly mean: number
  /** sum of squared deviations (Welford) */
  readonly m2: number
}

const noSamples: Samples = { count: 0, mean: 0, m2: 0 }

const add = (samples: Samples, value: number): Samples => {
  const count = samples.count + 1
  const delta = value - samples.mean
  const mean = samples.mean + delta / count
  return { count, mean, m2: samples.m2 + delta * (value - mean) }
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
            // Never trust a spread tighter than 5% of the mean: a handful of samples understates it.
            return { meanMs: own.mean, sdMs: Math.max(sd, own.mean * 0.05) }
          }
          const meanMs = priorMs(params) * (ratio.count > 0 ? ratio.mean : 1)
          const relativeSd = ratio.count >= OWN_SAMPLES
            ? Math.sqrt(ratio.m2 / (ratio.count - 1)) / ratio.mean
            : settings.priorSpread
          return { meanMs, sdMs: meanMs * Math.max(relativeSd, 0.05) }
        })

      const record = (params: SeedanceParams, tookMs: number) =>
        Ref.update(state, ({ byClass, ratio }) => {
          const key = classOf(params)
          const next = new Map(byClass).set(key, add(byClass.get(key) ?? noSamples, tookMs))
          return { byClass: next, ratio: add(ratio, tookMs / priorMs(params)) }
        })

      return GenerationTimes.of({ estimate, record })
    })

  /** One learner per run: what a job measures drives when the others are polled. */
  static readonly layer = (settings: PollSettings) => Layer.effect(GenerationTimes, GenerationTimes.make(settings))
}
