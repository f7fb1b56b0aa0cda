import { ValidationError } from "@effect/cli"
import type { FileSystem, Path } from "@effect/platform"
import { isPlatformError } from "@effect/platform/Error"
import { Console, Effect, Predicate } from "effect"
import { type DiskUnwritable, diskUnwritableOf, withFix } from "../store/DiskErrors.js"
import { ExitCode, type ProcessExitCode, setExitCode } from "./ExitCode.js"

/**
 * A disk that refuses writes: exit 3 once a run is journaled (resume it once
 * fixed) or when the disk is full; a folder given that cannot be written is a
 * usage error (2). Either way nothing was sent that is not journaled.
 */
const exitCodeOfDisk = (error: DiskUnwritable): ExitCode =>
  error.runDirectory !== undefined || error.code === "ENOSPC" || error.code === "EDQUOT"
    ? ExitCode.Aborted
    : ExitCode.Usage

const isDiskUnwritable = (error: unknown): error is DiskUnwritable => Predicate.isTagged(error, "DiskUnwritable")

/** The line (without `shotlist: `) and the exit code for what reached the top of a command. */
const stopOf = (
  error: unknown
): Effect.Effect<{ readonly line: string; readonly code: ExitCode }, never, FileSystem.FileSystem | Path.Path> => {
  const refused = isDiskUnwritable(error) ? error : isPlatformError(error) ? diskUnwritableOf(error) : undefined
  if (refused !== undefined) {
    const fixed = refused.fileSystem === undefined ? withFix(refused, refused.runDirectory) : Effect.succeed(refused)
    return Effect.map(fixed, (stopped) => ({ line: stopped.message, code: exitCodeOfDisk(stopped) }))
  }
  const message = Predicate.hasProperty(error, "message") ? String(error.message) : String(error)
  return Effect.succeed({ line: message, code: ExitCode.JobsFailed })
}

/**
 * What reaches the top of the program is said in one `shotlist: …` line on
 * stderr with its exit code, never as a stack trace: a file system error
 * names the path and the fix. A command line @effect/cli refused was said
 * already (exit 2). Defects (bugs) stay defects.
 */
export const withTopLevelErrors = <A, E, R>(
  program: Effect.Effect<A, E, R>
): Effect.Effect<void, never, R | ProcessExitCode | FileSystem.FileSystem | Path.Path> =>
  program.pipe(
    Effect.asVoid,
    Effect.catchAll((error) =>
      ValidationError.isValidationError(error)
        ? setExitCode(ExitCode.Usage)
        : Effect.flatMap(
          stopOf(error),
          ({ code, line }) => Console.error(`shotlist: ${line}`).pipe(Effect.zipRight(setExitCode(code)))
        )
    )
  )
