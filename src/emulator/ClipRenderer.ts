import { Command, FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Cache, Data, Duration, Effect, Exit } from "effect"
import { FRAMES_PER_SECOND } from "../domain/SeedanceParams.js"
import { temporaryPathFor } from "../store/AtomicFile.js"
import { sha256Hex } from "../store/FileDigest.js"

export interface Clip {
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

export interface ClipSpec {
  readonly width: number
  readonly height: number
  readonly durationSeconds: number
  readonly audio: boolean
}

/** ffmpeg exited with an error while rendering `clip`. */
export class ClipRenderFailed extends Data.TaggedError("ClipRenderFailed")<{
  readonly clip: string
  readonly exitCode: number
}> {
  override get message() {
    return `ffmpeg exited with ${this.exitCode}`
  }
}

const ffmpegArgs = (spec: ClipSpec, output: string): ReadonlyArray<string> => [
  "-hide_banner",
  "-loglevel",
  "error",
  "-y",
  "-f",
  "lavfi",
  "-i",
  `testsrc2=size=${spec.width}x${spec.height}:rate=${FRAMES_PER_SECOND}:duration=${spec.durationSeconds}`,
  ...(spec.audio ? ["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=44100:duration=${spec.durationSeconds}`] : []),
  "-c:v",
  "libx264",
  "-preset",
  "ultrafast",
  "-pix_fmt",
  "yuv420p",
  ...(spec.audio ? ["-c:a", "aac", "-shortest"] : []),
  "-movflags",
  "+faststart",
  "-f",
  "mp4",
  output
]

/** Distinct clips (or padded files) kept in memory: a clip evicted is found again on disk. */
export const CACHED_FILES = 1024

/** A cache entry's life: a file made is kept, a failure is forgotten so the next request tries again. */
export const keepSuccesses = (exit: Exit.Exit<unknown, unknown>): Duration.Duration =>
  Exit.isSuccess(exit) ? Duration.infinity : Duration.zero

const clipName = (spec: ClipSpec) =>
  `${spec.width}x${spec.height}-${spec.durationSeconds}s-${spec.audio ? "audio" : "silent"}.mp4`

/**
 * Real, playable MP4 files rendered by ffmpeg, cached per (size, duration,
 * audio) on disk and in memory; concurrent requests for one clip render once.
 */
export const makeClipRenderer = (cacheDir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(cacheDir, { recursive: true })

    const describe = (file: string) =>
      Effect.map(fs.readFile(file), (bytes): Clip => ({ path: file, bytes: bytes.length, sha256: sha256Hex(bytes) }))

    const renderTo = (spec: ClipSpec, temporary: string, target: string) =>
      Effect.gen(function*() {
        const exitCode = yield* Command.exitCode(Command.make(ffmpegInstaller.path, ...ffmpegArgs(spec, temporary)))
        if (exitCode !== 0) return yield* new ClipRenderFailed({ clip: target, exitCode })
        yield* fs.rename(temporary, target)
      }).pipe(Effect.tapError(() => Effect.ignore(fs.remove(temporary))))

    const render = Effect.fn("ClipRenderer.render")(function*(spec: ClipSpec) {
      const target = path.join(cacheDir, clipName(spec))
      if (!(yield* fs.exists(target))) yield* renderTo(spec, temporaryPathFor(path, target), target)
      return yield* describe(target)
    })

    const clips = yield* Cache.makeWith({ capacity: CACHED_FILES, lookup: render, timeToLive: keepSuccesses })
    return (spec: ClipSpec): Effect.Effect<Clip, ClipRenderFailed | PlatformError> =>
      clips.get(
        Data.struct({
          width: spec.width,
          height: spec.height,
          durationSeconds: spec.durationSeconds,
          audio: spec.audio
        })
      )
  })
