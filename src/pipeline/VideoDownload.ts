import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Effect, Either, Option, Stream } from "effect"
import { createHash } from "node:crypto"
import { SegmindClient } from "../segmind/SegmindClient.js"
import type { DownloadError } from "../segmind/SegmindErrors.js"
import { temporaryPathFor } from "../store/AtomicFile.js"
import { type DiskUnwritable, diskUnwritableOf } from "../store/DiskErrors.js"
import { checkVideo, inspectMp4, type VideoExpectation } from "../store/Mp4Inspection.js"
import { CrashPoints } from "./CrashPoints.js"
import { DownloadInvalid, DownloadProblem, VideoMismatch } from "./PipelineErrors.js"

export interface DownloadedVideo {
  readonly bytes: number
  readonly sha256: string
  readonly downloadMs: number
  readonly durationSeconds: number
  readonly width: number | undefined
  readonly height: number | undefined
  readonly hasAudio: boolean
}

/** A write that failed: worth another try, unless the disk refuses writes (full, read-only), which stops the run. */
const notWritten = (url: string, file: string) => (error: PlatformError): DownloadInvalid | DiskUnwritable =>
  diskUnwritableOf(error, file) ??
    new DownloadInvalid({ url, problem: DownloadProblem.NotWritten({ file, reason: error.message }) })

/** Streams the video into `temporary` while hashing it: whole only when as long as the server said. */
const receive = (url: string, temporary: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const client = yield* SegmindClient
    const crashPoints = yield* CrashPoints
    const { contentLength, stream } = yield* client.download(url)
    const file = yield* fs.open(temporary, { flag: "w" }).pipe(Effect.mapError(notWritten(url, temporary)))
    const hash = createHash("sha256")
    let bytes = 0
    yield* Stream.runForEach(stream, (chunk) =>
      Effect.sync(() => {
        hash.update(chunk)
        bytes += chunk.length
      }).pipe(
        Effect.zipRight(file.writeAll(chunk).pipe(Effect.mapError(notWritten(url, temporary)))),
        Effect.zipRight(
          Effect.suspend(() => (bytes === chunk.length ? crashPoints.reach("mid-download") : Effect.void))
        )
      ))
    yield* file.sync.pipe(Effect.mapError(notWritten(url, temporary)))
    if (Option.isSome(contentLength) && contentLength.value !== bytes) {
      return yield* new DownloadInvalid({
        url,
        problem: DownloadProblem.Truncated({ received: bytes, expected: contentLength.value })
      })
    }
    return { bytes, sha256: hash.digest("hex") }
  }).pipe(Effect.scoped)

/** A whole video that is not what was asked for: a paid-for video is never thrown away, so it is kept aside. */
const reject = (url: string, temporary: string, keptAt: string, reason: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.dirname(keptAt), { recursive: true }).pipe(
      Effect.zipRight(fs.rename(temporary, keptAt)),
      Effect.mapError(notWritten(url, temporary))
    )
    return yield* new VideoMismatch({ url, keptAt, reason })
  })

/**
 * Streams a video into a temporary file beside its final place while hashing
 * it, checks size and MP4 structure, then renames it in: a file at `target`
 * is always whole.
 */
export const downloadVideo = (
  url: string,
  target: string,
  directories: { readonly partial: string; readonly rejected: string },
  expect: VideoExpectation
): Effect.Effect<
  DownloadedVideo,
  DownloadError | DownloadInvalid | VideoMismatch | DiskUnwritable,
  SegmindClient | FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temporary = temporaryPathFor(path, path.join(directories.partial, path.basename(target)))
    const removeTemporary = fs.remove(temporary).pipe(Effect.ignore)
    const startedMs = yield* Clock.currentTimeMillis
    const received = yield* receive(url, temporary).pipe(Effect.onError(() => removeTemporary))
    const info = yield* inspectMp4(temporary).pipe(
      Effect.mapError((error) =>
        new DownloadInvalid({ url, problem: DownloadProblem.NotPlayable({ reason: error.reason }) })
      ),
      Effect.tapError(() => removeTemporary)
    )
    const checked = checkVideo(info, expect)
    if (Either.isLeft(checked)) {
      return yield* reject(url, temporary, path.join(directories.rejected, path.basename(target)), checked.left.reason)
    }
    yield* fs.rename(temporary, target).pipe(
      Effect.mapError(notWritten(url, temporary)),
      Effect.tapError(() => removeTemporary)
    )
    return {
      ...received,
      downloadMs: (yield* Clock.currentTimeMillis) - startedMs,
      durationSeconds: info.durationSeconds,
      width: Option.getOrUndefined(Option.map(info.video, (video) => video.width)),
      height: Option.getOrUndefined(Option.map(info.video, (video) => video.height)),
      hasAudio: Option.isSome(info.audio)
    }
  })
