import { FileSystem } from "@effect/platform"
import { Data, Effect, Option } from "effect"

/** The most a local frame may weigh (the manifest refuses more at load). */
export const MAX_FRAME_BYTES = 30 * 1024 * 1024

/** A local frame that is no longer a regular file of at most 30 MB (a FIFO, a device, a folder swapped in), or is unreadable. */
export class FrameFileRefused extends Data.TaggedError("FrameFileRefused")<{
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `${this.path}: ${this.reason}`
  }
}

const KINDS: Record<FileSystem.File.Type, string> = {
  File: "a file",
  Directory: "a directory",
  SymbolicLink: "a symbolic link",
  BlockDevice: "a block device",
  CharacterDevice: "a character device",
  FIFO: "a FIFO",
  Socket: "a socket",
  Unknown: "of an unknown kind"
}

/** Why a file's metadata rules it out as a frame, if it does. */
const frameInfoProblem = (info: FileSystem.File.Info): string | undefined => {
  if (info.type !== "File") return `it is ${KINDS[info.type]}, not a regular file`
  if (Number(info.size) > MAX_FRAME_BYTES) return `${info.size} bytes; a frame may be at most 30 MB`
  return undefined
}

/**
 * A local frame's bytes, checked right before they are read: a regular file
 * of at most 30 MB. Whatever took its place since the manifest was loaded (a
 * symlink to /dev/zero, a FIFO, a folder) is refused before a byte is read,
 * and no read goes past 30 MB, so a swap can never make a run spin or hang.
 */
export const readFrameFile = (path: string): Effect.Effect<Uint8Array, FrameFileRefused, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const refused = (reason: string) => new FrameFileRefused({ path, reason })
    const unreadable = (error: { readonly message: string }) => refused(error.message)
    const check = (info: FileSystem.File.Info) => {
      const problem = frameInfoProblem(info)
      return problem === undefined ? Effect.void : Effect.fail(refused(problem))
    }
    // Before opening: opening a FIFO would wait for a writer.
    yield* Effect.flatMap(Effect.mapError(fs.stat(path), unreadable), check)
    return yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* Effect.mapError(fs.open(path, { flag: "r" }), unreadable)
      // Again on what was opened, in case it was swapped between the two.
      yield* Effect.flatMap(Effect.mapError(file.stat, unreadable), check)
      const chunks: Array<Uint8Array> = []
      let bytes = 0
      for (;;) {
        const chunk = yield* Effect.mapError(file.readAlloc(FileSystem.MiB(1)), unreadable)
        if (Option.isNone(chunk)) return Buffer.concat(chunks, bytes)
        bytes += chunk.value.length
        if (bytes > MAX_FRAME_BYTES) return yield* refused("more than 30 MB; a frame may be at most 30 MB")
        chunks.push(chunk.value)
      }
    }))
  })
