import { FileSystem, Path } from "@effect/platform"
import { Clock, Effect, Either, Option, Stream } from "effect"
import { createHash } from "node:crypto"
import type { SegmindClient, StorageDownloadError } from "../segmind/SegmindClient.js"
import { temporaryPathFor } from "../store/AtomicFile.js"
import { checkVideo, inspectMp4 } from "../store/Mp4Inspection.js"
import type { CrashPoints } from "./CrashPoints.js"
import { DownloadInvalid, VideoMismatch } from "./PipelineErrors.js"

export interface DownloadedVideo {
  readonly bytes: number
  readonly sha256: string
  readonly downloadMs: number
  readonly durationSeconds: number
  readonly width: number | undefined
  readonly height: number | undefined
  readonly hasAudio: boolean
}

export interface VideoExpectation {
  readonly durationSeconds: number
  readonly audio: boolean
}

/**
 * Streams a video into a temporary file beside its final place while hashing
 * it, checks size and MP4 structure, then renames it in: a file at `target`
 * is always whole.
 */
export const downloadVideo = (
  client: SegmindClient,
  url: string,
  target: string,
  partialDirectory: string,
  rejectedDirectory: string,
  expect: VideoExpectation,
  crashPoints: CrashPoints["Type"]
): Effect.Effect<
  DownloadedVideo,
  StorageDownloadError | DownloadInvalid | VideoMismatch,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temporary = temporaryPathFor(path, path.join(partialDirectory, path.basename(target)))
    const startedMs = yield* Clock.currentTimeMillis
    const fileError = (error: { readonly message: string }) =>
      new DownloadInvalid({ url, message: `could not write ${temporary}: ${error.message}` })

    const received = yield* Effect.scoped(
      Effect.gen(function*() {
        const { contentLength, stream } = yield* client.download(url)
        const file = yield* fs.open(temporary, { flag: "w" }).pipe(Effect.mapError(fileError))
        const hash = createHash("sha256")
        let bytes = 0
        yield* Stream.runForEach(stream, (chunk) =>
          Effect.sync(() => {
            hash.update(chunk)
            bytes += chunk.length
          }).pipe(
            Effect.zipRight(file.writeAll(chunk).pipe(Effect.mapError(fileError))),
            Effect.zipRight(
              Effect.suspend(() => (bytes === chunk.length ? crashPoints.reach("mid-download") : Effect.void))
            )
          ))
        yield* file.sync.pipe(Effect.mapError(fileError))
        if (Option.isSome(contentLength) && contentLength.value !== bytes) {
          return yield* Effect.fail(
            new DownloadInvalid({
              url,
              message: `got ${bytes} of ${contentLength.value} bytes (connection closed early)`
            })
          )
        }
        return { bytes, sha256: hash.digest("hex") }
      })
    ).pipe(Effect.onError(() => fs.remove(temporary).pipe(Effect.ignore)))

    const info = yield* inspectMp4(temporary).pipe(
      Effect.mapError((error) => new DownloadInvalid({ url, message: `not a playable MP4: ${error.reason}` })),
      Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore))
    )
    const checked = checkVideo(info, { durationSeconds: expect.durationSeconds, audio: expect.audio })
    if (Either.isLeft(checked)) {
      // A paid-for video is never thrown away, even when it is not what was asked for.
      const keptAt = path.join(rejectedDirectory, path.basename(target))
      yield* fs.makeDirectory(rejectedDirectory, { recursive: true }).pipe(
        Effect.zipRight(fs.rename(temporary, keptAt)),
        Effect.mapError(fileError)
      )
      return yield* Effect.fail(
        new VideoMismatch({ url, keptAt, message: `${checked.left.reason}; kept at ${keptAt}` })
      )
    }

    yield* fs.rename(temporary, target).pipe(
      Effect.mapError(fileError),
      Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore))
    )
    const finishedMs = yield* Clock.currentTimeMillis
    return {
      ...received,
      downloadMs: finishedMs - startedMs,
      durationSeconds: info.durationSeconds,
      width: Option.getOrUndefined(Option.map(info.video, (video) => video.width)),
      height: Option.getOrUndefined(Option.map(info.video, (video) => video.height)),
      hasAudio: Option.isSome(info.audio)
    }
  })
