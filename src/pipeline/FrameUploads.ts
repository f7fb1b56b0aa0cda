import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Cache, Context, Duration, Effect, Equal, Exit, Hash, Layer, Option } from "effect"
import { FRAME_HEADER_BYTES, type FrameFormat, frameImageOf, frameMimeType } from "../domain/FrameLimits.js"
import type { FrameSource, Job } from "../domain/Job.js"
import { SegmindClient } from "../segmind/SegmindClient.js"
import { type UploadError, UploadFailed } from "../segmind/SegmindErrors.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { sha256Hex } from "../store/FileDigest.js"
import { readFrameFile } from "../store/FrameFile.js"
import { Journal } from "../store/Journal.js"
import { localFrameCopy } from "../store/RunDirectory.js"
import { announcedRetrySchedule } from "./CountedRetry.js"
import { isTransient } from "./FailureClass.js"
import { RequestBudget, withBudget } from "./RequestBudget.js"
import type { RetrySettings } from "./RetryPolicy.js"

export interface ResolvedFrame {
  /** the URL sent to the API */
  readonly url: string
  /** sha256 of a local file's bytes */
  readonly sha256: string | undefined
}

const MIME_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp"
}

/** A local frame to upload, the same as another with the same bytes, whatever its name or type (or the job that asks). */
class FrameContent implements Equal.Equal {
  constructor(readonly sha256: string, readonly dataUrl: string, readonly jobId: string) {}
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof FrameContent && that.sha256 === this.sha256
  }
  [Hash.symbol](): number {
    return Hash.string(this.sha256)
  }
}

/**
 * Resolves frames to URLs: an https URL as is, a local file uploaded once per
 * content (two shots sharing a frame pay one upload, and wait for the same one).
 */
export const makeFrameResolver = (upload: (dataUrl: string, jobId: string) => Effect.Effect<string, UploadError>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const uploads = yield* Cache.makeWith({
      capacity: Number.MAX_SAFE_INTEGER,
      lookup: (content: FrameContent) => upload(content.dataUrl, content.jobId),
      // A failed upload is not kept: the next job to need the frame tries again.
      timeToLive: (exit) => (Exit.isSuccess(exit) ? Duration.infinity : Duration.zero)
    })

    const resolve = (frame: FrameSource, jobId: string): Effect.Effect<ResolvedFrame, UploadError> => {
      if (frame._tag === "Url") return Effect.succeed({ url: frame.url, sha256: undefined })
      return Effect.gen(function*() {
        const bytes = yield* readFrameFile(frame.absolutePath).pipe(
          Effect.mapError((error) =>
            new UploadFailed({ reason: "FrameUnreadable", frame: frame.path, detail: error.reason })
          ),
          Effect.provideService(FileSystem.FileSystem, fs)
        )
        const sha256 = sha256Hex(bytes)
        const extension = frame.absolutePath.split(".").pop()?.toLowerCase() ?? ""
        // The bytes say what the image is: a kept copy of a chained frame is named `.img`.
        const image = frameImageOf(bytes.subarray(0, FRAME_HEADER_BYTES))
        const mime = image !== undefined && image.format in MIME_TYPES
          ? frameMimeType(image.format as FrameFormat)
          : MIME_TYPES[extension] ?? "application/octet-stream"
        const url = yield* uploads.get(
          new FrameContent(sha256, `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`, jobId)
        )
        return { url, sha256 }
      })
    }
    return FrameResolver.of({ resolve })
  })

/** A run's frames as the API gets them: local files uploaded once per content, through the run's request budget. */
export class FrameResolver extends Context.Tag("shotlist/FrameResolver")<
  FrameResolver,
  /** `jobId`: the job that needs the frame, named by the upload's retries */
  { readonly resolve: (frame: FrameSource, jobId: string) => Effect.Effect<ResolvedFrame, UploadError> }
>() {
  /** Uploads take a slot of the request budget and are retried as `retry` says. */
  static readonly layer = (retry: RetrySettings) =>
    Layer.effect(
      FrameResolver,
      Effect.gen(function*() {
        const client = yield* SegmindClient
        const budget = yield* RequestBudget
        const journal = yield* Journal
        return yield* makeFrameResolver((dataUrl, jobId) =>
          withBudget(budget, retry.base, "upload")(client.upload(dataUrl)).pipe(
            Effect.retry(announcedRetrySchedule(retry, isTransient, { jobId, call: "upload" })),
            Effect.provideService(Journal, journal)
          )
        )
      })
    )
}

/**
 * Copies the local frames of `jobs` into the run directory, named by content
 * (`frames/<sha256>.<ext>`): the contact sheet shows them without reaching
 * outside the run, and the run keeps the exact images it was rendered from.
 */
export const keepFrameCopies = (
  jobs: ReadonlyArray<Job>,
  runDirectory: string
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const seen = new Set<string>()
    for (const job of jobs) {
      for (const frame of [job.firstFrame, job.lastFrame]) {
        if (frame?._tag !== "File" || seen.has(frame.absolutePath)) continue
        seen.add(frame.absolutePath)
        // A frame gone or swapped for something else since the jobs read it is not copied (they failed naming it).
        const bytes = yield* Effect.option(readFrameFile(frame.absolutePath))
        if (Option.isNone(bytes)) continue
        const copy = path.join(runDirectory, localFrameCopy(frame.path, sha256Hex(bytes.value)))
        if (yield* fs.exists(copy)) continue
        yield* fs.makeDirectory(path.dirname(copy), { recursive: true })
        // Whole or absent: a copy cut short by a full disk would pass for the frame on the next run.
        yield* writeFileAtomic(copy, bytes.value)
      }
    }
  })
