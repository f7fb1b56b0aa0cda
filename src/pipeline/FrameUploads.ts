import { FileSystem } from "@effect/platform"
import { Deferred, Effect, Ref } from "effect"
import { createHash } from "node:crypto"
import type { FrameSource } from "../manifest/Job.js"
import { UploadFailed, type UploadError } from "../segmind/SegmindErrors.js"

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
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const uploads = yield* Ref.make(new Map<string, Deferred.Deferred<string, UploadError>>())

    const uploadOnce = (sha256: string, dataUrl: string) =>
      Effect.gen(function* () {
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
          Effect.tapError(() => Ref.update(uploads, (map) => {
            const next = new Map(map)
            next.delete(sha256)
            return next
          }))
        )
      })

    return (frame: FrameSource): Effect.Effect<ResolvedFrame, UploadError> => {
      if (frame._tag === "Url") return Effect.succeed({ url: frame.url, sha256: undefined })
      return Effect.gen(function* () {
        const bytes = yield* fs.readFile(frame.absolutePath).pipe(
          Effect.mapError((error) => new UploadFailed({ message: `cannot read ${frame.path}: ${error.message}` }))
        )
        const sha256 = createHash("sha256").update(bytes).digest("hex")
        const extension = frame.absolutePath.split(".").pop()?.toLowerCase() ?? ""
        const mime = MIME_TYPES[extension] ?? "application/octet-stream"
        const dataUrl = `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`
        const url = yield* uploadOnce(sha256, dataUrl)
        return { url, sha256 }
      })
    }
  })
