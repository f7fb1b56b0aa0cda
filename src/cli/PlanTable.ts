import type { Job } from "../manifest/Job.js"

/** The jobs of a plan as an aligned text table, then totals. */
export const renderPlan = (jobs: ReadonlyArray<Job>): string => {
  const header = ["id", "seed", "duration", "resolution", "aspect", "audio"]
  const rows = jobs.map((job) => [
    job.id,
    `${job.seed}${job.seedDrawn ? "*" : ""}`,
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
    "",
    `${jobs.length} job${jobs.length === 1 ? "" : "s"} from ${shots} shot${shots === 1 ? "" : "s"}, ${seconds} s of video`,
    ...(drawn ? ["* seed drawn by shotlist; a run draws its own and records it in the journal and report"] : [])
  ].join("\n")
}
