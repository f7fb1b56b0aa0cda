import { Duration } from "effect"
import { adaptiveAspect } from "../domain/AdaptiveAspect.js"
import type { Job } from "../domain/Job.js"
import type { SegmindPlan } from "../domain/SegmindPlan.js"
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
  /** the Segmind plan whose limit `rpm` is; none when an rpm was written */
  readonly segmindPlan?: SegmindPlan | undefined
  /** the mean generation time a run would first expect of the jobs to render (0: none to render) */
  readonly expectedSeconds?: number
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

const estimateLines = (plan: Plan): ReadonlyArray<string> => {
  const { concurrency, estimate, model, rpm } = plan
  const info = MODEL_CATALOG[model]
  const typicalSeconds = info?.typicalLatencySeconds ?? 100
  const expectedSeconds = plan.expectedSeconds === undefined || plan.expectedSeconds === 0
    ? typicalSeconds
    : Math.round(plan.expectedSeconds)
  const basis = estimate.known && info !== undefined
    ? `priced per job: ${info.priceBasis}; ~${expectedSeconds} s per generation`
    : `${model} is not in shotlist's price table; Seedance 1.5 Pro's figures stand in`
  return [
    `estimate: ${formatUsd(estimate.costUsd)} for ${plural(estimate.jobs, "job")}, about ${
      formatDuration(estimate.wallSeconds * 1000, "rough")
    } at concurrency ${concurrency} and ${rpm} API calls/min (${basis}); ${
      estimate.limitedBy === "rpm" ? "the request budget sets the pace" : "generations set the pace"
    }`,
    ...budgetLines(plan, expectedSeconds)
  ]
}

/** What the budget allows: whose limit it is, the jobs a minute it admits, the calls these jobs need, the concurrency that keeps it busy. */
const budgetLines = ({ estimate, rpm, segmindPlan }: Plan, expectedSeconds: number): ReadonlyArray<string> => {
  const calls = estimate.jobs * API_CALLS_PER_JOB
  const whose = segmindPlan === undefined
    ? "as rpm says"
    : `the ${segmindPlan} plan's limit`
  return [
    `request budget: ${rpm} API calls/min, ${whose} (--plan free|pro, or --rpm N): a job takes at least ${API_CALLS_PER_JOB} calls, so it admits ~${
      Math.round(jobsPerMinute(rpm) * 10) / 10
    } jobs a minute`,
    `${plural(estimate.jobs, "job")} to render: at least ${plural(calls, "call")}, ${
      formatDuration(Math.ceil((calls * 60) / rpm) * 1000, "rough")
    } of budget; at ~${expectedSeconds} s a generation, ${
      busyWith(estimate.jobs, budgetConcurrency(rpm, Duration.seconds(expectedSeconds)))
    } the budget busy`
  ]
}

/** The jobs in flight that keep the budget busy, said of a run of `jobs`: past them, all at once. */
const busyWith = (jobs: number, concurrency: number): string =>
  jobs > 0 && jobs <= concurrency ? `all ${jobs} at once would not keep` : `concurrency ${concurrency} keeps`
