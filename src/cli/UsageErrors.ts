import { Console, Data, Effect } from "effect"
import { expandJobs } from "../manifest/JobExpansion.js"
import { filterJobs } from "../manifest/JobFilter.js"
import type { ManifestInvalid, ManifestUnreadable } from "../manifest/ManifestErrors.js"
import { formatIssue } from "../manifest/ManifestErrors.js"
import { loadManifest } from "../manifest/ManifestLoader.js"
import { ExitCode, setExitCode } from "./ExitCode.js"

/** A command line that cannot run: said on stderr, exit 2, nothing sent. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

export const usageError = (message: string) => Effect.fail(new UsageError({ message }))

export const reportUsageError = (error: UsageError) =>
  Console.error(`shotlist: ${error.message}`).pipe(Effect.zipRight(setExitCode(ExitCode.Usage)))

/** Every issue of the manifest at once, each with file:line:col. */
export const reportManifestProblem = (error: ManifestInvalid | ManifestUnreadable) =>
  Effect.gen(function*() {
    if (error._tag === "ManifestUnreadable") {
      yield* Console.error(`shotlist: ${error.message}`)
    } else {
      for (const issue of error.issues) yield* Console.error(formatIssue(issue))
      yield* Console.error(error.message)
    }
    yield* setExitCode(ExitCode.Usage)
  })

/** The manifest's jobs, narrowed by `--only`; a pattern matching nothing is a usage error. */
export const selectJobs = (file: string, only: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const loaded = yield* loadManifest(file)
    const { jobs, unmatched } = filterJobs(yield* expandJobs(loaded), only)
    if (unmatched.length > 0) {
      return yield* usageError(`--only ${unmatched.map((p) => JSON.stringify(p)).join(", ")} matches no job of ${file}`)
    }
    return { loaded, jobs }
  })

type UsageProblem = UsageError | ManifestInvalid | ManifestUnreadable

const isUsageProblem = <E>(error: E | UsageProblem): error is UsageProblem =>
  typeof error === "object" &&
  error !== null &&
  "_tag" in error &&
  (error._tag === "UsageError" || error._tag === "ManifestInvalid" || error._tag === "ManifestUnreadable")

/** Usage and manifest problems end a command with exit 2 and a message on stderr. */
export const reportingUsageProblems = <A, E, R>(effect: Effect.Effect<A, E | UsageProblem, R>) =>
  Effect.catchIf(
    effect,
    isUsageProblem,
    (problem) => problem._tag === "UsageError" ? reportUsageError(problem) : reportManifestProblem(problem)
  )
