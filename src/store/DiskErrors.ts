import { FileSystem, Path } from "@effect/platform"
import { type PlatformError, SystemError } from "@effect/platform/Error"
import { Data, Effect } from "effect"
import { runFiles } from "./RunDirectory.js"

/** How a file system refuses writes until someone fixes it: full, over quota, read-only, or not this user's to write. */
export type DiskCode = "ENOSPC" | "EDQUOT" | "EROFS" | "EACCES" | "EPERM"

const WHAT: Record<DiskCode, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted"
}

const isDiskCode = (code: string | undefined): code is DiskCode => code !== undefined && code in WHAT

/** The errno code (ENOSPC, EROFS…) behind a file system error, as Node reported it. */
export const errnoOf = (error: PlatformError): string | undefined => {
  if (error._tag !== "SystemError") return undefined
  const { cause } = error
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") {
    return cause.code
  }
  return /^([A-Z][A-Z0-9]+):/.exec(error.description ?? "")?.[1]
}

/**
 * A write the disk refused: nothing more can be written until space is freed
 * (or the file system made writable), so the run stops submitting and keeps
 * what it paid for to resume (SPEC §2, exit 3). Once `withFix` looked up the
 * file system, the message names the path and the fix in one line.
 */
export class DiskUnwritable extends Data.TaggedError("DiskUnwritable")<{
  readonly code: DiskCode
  /** the file or folder refused; undefined when the error named only a file descriptor */
  readonly path: string | undefined
  /** the mount point holding it */
  readonly fileSystem: string | undefined
  /** the run to resume once the disk is fixed: set only where a run is journaled */
  readonly runDirectory: string | undefined
}> {
  override get message() {
    const where = this.path ?? (this.runDirectory === undefined ? "a file" : `in ${this.runDirectory}`)
    const what = `${WHAT[this.code]} (${this.code}) writing ${where}`
    if (this.fileSystem === undefined) return what
    if (this.runDirectory === undefined) return `${what}: ${this.fix(this.fileSystem)}; nothing was sent`
    return `${what}: ${this.fix(this.fileSystem)}, then: shotlist resume ${this.runDirectory}`
  }

  private fix(fileSystem: string): string {
    switch (this.code) {
      case "ENOSPC":
        return `free space on ${fileSystem}`
      case "EDQUOT":
        return `free space on ${fileSystem} (or raise the quota)`
      case "EROFS":
        return `make ${fileSystem} writable${this.runDirectory === undefined ? " or choose another --out" : ""}`
      case "EACCES":
      case "EPERM":
        return `make ${this.path ?? fileSystem} writable for this user${
          this.runDirectory === undefined ? " or choose another --out" : ""
        }`
    }
  }
}

/** A file system error as a disk refusing writes, when it is one; `path` names the file where the error names a descriptor. */
export const diskUnwritableOf = (error: PlatformError, path?: string): DiskUnwritable | undefined => {
  const code = errnoOf(error)
  if (!isDiskCode(code)) return undefined
  const named = error._tag === "SystemError" && typeof error.pathOrDescriptor === "string"
    ? error.pathOrDescriptor
    : undefined
  return new DiskUnwritable({ code, path: path ?? named, fileSystem: undefined, runDirectory: undefined })
}

/** An error on an open file names its descriptor: this names `file` instead, so a message can say which file. */
export const namingFile = (file: string) => (error: PlatformError): PlatformError =>
  error._tag === "SystemError" && typeof error.pathOrDescriptor === "number"
    ? new SystemError({
      reason: error.reason,
      module: error.module,
      method: error.method,
      pathOrDescriptor: file,
      ...(error.description === undefined ? {} : { description: error.description }),
      ...(error.syscall === undefined ? {} : { syscall: error.syscall }),
      cause: error.cause
    })
    : error

/** `/proc/self/mounts` escapes spaces and the like in octal (`\040`). */
const unescapeMount = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))

/** The mount point holding `file` (the longest one above it); its folder where the mounts cannot be read. */
export const mountPointOf = (file: string): Effect.Effect<string, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const resolved = path.resolve(file)
    const table = yield* fs.readFileString("/proc/self/mounts").pipe(Effect.orElseSucceed(() => ""))
    const holding = table.split("\n")
      .map((line) => unescapeMount(line.split(" ")[1] ?? ""))
      .filter((mount) =>
        mount.startsWith("/") && (resolved === mount || resolved.startsWith(mount === "/" ? "/" : `${mount}/`))
      )
      .sort((a, b) => b.length - a.length)
    return holding[0] ?? path.dirname(resolved)
  })

/**
 * The refusal with its fix: the mount point holding the refused file, and
 * the run to resume, when a run is journaled in `runDirectory`.
 */
export const withFix = (
  error: DiskUnwritable,
  runDirectory: string | undefined
): Effect.Effect<DiskUnwritable, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const journaled = runDirectory !== undefined &&
      (yield* fs.exists(runFiles(path, runDirectory).journal).pipe(Effect.orElseSucceed(() => false)))
    const fileSystem = yield* mountPointOf(error.path ?? runDirectory ?? ".")
    return new DiskUnwritable({
      code: error.code,
      path: error.path,
      fileSystem,
      runDirectory: journaled ? runDirectory : undefined
    })
  })
