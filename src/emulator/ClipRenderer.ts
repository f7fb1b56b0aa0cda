import { Command, FileSystem } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import type { PlatformError } from "@effect/platform/Error"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Data, Deferred, Effect, Ref } from "effect"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { FRAMES_PER_SECOND } from "../domain/SeedanceParams.js"
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

export class ClipRenderFailed extends Data.TaggedError("ClipRenderFailed")<{ readonly message: string }> {}

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

/**
 * Real, playable MP4 files rendered by ffmpeg, cached per (size, duration,
 * audio) on disk and in memory; concurrent requests for one clip render once.
 */
export const makeClipRenderer = (cacheDir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const inFlight = yield* Ref.make(new Map<string, Deferred.Deferred<Clip, ClipRenderFailed>>())
    yield* fs.makeDirectory(cacheDir, { recursive: true })

    const describe = (path: string) =>
      Effect.map(
        fs.readFile(path),
        (bytes) => ({ path, bytes: bytes.length, sha256: sha256Hex(bytes) })
      )

    const renderToDisk = (
      spec: ClipSpec,
      target: string
    ): Effect.Effect<Clip, ClipRenderFailed | PlatformError, CommandExecutor> =>
      Effect.gen(function*() {
        if (yield* fs.exists(target)) return yield* describe(target)
        const temporary = `${target}.${randomBytes(4).toString("hex")}.tmp`
        const code = yield* Command.exitCode(Command.make(ffmpegInstaller.path, ...ffmpegArgs(spec, temporary)))
        if (code !== 0) return yield* Effect.fail(new ClipRenderFailed({ message: `ffmpeg exited with ${code}` }))
        yield* fs.rename(temporary, target)
        return yield* describe(target)
      })

    return (spec: ClipSpec): Effect.Effect<Clip, ClipRenderFailed, CommandExecutor> =>
      Effect.gen(function*() {
        const key = `${spec.width}x${spec.height}-${spec.durationSeconds}s-${spec.audio ? "audio" : "silent"}`
        const fresh = yield* Deferred.make<Clip, ClipRenderFailed>()
        const existing = yield* Ref.modify(inFlight, (map) => {
          const found = map.get(key)
          return found === undefined ? [undefined, new Map(map).set(key, fresh)] : [found, map]
        })
        if (existing !== undefined) return yield* Deferred.await(existing)
        const exit = yield* Effect.exit(
          renderToDisk(spec, join(cacheDir, `${key}.mp4`)).pipe(
            Effect.mapError((
              error
            ) => (error._tag === "ClipRenderFailed" ? error : new ClipRenderFailed({ message: error.message })))
          )
        )
        yield* Deferred.done(fresh, exit)
        return yield* exit
      })
  })
