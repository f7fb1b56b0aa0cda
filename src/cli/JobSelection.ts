import { Options } from "@effect/cli"
import { Effect } from "effect"
import type { Job } from "../domain/Job.js"
import { expandJobs, freshSeedBase } from "../manifest/JobExpansion.js"
import { filterJobs } from "../manifest/JobFilter.js"
import { loadManifest } from "../manifest/ManifestLoader.js"
import { linksNeedPicks, refuseUnpickedLinks } from "../manifest/ShotLinks.js"
import type { PicksSource } from "./LinkPicks.js"
import { usageError } from "./UsageErrors.js"

/** `--only GLOB`, repeatable; `verb` says what the command does with the jobs it keeps. */
export const onlyFlag = (verb: string) =>
  Options.text("only").pipe(
    Options.withDescription(
      `${verb} only the jobs whose id, or whose shot's id, matches this glob (* and ?): --only driver takes every job of shot driver; repeatable (default: every job)`
    ),
    Options.repeated
  )

/** Past this many jobs, an `--only` that matched nothing lists the shots rather than every job id. */
const LISTED_JOBS = 12
/** ...and past this many shots, the first ones and how many more. */
const LISTED_SHOTS = 20

/** A pattern keeps the jobs whose id matches it, and every job of a shot whose id matches it. */
const keptBy = (jobs: ReadonlyArray<Job>, pattern: string): ReadonlySet<Job> => {
  const byId = filterJobs(jobs, [pattern]).jobs
  const shots = new Set(filterJobs(jobs.map((job) => ({ ...job, id: job.shot })), [pattern]).jobs.map((job) => job.id))
  return new Set([...byId, ...jobs.filter((job) => shots.has(job.shot))])
}

/** What there is to choose from, for the message of an `--only` that matched nothing. */
const choices = (jobs: ReadonlyArray<Job>): string => {
  if (jobs.length <= LISTED_JOBS) return `its jobs: ${jobs.map((job) => job.id).join(", ")}`
  const counts = new Map<string, number>()
  for (const job of jobs) counts.set(job.shot, (counts.get(job.shot) ?? 0) + 1)
  const shots = [...counts].map(([shot, n]) => `${shot} (${n} job${n === 1 ? "" : "s"})`)
  const more = shots.length - LISTED_SHOTS
  return `its shots: ${shots.slice(0, LISTED_SHOTS).join(", ")}${more > 0 ? ` and ${more} more` : ""}`
}

/** The jobs `--only` keeps, in their order; a pattern that matches no job of `source` is a usage error. */
export const onlyJobs = (jobs: ReadonlyArray<Job>, only: ReadonlyArray<string>, source: string) => {
  if (only.length === 0) return Effect.succeed(jobs)
  const kept = only.map((pattern) => ({ pattern, jobs: keptBy(jobs, pattern) }))
  const unmatched = kept.filter((entry) => entry.jobs.size === 0).map((entry) => entry.pattern)
  return unmatched.length > 0
    ? usageError(
      `--only ${unmatched.map((p) => JSON.stringify(p)).join(", ")} matches no job of ${source}; ${choices(jobs)}`
    )
    : Effect.succeed(jobs.filter((job) => kept.some((entry) => entry.jobs.has(job))))
}

/** `--reseed` (run, plan): a fresh seed_base instead of the manifest's. */
export const reseedFlag = Options.boolean("reseed").pipe(
  Options.withDescription(
    "derive the seeds the manifest leaves open from a fresh random seed_base instead of the manifest's (it is printed; the seeds are journaled and reported; default: off)"
  )
)

/**
 * The manifest's jobs, narrowed by `--only`; `reseedBase` is the fresh
 * seed_base under `--reseed`. A link to a shot of several videos follows the
 * pick `picksSource` finds; a selected one without is a manifest error.
 */
export const selectJobs = (
  file: string,
  only: ReadonlyArray<string>,
  options: { readonly reseed?: boolean; readonly picks?: PicksSource } = {}
) =>
  Effect.gen(function*() {
    const loaded = yield* loadManifest(file)
    const reseedBase = options.reseed === true ? yield* freshSeedBase : undefined
    const picks = options.picks !== undefined && linksNeedPicks(loaded.manifest)
      ? yield* options.picks(loaded.manifest)
      : undefined
    const jobs = yield* onlyJobs(
      yield* expandJobs(loaded, {
        ...(reseedBase === undefined ? {} : { seedBase: reseedBase }),
        ...(picks === undefined ? {} : { picks: picks.jobs })
      }),
      only,
      file
    )
    yield* refuseUnpickedLinks(loaded, jobs, picks)
    return { loaded, jobs, reseedBase, picks }
  })
