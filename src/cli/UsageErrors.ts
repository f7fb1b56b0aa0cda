import { Console, Data, Effect } from "effect"
import type { ManifestInvalid, ManifestUnreadable } from "../manifest/ManifestErrors.js"
import { formatIssue } from "../manifest/ManifestErrors.js"
import { ExitCode, setExitCode } from "./ExitCode.js"

/** A command line that cannot run: said on stderr, exit 2, nothing sent. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

export const usageError = (message: string) => Effect.fail(new UsageError({ message }))

export const reportUsageError = (error: UsageError) =>
  Console.error(`shotlist: ${error.message}`).pipe(Effect.zipRight(setExitCode(ExitCode.Usage)))

/** Every issue of the manifest at once, each with file:line:col. */
export const reportManifestInvalid = (error: ManifestInvalid) =>
  Effect.gen(function*() {
    for (const issue of error.issues) yield* Console.error(formatIssue(issue))
    yield* Console.error(error.message)
    yield* setExitCode(ExitCode.Usage)
  })

export const reportManifestUnreadable = (error: ManifestUnreadable) =>
  Console.error(`shotlist: ${error.message}`).pipe(
    Effect.zipRight(setExitCode(ExitCode.Usage))
  )

/** For `Effect.catchTags`: usage and manifest problems end a command with exit 2 and a message on stderr. */
export const usageProblems = {
  UsageError: reportUsageError,
  ManifestInvalid: reportManifestInvalid,
  ManifestUnreadable: reportManifestUnreadable
} as const
