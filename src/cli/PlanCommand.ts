import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { SEEDANCE_MODEL } from "../domain/SeedanceParams.js"
import { estimateRun } from "../segmind/ModelCatalog.js"
import { onlyFlag, reseedFlag, selectJobs } from "./JobSelection.js"
import { renderPlan } from "./PlanTable.js"
import { DEFAULT_CONCURRENCY } from "./RunSettings.js"
import { usageError, usageProblems } from "./UsageErrors.js"

export const planCommand = Command.make(
  "plan",
  {
    manifest: Args.text({ name: "MANIFEST" }).pipe(Args.withDescription("the YAML manifest to check and expand")),
    only: onlyFlag("show"),
    reseed: reseedFlag,
    concurrency: Options.integer("concurrency").pipe(
      Options.withDescription(
        `jobs in flight at once, for the wall-time estimate (default: the manifest's, else ${DEFAULT_CONCURRENCY})`
      ),
      Options.optional
    )
  },
  (args) =>
    Effect.gen(function*() {
      const { jobs, loaded, reseedBase } = yield* selectJobs(args.manifest, args.only, args.reseed)
      const model = loaded.manifest.model ?? SEEDANCE_MODEL
      const concurrency = Option.getOrElse(args.concurrency, () => loaded.manifest.concurrency ?? DEFAULT_CONCURRENCY)
      if (concurrency < 1) return yield* usageError(`--concurrency must be at least 1 (got ${concurrency})`)
      yield* Console.log(renderPlan(jobs, { model, concurrency, run: estimateRun(jobs, model, concurrency) }))
      if (reseedBase !== undefined) {
        yield* Console.log(
          `--reseed: seed_base ${reseedBase} (a run --reseed draws its own); write \`seed_base: ${reseedBase}\` in the manifest to render these seeds again`
        )
      }
    }).pipe(Effect.catchTags(usageProblems))
).pipe(
  Command.withDescription(
    "Validate MANIFEST and print the jobs it expands to (id, seed, duration, resolution, aspect) with totals, estimated cost and wall time. Sends nothing. A seed is given (by the manifest), swept, or derived from the manifest's seed_base and the job's id: the seeds `run` sends; --reseed shows fresh ones."
  )
)
