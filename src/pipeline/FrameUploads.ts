import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Deferred, Effect, Ref } from "effect"
import type { Job } from "../domain/Job.js"
import type { FrameSource } from "../domain/Job.js"
import { type UploadError, UploadFailed } from "../segmind/SegmindErrors.js"
import { sha256Hex } from "../store/FileDigest.js"
import { localFrameCopy } from "../store/RunDirectory.js"

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

/**
 * Resolves frames to URLs: an https URL as is, a local file uploaded once per
 * content (the cache is keyed by sha256, so two shots sharing a frame pay one
 * upload).
 */
export const makeFrameResolver = (upload: (dataUrl: string) => Effect.Effect<string, UploadError>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const uploads = yield* Ref.make(new Map<string, Deferred.Deferred<string, UploadError>>())

    const uploadOnce = (sha256: string, dataUrl: string) =>
      Effect.gen(function*() {
        const fresh = yield* Deferred.make<string, UploadError>()
        const existing = yield* Ref.modify(uploads, (map) => {
          const found = map.get(sha256)
          return found === undefined ? [undefined, new Map(map).set(sha256, fresh)] : [found, map]
        })
        if (existing !== undefined) return yield* Deferred.await(existing)
        return yield* upload(dataUrl).pipe(
          Effect.exit,
          Effect.tap((exit) => Deferred.done(fresh, exit)),
          Effect.flatten,
          // A failed upload is not cached: the next job may try again.
          Effect.tapError(() =>
            Ref.update(uploads, (map) => {
              const next = new Map(map)
              next.delete(sha256)
              return next
            })
          )
        )
      })

    return (frame: FrameSource): Effect.Effect<ResolvedFrame, UploadError> => {
      if (frame._tag === "Url") return Effect.succeed({ url: frame.url, sha256: undefined })
      return Effect.gen(function*() {
        const bytes = yield* fs.readFile(frame.absolutePath).pipe(
          Effect.mapError((error) =>
            new UploadFailed({ reason: "FrameUnreadable", frame: frame.path, detail: error.message })
          )
        )
        const sha256 = sha256Hex(bytes)
        const extension = frame.absolutePath.split(".").pop()?.toLowerCase() ?? ""
        const mime = MIME_TYPES[extension] ?? "application/octet-stream"
        const dataUrl = `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`
        const url = yield* uploadOnce(sha256, dataUrl)
        return { url, sha256 }
      })
    }
  })

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
        if (!(yield* fs.exists(frame.absolutePath))) continue
        const bytes = yield* fs.readFile(frame.absolutePath)
        const copy = path.join(
          runDirectory,
          localFrameCopy(frame.path, sha256Hex(bytes))
        )
        if (yield* fs.exists(copy)) continue
        yield* fs.makeDirectory(path.dirname(copy), { recursive: true })
        yield* fs.writeFile(copy, bytes)
      }
    }
  })
