import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { renderPlan } from "./PlanTable.js"
import { reportingUsageProblems, selectJobs } from "./UsageErrors.js"

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
      const { jobs } = yield* selectJobs(args.manifest, args.only)
      yield* Console.log(renderPlan(jobs))
    }).pipe(reportingUsageProblems)
).pipe(
  Command.withDescription(
    "Validate MANIFEST and print the jobs it expands to (id, seed, duration, resolution, aspect) with totals. Sends nothing. Seeds marked * are drawn anew on each run."
  )
)
