import { FileSystem } from "@effect/platform"
import { type PlatformError, SystemError } from "@effect/platform/Error"
import { Effect, Layer } from "effect"

/** How a disk refuses writes: full, over quota, or mounted read-only. */
export type RefusalCode = "ENOSPC" | "EDQUOT" | "EROFS"

const WORDS: Record<RefusalCode, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system"
}

/** A refused write as Node reports it (errno in `cause.code`), wrapped the way @effect/platform-node does. */
export const refusal = (code: RefusalCode, method: string, pathOrDescriptor: string | number): PlatformError =>
  new SystemError({
    reason: "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor,
    syscall: "write",
    description: `${code}: ${WORDS[code]}, write`,
    cause: Object.assign(new Error(`${code}: ${WORDS[code]}, write`), { code, syscall: "write" })
  })

export interface DiskFault {
  readonly code: RefusalCode
  /** the files whose writes count against the disk and are refused once it is full */
  readonly refuses: (path: string) => boolean
  /** bytes those files may take, all together, before the disk is full; the write that crosses it is cut short */
  readonly afterBytes: number
  /** bytes count only from the first write whose text this matches (default: from the first write) */
  readonly fillsFrom?: (text: string) => boolean
}

export interface FailingDisk {
  /** the node file system, with the fault: provide it over `NodeContext.layer` */
  readonly layer: Layer.Layer<FileSystem.FileSystem, never, FileSystem.FileSystem>
  /** each refused write's file and time, first one first */
  readonly refused: ReadonlyArray<{ readonly path: string; readonly atMs: number }>
}

/**
 * A disk that fills up: writes to the files `fault.refuses` count their
 * bytes, and once `afterBytes` are taken every further write to them fails
 * as Node's would (a torn write first). No root, no tmpfs needed.
 */
export const failingDisk = (fault: DiskFault): FailingDisk => {
  const refused: Array<{ path: string; atMs: number }> = []
  let written = 0
  let filling = fault.fillsFrom === undefined
  /** `named` is what the error names: the path, or for a write to an open file its descriptor (as Node does). */
  const guarded = <E, R>(
    path: string,
    named: string | number,
    bytes: Uint8Array,
    method: string,
    write: (bytes: Uint8Array) => Effect.Effect<void, E, R>
  ): Effect.Effect<void, E | PlatformError, R> =>
    Effect.suspend(() => {
      filling ||= fault.fillsFrom?.(new TextDecoder().decode(bytes)) === true
      if (!filling) return write(bytes)
      const room = Math.max(0, fault.afterBytes - written)
      if (bytes.length <= room) {
        written += bytes.length
        return write(bytes)
      }
      written = fault.afterBytes
      refused.push({ path, atMs: Date.now() })
      const fail = Effect.fail(refusal(fault.code, method, named))
      return room > 0 ? Effect.zipRight(write(bytes.subarray(0, room)), fail) : fail
    })

  const wrapFile = (file: FileSystem.File, path: string): FileSystem.File =>
    Object.assign(Object.create(file) as FileSystem.File, {
      writeAll: (bytes: Uint8Array) => guarded(path, file.fd, bytes, "writeAll", (part) => file.writeAll(part)),
      write: (bytes: Uint8Array) =>
        Effect.as(guarded(path, file.fd, bytes, "write", (part) => file.writeAll(part)), FileSystem.Size(bytes.length))
    })

  const layer = Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs): FileSystem.FileSystem => {
      const refusedOutright = (path: string, method: string) =>
        fault.code === "EROFS" && fault.refuses(path)
          ? Effect.sync(() => void refused.push({ path, atMs: Date.now() })).pipe(
            Effect.zipRight(Effect.fail(refusal(fault.code, method, path)))
          )
          : Effect.void
      return {
        ...fs,
        open: (path, options) =>
          refusedOutright(path, "open").pipe(
            Effect.zipRight(fs.open(path, options)),
            Effect.map((file) => (fault.refuses(path) ? wrapFile(file, path) : file))
          ),
        writeFile: (path, data, options) =>
          fault.refuses(path)
            ? guarded(path, path, data, "writeFile", (bytes) => fs.writeFile(path, bytes, options))
            : fs.writeFile(path, data, options),
        writeFileString: (path, data, options) =>
          fault.refuses(path)
            ? guarded(path, path, new TextEncoder().encode(data), "writeFile", (bytes) =>
              fs.writeFile(path, bytes, options))
            : fs.writeFileString(path, data, options),
        makeDirectory: (path, options) =>
          refusedOutright(path, "makeDirectory").pipe(Effect.zipRight(fs.makeDirectory(path, options))),
        copyFile: (from, to) => refusedOutright(to, "copyFile").pipe(Effect.zipRight(fs.copyFile(from, to))),
        link: (from, to) => refusedOutright(to, "link").pipe(Effect.zipRight(fs.link(from, to)))
      }
    })
  )
  return { layer, refused }
}
