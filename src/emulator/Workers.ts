import { FileSystem, type HttpClient, Path } from "@effect/platform"
import { Clock, Effect, Either, Fiber, Option, Queue, Schema } from "effect"
import { adaptivePixelSize } from "../domain/AdaptiveAspect.js"
import { FrameUrl, pixelSize, type SeedanceParams } from "../domain/SeedanceParams.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { type Clip, type ClipSpec, makeClipRenderer, stampOf } from "./ClipRenderer.js"
import type { EmulatorConfig } from "./EmulatorConfig.js"
import { type EmulatorStore, type Generation, GenerationEnd } from "./EmulatorState.js"
import type { Dice } from "./Faults.js"
import { type FrameField, type JobFrame, makeFrameReader } from "./JobFrames.js"
import { makeClipPadder } from "./SyntheticVideo.js"

const isHttpUrl = Schema.is(FrameUrl)

/** The video a generation serves: its own clip, padded to `syntheticVideoBytes` when the config asks. */
const makeVideoSource = (config: EmulatorConfig) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const render = yield* makeClipRenderer(config.clipCacheDir).pipe(Effect.orDie)
    const pad = yield* makeClipPadder(config.clipCacheDir).pipe(Effect.orDie)
    const padded = config.syntheticVideoBytes

    /** ffmpeg reads the opening frame from a file: one per content, beside the clips. */
    const frameFile = (frame: JobFrame) =>
      Effect.gen(function*() {
        const file = path.join(config.clipCacheDir, `frame-${frame.sha256}.${frame.image.format}`)
        if (!(yield* fs.exists(file))) yield* writeFileAtomic(file, frame.bytes)
        return { path: file, sha256: frame.sha256 }
      }).pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))

    return (params: SeedanceParams, firstFrame: Option.Option<JobFrame>) =>
      Effect.gen(function*() {
        // An adaptive job's shape follows its first frame (16:9 when the emulator could not read it).
        const [width, height] = params.aspect_ratio === "adaptive" && Option.isSome(firstFrame)
          ? adaptivePixelSize(params.resolution, firstFrame.value.image)
          : pixelSize(params.resolution, params.aspect_ratio)
        const shape = { width, height, durationSeconds: params.duration, audio: params.generate_audio }
        const spec: ClipSpec = config.sharedClips === true ? shape : {
          ...shape,
          stamp: stampOf(params.seed, params.prompt),
          ...(Option.isSome(firstFrame) ? { opening: yield* frameFile(firstFrame.value) } : {})
        }
        const clip = yield* render(spec)
        return padded === undefined ? clip : yield* pad(clip, padded)
      })
  })

/** Why a request is refused before its frames are read: a frame that is no URL, or moderation. */
const refusalOf = (params: SeedanceParams): string | undefined => {
  const frames = [params.first_frame_url, params.last_frame_url].filter((u): u is string => u !== undefined)
  return frames.some((url) => !isHttpUrl(url))
    ? "URL must be a valid HTTP or HTTPS URL"
    : /forbidden/i.test(params.prompt)
    ? "The request was blocked by content moderation"
    : undefined
}

/**
 * A pool of `config.workers` fibers taking queued generations in order: each
 * reads its frames (a frame outside the API's limits fails it), renders its
 * clip while it "generates" for its drawn time, then ends it. Answers the
 * operation that queues a generation.
 */
export const startWorkers = (
  config: EmulatorConfig,
  store: EmulatorStore,
  dice: Dice,
  frames: { readonly baseUrl: string; readonly client: HttpClient.HttpClient }
) =>
  Effect.gen(function*() {
    const videoFor = yield* makeVideoSource(config)
    const readFrame = makeFrameReader(frames.baseUrl, store, frames.client)
    const queue = yield* Queue.unbounded<Generation>()

    const frameOf = (params: SeedanceParams, field: FrameField) => {
      const url = params[field]
      return url === undefined ? Effect.succeedNone : readFrame(field, url)
    }

    /** The job's clip, or why the API would fail it. */
    const video = (params: SeedanceParams): Effect.Effect<Clip, { readonly message: string }> =>
      Effect.gen(function*() {
        const refusal = refusalOf(params)
        if (refusal !== undefined) return yield* Effect.fail({ message: refusal })
        const [first] = yield* Effect.all([frameOf(params, "first_frame_url"), frameOf(params, "last_frame_url")])
        return yield* videoFor(params, first).pipe(
          Effect.mapError((error) => ({ message: `generation failed: ${error.message}` }))
        )
      })

    const endOf = (clip: Either.Either<Clip, { readonly message: string }>): Effect.Effect<GenerationEnd> =>
      Effect.gen(function*() {
        if (Either.isLeft(clip)) return GenerationEnd.Failed({ error: clip.left.message })
        if ((yield* dice) < config.faults.failRate) {
          return GenerationEnd.Failed({ error: "Internal generation error (injected)" })
        }
        return GenerationEnd.Completed({ clip: clip.right })
      })

    const generate = Effect.fn("Emulator.generate")(function*(generation: Generation) {
      yield* store.start(generation.id, yield* Clock.currentTimeMillis)
      const rendering = yield* Effect.fork(video(generation.params))
      yield* Effect.sleep(generation.generationTime)
      const clip = yield* Effect.either(Fiber.join(rendering))
      const endedAt = yield* Clock.currentTimeMillis
      yield* store.end(generation.id, endedAt, yield* endOf(clip))
    })

    const worker = Effect.forever(Effect.flatMap(Queue.take(queue), generate))
    yield* Effect.replicateEffect(Effect.forkScoped(worker), Math.max(1, config.workers))
    return (generation: Generation) => Queue.offer(queue, generation)
  })
