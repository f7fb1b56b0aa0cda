import { Data, Either } from "effect"
import type { JobReport } from "../domain/JobReport.js"
import type { PicksFile } from "./PicksFile.js"

/** Why a take stands for its shot. */
export type TakeReason =
  | { readonly _tag: "Picked" }
  | { readonly _tag: "OnlyTake" }
  | { readonly _tag: "FirstCompleted"; readonly completed: number }

/** What a shot contributes to the animatic: one completed take, or a black card where none is. */
export type ShotChoice = Data.TaggedEnum<{
  Take: { readonly shot: string; readonly job: JobReport; readonly reason: TakeReason }
  Missing: { readonly shot: string; readonly durationSeconds: number; readonly why: string }
}>
export const ShotChoice = Data.taggedEnum<ShotChoice>()

/** Picks that name a shot or a job this run does not have, or a take that did not complete. */
export class PicksMismatch extends Data.TaggedError("PicksMismatch")<{
  readonly file: string
  readonly problems: ReadonlyArray<string>
}> {
  override get message() {
    return `${this.file} does not fit this run: ${this.problems.join("; ")}`
  }
}

/** Shots in storyboard order (first appearance in the report), each with its jobs in report order. */
export const shotsInOrder = (
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

const isCompleted = (job: JobReport) => job.status === "completed" && job.output !== undefined

/** `2 failed, 1 skipped`: what became of a shot's jobs, none of which completed. */
const outcomes = (jobs: ReadonlyArray<JobReport>): string => {
  const counts = new Map<string, number>()
  for (const job of jobs) {
    const status = job.status === "completed" ? "without video" : job.status
    counts.set(status, (counts.get(status) ?? 0) + 1)
  }
  return [...counts.entries()].map(([status, count]) => `${count} ${status}`).join(", ")
}

const pickProblems = (
  shots: ReadonlyArray<readonly [string, ReadonlyArray<JobReport>]>,
  picks: PicksFile["picks"]
): ReadonlyArray<string> => {
  const byShot = new Map(shots)
  return Object.entries(picks).flatMap(([shot, pick]) => {
    const jobs = byShot.get(shot)
    if (jobs === undefined) return [`shot ${shot} is not in this run`]
    const job = jobs.find((candidate) => candidate.id === pick.job)
    if (job === undefined) return [`shot ${shot}: ${pick.job} is not one of its takes`]
    if (!isCompleted(job)) return [`shot ${shot}: the picked take ${pick.job} has no video (${job.status})`]
    return []
  })
}

/**
 * One take per shot, in storyboard order: the pick, else the shot's only
 * completed take, else its first completed one; a shot with none is Missing,
 * as long as the first of its jobs asked for.
 */
export const chooseTakes = (
  jobs: ReadonlyArray<JobReport>,
  picks: { readonly file: string; readonly picks: PicksFile["picks"] } | undefined
): Either.Either<ReadonlyArray<ShotChoice>, PicksMismatch> => {
  const shots = shotsInOrder(jobs)
  const problems = picks === undefined ? [] : pickProblems(shots, picks.picks)
  if (picks !== undefined && problems.length > 0) return Either.left(new PicksMismatch({ file: picks.file, problems }))
  return Either.right(shots.map(([shot, takes]): ShotChoice => {
    const picked = picks !== undefined && Object.hasOwn(picks.picks, shot) ? picks.picks[shot]?.job : undefined
    const pickedJob = takes.find((job) => job.id === picked)
    if (pickedJob !== undefined) return ShotChoice.Take({ shot, job: pickedJob, reason: { _tag: "Picked" } })
    const completed = takes.filter(isCompleted)
    const [first] = completed
    if (first === undefined) {
      return ShotChoice.Missing({
        shot,
        durationSeconds: takes[0]?.params.duration ?? 0,
        why: `no completed take: ${outcomes(takes)}`
      })
    }
    const reason: TakeReason = completed.length === 1
      ? { _tag: "OnlyTake" }
      : { _tag: "FirstCompleted", completed: completed.length }
    return ShotChoice.Take({ shot, job: first, reason })
  }))
}

/** `picked`, `only take`, `first of 3 completed`. */
export const describeReason = (reason: TakeReason): string =>
  reason._tag === "Picked"
    ? "picked"
    : reason._tag === "OnlyTake"
    ? "only take"
    : `first of ${reason.completed} completed`
