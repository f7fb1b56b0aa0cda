import { Duration } from "effect"
import { type EmulatorConfig, generationTime, type GenerationTimeModel } from "./EmulatorConfig.js"
import { makePrng } from "./Prng.js"

/** The floor of a normal draw, as a fraction of the mean: no generation is (nearly) instant. */
export const NORMAL_FLOOR = 0.1

/** Draws normal variates in whole ms from a seeded PRNG (Box-Muller), clamped at `NORMAL_FLOOR` of the mean. */
export const normalDraws = (model: Extract<GenerationTimeModel, { kind: "normal" }>): () => number => {
  const uniform = makePrng(model.seed)
  return () => {
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u1 = 1 - uniform()
    const u2 = uniform()
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
    return Math.round(Math.max(NORMAL_FLOOR * model.meanMs, model.meanMs + model.sdMs * z))
  }
}

/** A generation time per submission, in submission order: stateful for the normal model. */
export const makeGenerationTimer = (
  config: EmulatorConfig
): (duration: number, resolution: string) => Duration.Duration => {
  const model = config.generationTimeModel
  if (model === undefined) return (duration, resolution) => generationTime(config, duration, resolution)
  if (model.kind === "fixed") return () => Duration.millis(Math.max(0, model.ms))
  const draw = normalDraws(model)
  return () => Duration.millis(draw())
}
