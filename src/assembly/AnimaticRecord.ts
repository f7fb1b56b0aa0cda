import type { Path } from "@effect/platform"
import { Schema } from "effect"

export const ANIMATIC_SCHEMA_VERSION = 1

/** One shot's stretch of the animatic. */
export const AnimaticPart = Schema.Struct({
  shot: Schema.String,
  /** the take shown; absent for a black card */
  job: Schema.optional(Schema.String),
  /** the take's video, relative to the run directory; absent for a black card */
  source: Schema.optional(Schema.String),
  /** `picked`, `only take`, `first of N completed`, or why the shot is a black card */
  choice: Schema.String,
  card: Schema.Boolean,
  startSeconds: Schema.Number,
  /** as measured in the take's file, or as the shot asked for a black card */
  durationSeconds: Schema.Number
})
export type AnimaticPart = typeof AnimaticPart.Type

/** `RUN_DIR/animatic.json`: what `shotlist assemble` joined, and the file it verified. */
export const AnimaticRecord = Schema.Struct({
  schemaVersion: Schema.Literal(ANIMATIC_SCHEMA_VERSION),
  run: Schema.String,
  createdAt: Schema.String,
  /** the picks file that chose takes, when one did */
  picks: Schema.optional(Schema.String),
  output: Schema.Struct({
    /** relative to the run directory */
    path: Schema.String,
    bytes: Schema.Number,
    sha256: Schema.String,
    width: Schema.Int,
    height: Schema.Int,
    framesPerSecond: Schema.Number,
    /** as the finished file says */
    durationSeconds: Schema.Number,
    /** labels drawn on the picture, or carried as a subtitle track where ffmpeg has no font */
    labels: Schema.optional(Schema.Literal("drawtext", "subtitles"))
  }),
  /** the sum of the parts' durations */
  totalSeconds: Schema.Number,
  parts: Schema.Array(AnimaticPart)
})
export type AnimaticRecord = typeof AnimaticRecord.Type

export const encodeAnimaticRecord = Schema.encodeSync(Schema.parseJson(AnimaticRecord, { space: 2 }))
export const decodeAnimaticRecord = Schema.decodeUnknown(Schema.parseJson(AnimaticRecord))

/** The run directory's animatic files: the default video, and the record beside the report. */
export const animaticFiles = (path: Path.Path, runDirectory: string) => ({
  video: path.join(runDirectory, "animatic.mp4"),
  record: path.join(runDirectory, "animatic.json"),
  picks: path.join(runDirectory, "picks.yaml")
})
