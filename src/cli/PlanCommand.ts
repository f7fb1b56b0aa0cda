import { Args, Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Option } from "effect"
import { SEEDANCE_MODEL } from "../domain/SeedanceParams.js"
import { DEFAULT_PLAN, PLAN_RPM } from "../domain/SegmindPlan.js"
import { budgetMakespan } from "../pipeline/BudgetConcurrency.js"
import { DEFAULT_POLL } from "../pipeline/PollSchedule.js"
import { buildReuseIndex, emptyReuseIndex } from "../pipeline/ReuseCache.js"
import { estimateRun, type RunEstimate } from "../segmind/ModelCatalog.js"
import { apiOriginOfFlags } from "./ApiTarget.js"
import { onlyFlag, reseedFlag, selectJobs } from "./JobSelection.js"
import { followedLines, picksFlag, picksForRun } from "./LinkPicks.js"
import { planDocument } from "./PlanDocument.js"
import { type Plan, renderPlan } from "./PlanTable.js"
import { lookUpReuse, type PlannedJob, reuseFlags, toRender } from "./ReuseLookup.js"
import { DEFAULT_CONCURRENCY_TEXT, DEFAULT_RPM_TEXT, defaultConcurrency, planFlag, resolveRpm } from "./RunSettings.js"
import { usageError, usageProblems } from "./UsageErrors.js"

/** The mean generation a run would first expect of the jobs to render (the model's prior), in seconds. */
const expectedSeconds = (planned: ReadonlyArray<PlannedJob>): number => {
  const rendered = planned.filter((entry) => entry.reusedFrom === undefined)
  const seconds = rendered.map(({ job }) => Duration.toSeconds(DEFAULT_POLL.prior(job.params)))
  return seconds.length === 0 ? 0 : seconds.reduce((a, b) => a + b, 0) / seconds.length
}

/** The wall time of the estimate from these jobs' expected generations, not the model's one figure. */
const withExpectedTimes = (estimate: RunEstimate, concurrency: number, rpm: number, seconds: number): RunEstimate => {
  const makespan = budgetMakespan(estimate.jobs, concurrency, rpm, Duration.seconds(seconds))
  return { ...estimate, wallSeconds: makespan.seconds, limitedBy: makespan.limitedBy }
}

export const planCommand = Command.make(
  "plan",
  {
    manifest: Args.text({ name: "MANIFEST" }).pipe(Args.withDescription("the YAML manifest to check and expand")),
    only: onlyFlag("show"),
    reseed: reseedFlag,
    picks: picksFlag,
    concurrency: Options.integer("concurrency").pipe(
      Options.withDescription(
        `jobs in flight at once, for the wall-time estimate (default: the manifest's, else ${DEFAULT_CONCURRENCY_TEXT})`
      ),
      Options.optional
    ),
    rpm: Options.integer("rpm").pipe(
      Options.withDescription(
        `API calls per minute, for the wall-time estimate: a job takes at least 3 (default: the manifest's, else ${DEFAULT_RPM_TEXT})`
      ),
      Options.optional
    ),
    plan: planFlag,
    ...reuseFlags,
    emulator: Options.boolean("emulator").pipe(
      Options.withDescription(
        "show the reuse a run with --emulator would make (emulator videos only); without it, a run on the API's origin (off by default)"
      )
    ),
    baseUrl: Options.text("base-url").pipe(
      Options.withDescription(
        "the server whose earlier videos count as reusable, as run's --base-url (default: $SEGMIND_BASE_URL, else https://api.segmind.com)"
      ),
      Options.optional
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription(
        "print one JSON document on stdout: every job (id, seed, params, reusedFrom, estimatedCostUsd) and the totals (default: the table)"
      )
    )
  },
  (args) =>
    Effect.gen(function*() {
      const { jobs, loaded, picks, reseedBase } = yield* selectJobs(args.manifest, args.only, {
        reseed: args.reseed,
        picks: picksForRun(args.picks, Option.none())
      })
      const model = loaded.manifest.model ?? SEEDANCE_MODEL
      const rpm = resolveRpm(args, loaded.manifest, PLAN_RPM[DEFAULT_PLAN])
      // Where the rpm comes from: a plan (named, or the default) unless an rpm is written.
      const segmindPlan = Option.isSome(args.rpm)
        ? undefined
        : Option.getOrElse(
          args.plan,
          () => (loaded.manifest.rpm === undefined ? loaded.manifest.plan ?? DEFAULT_PLAN : undefined)
        )
      if (rpm < 1) return yield* usageError(`--rpm must be at least 1 (got ${rpm})`)
      const concurrency = Option.getOrElse(
        args.concurrency,
        () => loaded.manifest.concurrency ?? defaultConcurrency(rpm)
      )
      if (concurrency < 1) return yield* usageError(`--concurrency must be at least 1 (got ${concurrency})`)
      const reuseRoot = Option.getOrElse(args.reuseFrom, () => "output")
      // The root itself is no run directory: nothing is excluded; plan takes no API flags, so runs of every API count.
      const reuse = args.noReuse
        ? emptyReuseIndex
        : yield* buildReuseIndex(reuseRoot, reuseRoot, yield* apiOriginOfFlags(args.emulator, args.baseUrl))
      const planned = yield* lookUpReuse(jobs, model, reuse)
      const expected = expectedSeconds(planned)
      const plan: Plan = {
        manifest: args.manifest,
        name: loaded.manifest.name,
        model,
        concurrency,
        rpm,
        segmindPlan,
        expectedSeconds: expected,
        jobs: planned,
        frameImages: loaded.frameImages,
        links: followedLines(jobs, picks),
        estimate: withExpectedTimes(
          estimateRun(toRender(planned), { model, concurrency, rpm }),
          concurrency,
          rpm,
          expected
        )
      }
      yield* Console.log(args.json ? JSON.stringify(planDocument(plan), null, 2) : renderPlan(plan))
      if (reseedBase !== undefined && !args.json) {
        yield* Console.log(
          `--reseed: seed_base ${reseedBase} (a run --reseed draws its own); write \`seed_base: ${reseedBase}\` in the manifest to render these seeds again`
        )
      }
    }).pipe(Effect.catchTags(usageProblems))
).pipe(
  Command.withDescription(
    "Validate MANIFEST and print the jobs it expands to (id, seed, duration, resolution, aspect, audio, price), which of them an earlier run's verified video would supply and from where, and the estimated cost and wall time of the rest. Sends nothing. A seed is given (by the manifest), swept, or derived from the manifest's seed_base and the job's id: the seeds `run` sends; --reseed shows fresh ones. --json prints it as one JSON document."
  )
)
