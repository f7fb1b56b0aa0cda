import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Stream } from "effect"
import { createHash } from "node:crypto"

/** sha256 (hex) of bytes or text held in memory. */
export const sha256Hex = (content: string | Uint8Array): string => createHash("sha256").update(content).digest("hex")

/** sha256 (hex) of a file, streamed: a 500 MB video is never held in memory. */
export const sha256OfFile = (file: string): Effect.Effect<string, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const hash = createHash("sha256")
    yield* Stream.runForEach(
      fs.stream(file, { chunkSize: FileSystem.MiB(1) }),
      (chunk) => Effect.sync(() => hash.update(chunk))
    )
    return hash.digest("hex")
  })

/** Whether `file` exists and holds exactly the bytes whose sha256 is `sha256`. */
export const fileMatches = (file: string, sha256: string): Effect.Effect<boolean, never, FileSystem.FileSystem> =>
  sha256OfFile(file).pipe(
    Effect.map((digest) => digest === sha256),
    Effect.orElseSucceed(() => false)
  )
