import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Effect, Either, Option, Stream } from "effect"
import { createHash } from "node:crypto"
import { SegmindClient, type StorageDownloadError } from "../segmind/SegmindClient.js"
import { UnexpectedResponse } from "../segmind/SegmindErrors.js"
import { temporaryPathFor } from "../store/AtomicFile.js"
import { type DiskUnwritable, diskUnwritableOf } from "../store/DiskErrors.js"
import {
  checkVideo,
  inspectMp4,
  MP4_SIGNATURE_BYTES,
  startsLikeMp4,
  type VideoExpectation
} from "../store/Mp4Inspection.js"
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

/** Far above any Seedance video (tens of MB) and any benchmark's padded one; far below a disk-filling stream. */
export const DEFAULT_MAX_VIDEO_BYTES = 2 * 1024 ** 3

const QUOTED_BYTES = 24

/** The bytes a download gathers before a file write: small beside a video, large beside a socket read. */
const WRITE_BYTES = 256 * 1024

/** The first bytes of a body, readable in a message. */
const quoted = (head: Uint8Array): string =>
  JSON.stringify(String.fromCharCode(...head.subarray(0, QUOTED_BYTES)).replace(/[^\x20-\x7e]/g, "."))

/**
 * A body that is not an MP4 or does not end is what this URL serves, not a
 * mishap: it fails the job (UnexpectedResponse) instead of being fetched again.
 */
const notAVideo = (url: string, message: string) =>
  new UnexpectedResponse({ url, httpStatus: 200, problem: undefined, detail: `${message}; not downloaded again` })

/**
 * Checks a body as it streams, before a chunk is written: it opens with an
 * ftyp box and stays under `maxBytes`, so an error page or an endless stream
 * goes no further.
 */
const bodyCheck = (url: string, maxBytes: number) => {
  // The body's first bytes until they show an MP4; then no longer kept.
  let head: Uint8Array | undefined = new Uint8Array(0)
  return (bytesSoFar: number, chunk: Uint8Array): Effect.Effect<void, UnexpectedResponse> => {
    if (bytesSoFar + chunk.length > maxBytes) {
      return Effect.fail(notAVideo(url, `the body ran past ${maxBytes} bytes, more than a video may have`))
    }
    if (head === undefined) return Effect.void
    head = new Uint8Array([...head, ...chunk.subarray(0, QUOTED_BYTES - head.length)])
    if (head.length < MP4_SIGNATURE_BYTES) return Effect.void
    if (startsLikeMp4(head)) {
      head = undefined
      return Effect.void
    }
    return Effect.fail(notAVideo(url, `not an MP4: the body starts with ${quoted(head)}, not an ftyp box`))
  }
}

/** A write that failed: worth another try, unless the disk refuses writes (full, read-only), which stops the run. */
const notWritten = (url: string, file: string) => (error: PlatformError): DownloadInvalid | DiskUnwritable =>
  diskUnwritableOf(error, file) ??
    new DownloadInvalid({ url, problem: DownloadProblem.NotWritten({ file, reason: error.message }) })

/** Streams the video into `temporary` while hashing it: whole only when as long as the server said. */
const receive = (url: string, temporary: string, maxBytes: number) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const client = yield* SegmindClient
    const crashPoints = yield* CrashPoints
    const { contentLength, stream } = yield* client.download(url)
    if (Option.isSome(contentLength) && contentLength.value > maxBytes) {
      return yield* Effect.fail(
        notAVideo(url, `Content-Length ${contentLength.value} is more than the ${maxBytes} bytes a video may have`)
      )
    }
    const file = yield* fs.open(temporary, { flag: "w" }).pipe(Effect.mapError(notWritten(url, temporary)))
    const hash = createHash("sha256")
    let bytes = 0
    const checkBody = bodyCheck(url, maxBytes)
    // Past the first chunk, writes of WRITE_BYTES from one reused buffer: a write per socket read costs more CPU.
    const gathered = Buffer.allocUnsafe(WRITE_BYTES)
    let gatheredBytes = 0
    const writeGathered = Effect.suspend(() => {
      const length = gatheredBytes
      gatheredBytes = 0
      return length === 0 ? Effect.void : file.writeAll(gathered.subarray(0, length))
    })
    const gather = (chunk: Uint8Array): Effect.Effect<void, PlatformError> =>
      Effect.suspend(() => {
        if (gatheredBytes + chunk.length > WRITE_BYTES) {
          return Effect.zipRight(
            writeGathered,
            chunk.length >= WRITE_BYTES ? file.writeAll(chunk) : gather(chunk)
          )
        }
        gathered.set(chunk, gatheredBytes)
        gatheredBytes += chunk.length
        return gatheredBytes === WRITE_BYTES ? writeGathered : Effect.void
      })
    yield* Stream.runForEach(stream, (chunk) =>
      checkBody(bytes, chunk).pipe(
        Effect.zipRight(Effect.sync(() => {
          hash.update(chunk)
          bytes += chunk.length
        })),
        Effect.zipRight(
          Effect.suspend(() =>
            bytes === chunk.length
              ? Effect.zipRight(file.writeAll(chunk), crashPoints.reach("mid-download"))
              : gather(chunk)
          ).pipe(Effect.mapError(notWritten(url, temporary)))
        )
      ))
    yield* writeGathered.pipe(Effect.mapError(notWritten(url, temporary)))
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
  expect: VideoExpectation & {
    /** the most bytes taken from the storage host; `DEFAULT_MAX_VIDEO_BYTES` when not given */
    readonly maxBytes?: number
  }
): Effect.Effect<
  DownloadedVideo,
  StorageDownloadError | DownloadInvalid | VideoMismatch | DiskUnwritable,
  SegmindClient | FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temporary = temporaryPathFor(path, path.join(directories.partial, path.basename(target)))
    const removeTemporary = fs.remove(temporary).pipe(Effect.ignore)
    const startedMs = yield* Clock.currentTimeMillis
    const received = yield* receive(url, temporary, expect.maxBytes ?? DEFAULT_MAX_VIDEO_BYTES).pipe(
      Effect.onError(() => removeTemporary)
    )
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
