import type { SweepValue } from "../domain/Job.js"
import type { JobReport } from "../domain/JobReport.js"

/** One key a shot sweeps, with its values in the order the jobs list them. */
export interface SweepAxis {
  readonly key: string
  readonly values: ReadonlyArray<SweepValue>
}

/** One grid of a shot: `cells[row][column]` holds that combination's jobs, its takes side by side. */
export interface ShotGrid {
  /** the values of the axes past the second that every job of this grid has */
  readonly fixed: ReadonlyArray<readonly [string, SweepValue]>
  readonly cells: ReadonlyArray<ReadonlyArray<ReadonlyArray<JobReport>>>
}

/**
 * How a shot's variants are laid out: the first swept key down the rows, the
 * second across the columns (a single key goes across), one grid for each
 * combination of the keys past the second, takes side by side in a cell.
 */
export interface ShotLayout {
  readonly shot: string
  readonly rows: SweepAxis | undefined
  readonly columns: SweepAxis | undefined
  /** the keys past the second: one grid per combination of their values */
  readonly groups: ReadonlyArray<SweepAxis>
  readonly grids: ReadonlyArray<ShotGrid>
  /** the most jobs a cell holds: the sub-columns under each column head */
  readonly width: number
  /** every job of the shot once, grid by grid, row by row: the order of next/previous variant */
  readonly jobs: ReadonlyArray<JobReport>
}

/** Shots in order of first appearance, each with its jobs in report order. */
export const storyboard = (
  jobs: ReadonlyArray<JobReport>
): ReadonlyArray<readonly [string, ReadonlyArray<JobReport>]> => {
  const shots = new Map<string, Array<JobReport>>()
  for (const job of jobs) {
    const same = shots.get(job.shot)
    if (same === undefined) shots.set(job.shot, [job])
    else same.push(job)
  }
  return [...shots.entries()]
}

/** The swept keys in the order the jobs give them, each with its values; none unless every job has every key. */
export const sweepAxes = (jobs: ReadonlyArray<JobReport>): ReadonlyArray<SweepAxis> => {
  const axes = new Map<string, Array<SweepValue>>()
  for (const job of jobs) {
    for (const [key, value] of Object.entries(job.sweep ?? {})) {
      const values = axes.get(key) ?? []
      if (!values.includes(value)) values.push(value)
      axes.set(key, values)
    }
  }
  // A job without one of the keys has no place in the grid: lay the shot out flat instead.
  const complete = jobs.every((job) => [...axes.keys()].every((key) => job.sweep !== undefined && key in job.sweep))
  return complete ? [...axes.entries()].map(([key, values]) => ({ key, values })) : []
}

/** Every combination of the axes' values, the first axis varying slowest. */
const combinations = (
  axes: ReadonlyArray<SweepAxis>
): ReadonlyArray<ReadonlyArray<readonly [string, SweepValue]>> =>
  axes.reduce<ReadonlyArray<ReadonlyArray<readonly [string, SweepValue]>>>(
    (partial, axis) => partial.flatMap((combo) => axis.values.map((value) => [...combo, [axis.key, value] as const])),
    [[]]
  )

const hasValues = (job: JobReport, values: ReadonlyArray<readonly [string, SweepValue]>) =>
  values.every(([key, value]) => job.sweep?.[key] === value)

const byTake = (a: JobReport, b: JobReport) => (a.take ?? 0) - (b.take ?? 0)

/** The rows × columns (× groups) layout of one shot's jobs; every job lands in exactly one cell. */
export const shotLayout = (shot: string, jobs: ReadonlyArray<JobReport>): ShotLayout => {
  const axes = sweepAxes(jobs)
  const [rows, columns] = axes.length === 1 ? [undefined, axes[0]] : [axes[0], axes[1]]
  const groups = axes.slice(2)
  const grids = combinations(groups).flatMap((fixed): ReadonlyArray<ShotGrid> => {
    const inGroup = jobs.filter((job) => hasValues(job, fixed))
    // Each job put in its cell in one pass: filtering the group once per cell made a 10,000-seed sheet quadratic.
    const byCell = new Map<SweepValue | undefined, Map<SweepValue | undefined, Array<JobReport>>>()
    for (const job of inGroup) {
      const rowValue = rows === undefined ? undefined : job.sweep?.[rows.key]
      const columnValue = columns === undefined ? undefined : job.sweep?.[columns.key]
      const row = byCell.get(rowValue) ?? new Map<SweepValue | undefined, Array<JobReport>>()
      byCell.set(rowValue, row)
      const cell = row.get(columnValue)
      if (cell === undefined) row.set(columnValue, [job])
      else cell.push(job)
    }
    const cellOf = (rowValue: SweepValue | undefined) => (columnValue: SweepValue | undefined) =>
      [...(byCell.get(rowValue)?.get(columnValue) ?? [])].sort(byTake)
    const rowValues = rows === undefined ? [undefined] : rows.values
    const columnValues = columns === undefined ? [undefined] : columns.values
    const cells = rowValues.map((rowValue) => columnValues.map(cellOf(rowValue)))
    return inGroup.length === 0 ? [] : [{ fixed, cells }]
  })
  const ordered = grids.flatMap((grid) => grid.cells.flat(2))
  return {
    shot,
    rows,
    columns,
    groups,
    grids,
    width: Math.max(1, ...grids.flatMap((grid) => grid.cells.flat().map((cell) => cell.length))),
    jobs: ordered
  }
}

/** `seed=11 camera_fixed=true`: a sweep combination as it reads in a head or a card. */
export const sweepText = (values: ReadonlyArray<readonly [string, SweepValue]>): string =>
  values.map(([key, value]) => `${key}=${String(value)}`).join(" ")
