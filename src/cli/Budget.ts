import { Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { estimateCost, formatUsd, type ObservedCosts, type PricedParams } from "../segmind/ModelCatalog.js"
import { usageError } from "./UsageErrors.js"

/** `--max-jobs` / `--max-cost`, taken by every command that sends jobs (`run`, `resume`, `replay`). */
export const budgetFlags = {
  maxJobs: Options.integer("max-jobs").pipe(
    Options.withDescription(
      "refuse (exit 2, nothing sent) if more than N jobs would be sent to the API: on resume, the jobs it would submit or submit again; videos reused or already rendered do not count (default: none; run without it still refuses more than 1000 jobs, reused or not)"
    ),
    Options.optional
  ),
  maxCost: Options.float("max-cost").pipe(
    Options.withDescription(
      "refuse (exit 2, nothing sent) if the jobs to send are estimated above this many US dollars: each priced by its duration, resolution and audio, or at what the API billed for such a job in the run (or the replayed one); default: no limit"
    ),
    Options.optional
  )
}

export interface Budget {
  readonly maxJobs: Option.Option<number>
  readonly maxCost: Option.Option<number>
}

export const hasBudget = (budget: Budget): boolean => Option.isSome(budget.maxJobs) || Option.isSome(budget.maxCost)

/** The jobs a command would send, and what to call them in its refusal. */
export interface OutgoingJobs {
  readonly jobs: ReadonlyArray<{ readonly params: PricedParams }>
  /** "render" for a new run or a replay, "submit" for a resume */
  readonly verb: string
  /** e.g. "4 reused": jobs that need nothing sent, said beside the count */
  readonly spared?: string
  readonly model: string
  /** what the API billed per class of job, where the run (or the replayed one) knows */
  readonly observed?: ObservedCosts
}

/** Refuses, before anything is sent, a command whose outgoing jobs exceed `--max-jobs` or `--max-cost`. */
export const withinBudget = (budget: Budget, outgoing: OutgoingJobs) =>
  Effect.gen(function*() {
    if (!hasBudget(budget)) return
    const n = outgoing.jobs.length
    const costUsd = estimateCost(outgoing.jobs, outgoing.model, outgoing.observed)
    const what = `${n} job${n === 1 ? "" : "s"} to ${outgoing.verb}${
      outgoing.spared === undefined ? "" : ` (${outgoing.spared})`
    }, about ${formatUsd(costUsd)}`
    if (Option.isSome(budget.maxJobs) && n > budget.maxJobs.value) {
      return yield* usageError(`refused: ${what}, over --max-jobs ${budget.maxJobs.value}; nothing was sent`)
    }
    if (Option.isSome(budget.maxCost) && costUsd > budget.maxCost.value) {
      return yield* usageError(`refused: ${what}, over --max-cost ${formatUsd(budget.maxCost.value)}; nothing was sent`)
    }
  })
