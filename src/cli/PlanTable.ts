import { Duration } from "effect"
import { adaptiveAspect } from "../domain/AdaptiveAspect.js"
import type { Job } from "../domain/Job.js"
import { budgetConcurrency, jobsPerMinute } from "../pipeline/BudgetConcurrency.js"
import { formatDuration } from "../report/DurationFormat.js"
import {
  API_CALLS_PER_JOB,
  estimateJobCost,
  formatUsd,
  MODEL_CATALOG,
  type RunEstimate
} from "../segmind/ModelCatalog.js"
import { displayPath } from "./DisplayPath.js"
import type { PlannedJob } from "./ReuseLookup.js"

/** What `shotlist plan` found: the jobs, which of them an earlier run supplies, and the estimate of the rest. */
export interface Plan {
  /** the manifest file, as given */
  readonly manifest: string
  readonly name: string
  readonly model: string
  readonly concurrency: number
  readonly rpm: number
  readonly jobs: ReadonlyArray<PlannedJob>
  /** each local frame's pixel size, by absolute path: the shape an `adaptive` job takes */
  readonly frameImages?: ReadonlyMap<string, { readonly width: number; readonly height: number }>
  /** of the jobs to render, not of the reused ones */
  readonly estimate: RunEstimate
  /** per follower shot, the job whose last frame it opens on (and who picked it) */
  readonly links?: ReadonlyArray<string>
}

/** A job's estimated price in the plan: nothing when an earlier video is reused. */
export const plannedCost = (plan: Plan, { job, reusedFrom }: PlannedJob): number =>
  reusedFrom === undefined ? estimateJobCost(job.params, plan.model) : 0

export const planTotals = (plan: Plan) => {
  const reused = plan.jobs.filter((entry) => entry.reusedFrom !== undefined).length
  return {
    jobs: plan.jobs.length,
    shots: new Set(plan.jobs.map(({ job }) => job.shot)).size,
    videoSeconds: plan.jobs.reduce((sum, { job }) => sum + job.params.duration, 0),
    reused,
    toRender: plan.jobs.length - reused
  }
}

/** Rows a plan prints; past them it counts the rest, which `--only` shows. */
const PLAN_ROWS = 1000

/** Where a job's seed comes from: written on the shot or in defaults, listed in its sweep, or derived from seed_base. */
const seedOrigin = (job: Job): string => job.sweep?.seed !== undefined ? "swept" : job.seedDrawn ? "derived" : "given"

/** The aspect a job renders in: an `adaptive` one says which shape its first frame gives it. */
const aspectOf = (plan: Plan, job: Job): string => {
  const frame = job.firstFrame?._tag === "File" ? plan.frameImages?.get(job.firstFrame.absolutePath) : undefined
  return job.params.aspect_ratio === "adaptive" && frame !== undefined
    ? `adaptive → ${adaptiveAspect(frame)}`
    : job.params.aspect_ratio
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`

/** Where a reused video comes from: the earlier run's directory, and its job when the id changed. */
const reuseSource = ({ job, reusedFrom }: PlannedJob): string =>
  reusedFrom === undefined
    ? ""
    : `reused from ${displayPath(reusedFrom.runDirectory)}${
      reusedFrom.jobId === job.id ? "" : ` (${reusedFrom.jobId})`
    }`

/** The jobs of a plan as an aligned text table, then totals and the estimate. */
export const renderPlan = (plan: Plan): string => {
  const totals = planTotals(plan)
  const header = [
    "id",
    "seed",
    "seed is",
    "duration",
    "resolution",
    "aspect",
    "audio",
    "cost",
    ...(totals.reused > 0 ? ["earlier video"] : [])
  ]
  const rows = plan.jobs.slice(0, PLAN_ROWS).map((entry) => [
    entry.job.id,
    String(entry.job.seed),
    seedOrigin(entry.job),
    `${entry.job.params.duration} s`,
    entry.job.params.resolution,
    aspectOf(plan, entry.job),
    entry.job.params.generate_audio ? "yes" : "no",
    entry.reusedFrom === undefined ? formatUsd(plannedCost(plan, entry)) : "-",
    ...(totals.reused > 0 ? [reuseSource(entry)] : [])
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()
  const drawn = plan.jobs.some(({ job }) => job.seedDrawn)
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    ...(plan.jobs.length > rows.length
      ? [`… ${plan.jobs.length - rows.length} more jobs (show them with --only)`]
      : []),
    "",
    `${plural(totals.jobs, "job")} from ${plural(totals.shots, "shot")}, ${totals.videoSeconds} s of video`,
    ...(totals.reused > 0
      ? [`${plural(totals.reused, "job")} reused from earlier runs at no cost, ${totals.toRender} to render`]
      : []),
    ...(drawn ? ["derived: from the manifest's seed_base and the job's id; every run sends these seeds"] : []),
    ...(plan.links ?? []),
    ...estimateLines(plan)
  ].join("\n")
}

const estimateLines = ({ concurrency, estimate, model, rpm }: Plan): ReadonlyArray<string> => {
  const info = MODEL_CATALOG[model]
  const basis = estimate.known && info !== undefined
    ? `priced per job: ${info.priceBasis}; ~${info.typicalLatencySeconds} s per generation`
    : `${model} is not in shotlist's price table; Seedance 1.5 Pro's figures stand in`
  return [
    `estimate: ${formatUsd(estimate.costUsd)} for ${plural(estimate.jobs, "job")}, about ${
      formatDuration(estimate.wallSeconds * 1000, "rough")
    } at concurrency ${concurrency} and ${rpm} API calls/min (${basis})`,
    ...(estimate.limitedBy === "rpm"
      ? [
        `the request budget sets the pace: a job takes at least ${API_CALLS_PER_JOB} calls, so ${rpm} calls/min admit ${
          Math.round((rpm / API_CALLS_PER_JOB) * 10) / 10
        } jobs a minute (--rpm, or the manifest's rpm:)`
      ]
      : []),
    budgetLine(rpm, info?.typicalLatencySeconds ?? 100)
  ]
}

/** What the budget allows, and the concurrency that keeps it busy with the model's typical generation. */
const budgetLine = (rpm: number, typicalSeconds: number): string =>
  `the budget admits ~${Math.round(jobsPerMinute(rpm))} jobs a minute; concurrency ${
    budgetConcurrency(rpm, Duration.seconds(typicalSeconds))
  } keeps it busy`
