import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option } from "effect"
import { temporaryPathFor } from "./AtomicFile.js"

/** `output/<name>/latest`: the newest run of a manifest, a link beside its runs. */
export const LATEST_LINK = "latest"

/**
 * Points `latest` beside `runDirectory` at it, relative (the output folder
 * can move), atomically: the link is made under a temporary name and renamed
 * over the old one, so a reader finds the old run or the new one, never none.
 */
export const pointLatestAt = (
  runDirectory: string
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const absolute = path.resolve(runDirectory)
    const link = path.join(path.dirname(absolute), LATEST_LINK)
    const temporary = temporaryPathFor(path, link)
    yield* fs.symlink(path.basename(absolute), temporary)
    yield* fs.rename(temporary, link).pipe(Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore)))
  })

/** The run `latest` in `folder` names, as a path; none when there is no such link. */
export const latestRunIn = (
  folder: string
): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const target = yield* fs.readLink(path.join(folder, LATEST_LINK)).pipe(Effect.option)
    return Option.map(target, (name) => path.resolve(folder, name))
  })

/** Removes `latest` from `folder` if it is a link (never a folder someone made there). */
export const removeLatestLink = (
  folder: string
): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const link = path.join(folder, LATEST_LINK)
    if (Option.isSome(yield* fs.readLink(link).pipe(Effect.option))) yield* fs.remove(link).pipe(Effect.ignore)
  })
