import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { expandJobs } from "../manifest/JobExpansion.js"
import { filterJobs } from "../manifest/JobFilter.js"
import { loadManifest } from "../manifest/ManifestLoader.js"
import { renderPlan } from "./PlanTable.js"
import { reportManifestProblem, reportUsageError, usageError } from "./UsageErrors.js"

export const planCommand = Command.make(
  "plan",
  {
    manifest: Args.text({ name: "MANIFEST" }).pipe(Args.withDescription("the YAML manifest to check and expand")),
    only: Options.text("only").pipe(
      Options.withDescription("show only jobs whose id matches this glob (* and ?); repeatable"),
      Options.repeated
    )
  },
  (args) =>
    Effect.gen(function* () {
      const loaded = yield* loadManifest(args.manifest)
      const { jobs, unmatched } = filterJobs(yield* expandJobs(loaded), args.only)
      if (unmatched.length > 0) {
        return yield* usageError(`--only ${unmatched.map((p) => JSON.stringify(p)).join(", ")} matches no job of ${args.manifest}`)
      }
      yield* Console.log(renderPlan(jobs))
    }).pipe(
      Effect.catchTags({
        ManifestInvalid: reportManifestProblem,
        ManifestUnreadable: reportManifestProblem,
        UsageError: reportUsageError
      })
    )
).pipe(
  Command.withDescription(
    "Validate MANIFEST and print the jobs it expands to (id, seed, duration, resolution, aspect) with totals. Sends nothing. Seeds marked * are drawn anew on each run."
  )
)
