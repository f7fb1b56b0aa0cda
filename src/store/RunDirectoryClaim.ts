import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect } from "effect"
import { runFiles } from "./RunDirectory.js"
import { isRunLockFile } from "./RunLock.js"

/**
 * What a folder holds that shotlist did not leave there: anything but its
 * lock and empty folders of its layout (a run that died before its journal).
 * A new run goes only where this is empty, so it overwrites and removes
 * nothing of anyone else's. A folder that does not exist holds nothing.
 */
export const entriesNotOfShotlist = (
  runDirectory: string
): Effect.Effect<ReadonlyArray<string>, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files = runFiles(path, runDirectory)
    const layoutFolders = new Set([files.videos, files.frames, files.partial, files.rejected])
    const names = yield* fs.readDirectory(runDirectory).pipe(
      Effect.catchTag("SystemError", (e) => (e.reason === "NotFound" ? Effect.succeed([]) : Effect.fail(e)))
    )
    const emptyLayoutFolder = (entry: string) =>
      layoutFolders.has(entry)
        ? fs.readDirectory(entry).pipe(Effect.map((inside) => inside.length === 0), Effect.orElseSucceed(() => false))
        : Effect.succeed(false)
    return yield* Effect.filter(
      names.filter((name) => !isRunLockFile(name)).sort(),
      (name) => Effect.map(emptyLayoutFolder(path.join(runDirectory, name)), (empty) => !empty)
    )
  })
