import { Schema } from "effect"
import { SeedanceParams } from "./SeedanceParams.js"

/** A value a sweep varies; ids print it, the report keeps it as is. */
export const SweepValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean)
export type SweepValue = typeof SweepValue.Type

/**
 * A frame image given in the manifest: an https URL sent as is, or a local
 * file (resolved against the manifest's folder) that is uploaded first.
 */
export const FrameSource = Schema.Union(
  Schema.TaggedStruct("Url", { url: Schema.String }),
  Schema.TaggedStruct("File", {
    /** as written in the manifest */
    path: Schema.String,
    /** absolute path on this machine */
    absolutePath: Schema.String
  })
)
export type FrameSource = typeof FrameSource.Type

/** One render: a shot, or one combination of its sweep, or one of its takes. */
export const Job = Schema.Struct({
  /** deterministic, unique, stable across runs and safe as a file name */
  id: Schema.String,
  shot: Schema.String,
  /** the sweep combination this job renders, in the sweep's key order */
  sweep: Schema.optional(Schema.Record({ key: Schema.String, value: SweepValue })),
  /** 1-based take number when the shot has `takes` */
  take: Schema.optional(Schema.Int),
  seed: Schema.Int,
  /** true when the manifest gave no seed: shotlist derived it from the seed base and the job id */
  seedDrawn: Schema.Boolean,
  /**
   * The body to submit. `first_frame_url`/`last_frame_url` are set here for
   * URL frames; local frames are uploaded by the pipeline and filled in then.
   */
  params: SeedanceParams,
  firstFrame: Schema.optional(FrameSource),
  /** `first_frame: {from: SHOT}`: the job opens on the last frame of this job's video, extracted when it is done */
  firstFrameFrom: Schema.optional(Schema.Struct({ shot: Schema.String, job: Schema.String })),
  lastFrame: Schema.optional(FrameSource)
})
export type Job = typeof Job.Type
