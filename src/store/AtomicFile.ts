import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"

/** A sibling temporary name: same directory, so the final rename is atomic. */
export const temporaryPathFor = (path: Path.Path, target: string): string =>
  path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString("hex")}.part`)

/**
 * Writes a whole file or nothing: temp file, fsync, rename. A reader never
 * sees a half-written report or manifest copy.
 */
export const writeFileAtomic = (
  target: string,
  content: string | Uint8Array
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temporary = temporaryPathFor(path, target)
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
    yield* Effect.scoped(
      Effect.gen(function*() {
        const file = yield* fs.open(temporary, { flag: "w" })
        yield* file.writeAll(bytes)
        yield* file.sync
      })
    )
    yield* fs.rename(temporary, target).pipe(Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore)))
  })
