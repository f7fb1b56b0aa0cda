import type { Job } from "../domain/Job.js"
import { formatDuration } from "../report/DurationFormat.js"
import { formatUsd, MODEL_CATALOG, type RunEstimate } from "../segmind/ModelCatalog.js"

/** Rows a plan prints; past them it counts the rest, which `--only` shows. */
const PLAN_ROWS = 1000

/** Where a job's seed comes from: written on the shot or in defaults, listed in its sweep, or derived from seed_base. */
const seedOrigin = (job: Job): string => job.sweep?.seed !== undefined ? "swept" : job.seedDrawn ? "derived" : "given"

/** The jobs of a plan as an aligned text table (the first PLAN_ROWS), then totals. */
export const renderPlan = (
  jobs: ReadonlyArray<Job>,
  estimate: { readonly model: string; readonly concurrency: number; readonly run: RunEstimate }
): string => {
  const header = ["id", "seed", "seed is", "duration", "resolution", "aspect", "audio"]
  const rows = jobs.slice(0, PLAN_ROWS).map((job) => [
    job.id,
    String(job.seed),
    seedOrigin(job),
    `${job.params.duration} s`,
    job.params.resolution,
    job.params.aspect_ratio,
    job.params.generate_audio ? "yes" : "no"
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()
  const seconds = jobs.reduce((sum, job) => sum + job.params.duration, 0)
  const shots = new Set(jobs.map((job) => job.shot)).size
  const drawn = jobs.some((job) => job.seedDrawn)
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    ...(jobs.length > rows.length ? [`… ${jobs.length - rows.length} more jobs (show them with --only)`] : []),
    "",
    `${jobs.length} job${jobs.length === 1 ? "" : "s"} from ${shots} shot${
      shots === 1 ? "" : "s"
    }, ${seconds} s of video`,
    ...(drawn ? ["derived: from the manifest's seed_base and the job's id; every run sends these seeds"] : []),
    estimateLine(estimate)
  ].join("\n")
}

const estimateLine = (
  { concurrency, model, run }: { readonly model: string; readonly concurrency: number; readonly run: RunEstimate }
) => {
  const info = MODEL_CATALOG[model]
  const basis = run.known && info !== undefined
    ? `${formatUsd(info.usdPerGeneration)} and ~${info.typicalLatencySeconds} s per generation, Segmind's list figures`
    : `${model} is not in shotlist's price table; Seedance 1.5 Pro's figures stand in`
  return `estimate: ${formatUsd(run.costUsd)}, about ${
    formatDuration(run.wallSeconds * 1000, "rough")
  } at concurrency ${concurrency} (${basis}; videos reused from earlier runs cost nothing)`
}
