import { Options } from "@effect/cli"
import { Effect } from "effect"
import type { Job } from "../domain/Job.js"
import { localFrameDigests, paramsKeyOf, type ReuseCandidate, type ReuseIndex } from "../pipeline/ReuseCache.js"

/** `--no-reuse` and `--reuse-from`, taken by `run` and by `plan`, which shows what a run would reuse. */
export const reuseFlags = {
  noReuse: Options.boolean("no-reuse").pipe(
    Options.withDescription(
      "render every job, even one whose model and exact body (seed included) match a verified video of an earlier run under the output root; by default that video is linked in instead, at no cost"
    )
  ),
  reuseFrom: Options.directory("reuse-from").pipe(
    Options.withDescription(
      "the output root whose earlier runs may be reused (default: output/, or the folder above --out)"
    ),
    Options.optional
  )
}

/** A job, with the verified video of an earlier run it would take instead of rendering. */
export interface PlannedJob {
  readonly job: Job
  readonly reusedFrom: ReuseCandidate | undefined
}

/** Which jobs would be reused: the pipeline's own key lookup, made before anything is sent. */
export const lookUpReuse = (jobs: ReadonlyArray<Job>, model: string, reuse: ReuseIndex) =>
  Effect.forEach(jobs, (job) =>
    // A follower's key needs its source's last frame, known only once the source is rendered.
    reuse.size === 0 || job.firstFrameFrom !== undefined
      ? Effect.succeed<PlannedJob>({ job, reusedFrom: undefined })
      : localFrameDigests(job).pipe(
        // A frame that cannot be read has no key: the run itself will say what is wrong with it.
        Effect.orElseSucceed(() => ({})),
        Effect.map((digests): PlannedJob => ({ job, reusedFrom: reuse.find(paramsKeyOf(model, job, digests)) }))
      ))

/** The jobs of a plan that would really be rendered. */
export const toRender = (planned: ReadonlyArray<PlannedJob>): ReadonlyArray<Job> =>
  planned.filter((entry) => entry.reusedFrom === undefined).map((entry) => entry.job)
