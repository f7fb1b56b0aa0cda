import { Options } from "@effect/cli"
import { Effect } from "effect"
import type { Job } from "../domain/Job.js"
import { expandJobs, freshSeedBase } from "../manifest/JobExpansion.js"
import { filterJobs } from "../manifest/JobFilter.js"
import { loadManifest } from "../manifest/ManifestLoader.js"
import { usageError } from "./UsageErrors.js"

/** `--only GLOB`, repeatable; `verb` says what the command does with the jobs it keeps. */
export const onlyFlag = (verb: string) =>
  Options.text("only").pipe(
    Options.withDescription(`${verb} only jobs whose id matches this glob (* and ?); repeatable`),
    Options.repeated
  )

/** The jobs `--only` keeps; a pattern that matches no job of `source` is a usage error. */
export const onlyJobs = (jobs: ReadonlyArray<Job>, only: ReadonlyArray<string>, source: string) => {
  const kept = filterJobs(jobs, only)
  return kept.unmatched.length > 0
    ? usageError(`--only ${kept.unmatched.map((p) => JSON.stringify(p)).join(", ")} matches no job of ${source}`)
    : Effect.succeed(kept.jobs)
}

/** `--reseed` (run, plan): a fresh seed_base instead of the manifest's. */
export const reseedFlag = Options.boolean("reseed").pipe(
  Options.withDescription(
    "derive the seeds the manifest leaves open from a fresh random seed_base instead of the manifest's (it is printed; the seeds are journaled and reported)"
  )
)

/** The manifest's jobs, narrowed by `--only`; `reseedBase` is the fresh seed_base under `--reseed`. */
export const selectJobs = (file: string, only: ReadonlyArray<string>, reseed = false) =>
  Effect.gen(function*() {
    const loaded = yield* loadManifest(file)
    const reseedBase = reseed ? yield* freshSeedBase : undefined
    const jobs = yield* onlyJobs(
      yield* expandJobs(loaded, reseedBase === undefined ? {} : { seedBase: reseedBase }),
      only,
      file
    )
    return { loaded, jobs, reseedBase }
  })
