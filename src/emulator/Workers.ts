import { Clock, Effect, Either, Fiber, Queue, Schema } from "effect"
import { FrameUrl, pixelSize, type SeedanceParams } from "../domain/SeedanceParams.js"
import { type Clip, makeClipRenderer } from "./ClipRenderer.js"
import type { EmulatorConfig } from "./EmulatorConfig.js"
import { type EmulatorStore, type Generation, GenerationEnd } from "./EmulatorState.js"
import type { Dice } from "./Faults.js"
import { makeClipPadder } from "./SyntheticVideo.js"

const isHttpUrl = Schema.is(FrameUrl)

/** The video a generation serves: the rendered clip, padded to `syntheticVideoBytes` when the config asks. */
const makeVideoSource = (config: EmulatorConfig) =>
  Effect.gen(function*() {
    const render = yield* makeClipRenderer(config.clipCacheDir).pipe(Effect.orDie)
    const pad = yield* makeClipPadder(config.clipCacheDir).pipe(Effect.orDie)
    const padded = config.syntheticVideoBytes
    return (params: SeedanceParams) => {
      const [width, height] = pixelSize(params.resolution, params.aspect_ratio)
      const clip = render({ width, height, durationSeconds: params.duration, audio: params.generate_audio })
      return padded === undefined ? clip : Effect.flatMap(clip, (c) => pad(c, padded))
    }
  })

/** Why a request is refused once generated, as the real API fails it: a frame that is no URL, or moderation. */
const refusalOf = (params: SeedanceParams): string | undefined => {
  const frames = [params.first_frame_url, params.last_frame_url].filter((u): u is string => u !== undefined)
  return frames.some((url) => !isHttpUrl(url))
    ? "URL must be a valid HTTP or HTTPS URL"
    : /forbidden/i.test(params.prompt)
    ? "The request was blocked by content moderation"
    : undefined
}

const endOf = (
  params: SeedanceParams,
  clip: Either.Either<Clip, { readonly message: string }>,
  failRate: number,
  dice: Dice
): Effect.Effect<GenerationEnd> =>
  Effect.gen(function*() {
    const refusal = refusalOf(params)
    if (refusal !== undefined) return GenerationEnd.Failed({ error: refusal })
    if (Either.isLeft(clip)) return GenerationEnd.Failed({ error: `generation failed: ${clip.left.message}` })
    if ((yield* dice) < failRate) return GenerationEnd.Failed({ error: "Internal generation error (injected)" })
    return GenerationEnd.Completed({ clip: clip.right })
  })

/**
 * A pool of `config.workers` fibers taking queued generations in order: each
 * renders its clip while it "generates" for its drawn time, then ends it.
 * Answers the operation that queues a generation.
 */
export const startWorkers = (config: EmulatorConfig, store: EmulatorStore, dice: Dice) =>
  Effect.gen(function*() {
    const videoFor = yield* makeVideoSource(config)
    const queue = yield* Queue.unbounded<Generation>()

    const generate = Effect.fn("Emulator.generate")(function*(generation: Generation) {
      yield* store.start(generation.id, yield* Clock.currentTimeMillis)
      const rendering = yield* Effect.fork(videoFor(generation.params))
      yield* Effect.sleep(generation.generationTime)
      const clip = yield* Effect.either(Fiber.join(rendering))
      const endedAt = yield* Clock.currentTimeMillis
      yield* store.end(generation.id, endedAt, yield* endOf(generation.params, clip, config.faults.failRate, dice))
    })

    const worker = Effect.forever(Effect.flatMap(Queue.take(queue), generate))
    yield* Effect.replicateEffect(Effect.forkScoped(worker), Math.max(1, config.workers))
    return (generation: Generation) => Queue.offer(queue, generation)
  })
