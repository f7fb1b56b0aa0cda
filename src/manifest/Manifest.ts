import type { SweepValue } from "../domain/Job.js"
import type { AspectRatio, Resolution } from "../domain/SeedanceParams.js"
import type { SegmindPlan } from "../domain/SegmindPlan.js"

/** A frame as written: an http(s) URL or a path relative to the manifest. */
export type FrameRef = { readonly _tag: "Url"; readonly url: string } | {
  readonly _tag: "File"
  readonly path: string
  readonly absolutePath: string
}

/** A first frame as written: a frame, or `{from: SHOT}`, the last frame of another shot's video. */
export type FirstFrameRef = FrameRef | { readonly _tag: "Shot"; readonly shot: string }

/** Fields a shot (or `defaults`) may set. */
export interface ShotFields {
  readonly prompt?: string
  readonly duration?: number
  readonly resolution?: Resolution
  readonly aspect_ratio?: AspectRatio
  readonly seed?: number
  readonly camera_fixed?: boolean
  readonly generate_audio?: boolean
  readonly skip_moderation?: boolean
  readonly first_frame?: FirstFrameRef
  readonly last_frame?: FrameRef
}

export interface Shot extends ShotFields {
  readonly id: string
  readonly prompt: string
  /** sweep key -> values, in the order written */
  readonly sweep?: ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>
  /** `sweep.prompt`: each variant's name (what the sweep lists) -> its prompt */
  readonly promptVariants?: ReadonlyMap<string, string>
  /** `sweep.first_frame`: each frame as written (what the sweep lists) -> the frame */
  readonly frameVariants?: ReadonlyMap<string, FrameRef>
  readonly takes?: number
}

/** A validated manifest (SPEC §3). */
export interface Manifest {
  readonly version: 1
  readonly name: string
  /** written `seed_base`, as text; without it seeds derive from `name` */
  readonly seedBase?: string
  readonly model: string
  readonly concurrency?: number
  /** the Segmind plan of the key: its limit is the run's rpm unless `rpm` says otherwise */
  readonly plan?: SegmindPlan
  readonly rpm?: number
  /** retry policy for transient errors: tries (first included), backoff base and cap in seconds */
  readonly retry?: { readonly tries?: number; readonly base?: number; readonly cap?: number }
  readonly defaults: ShotFields
  readonly shots: ReadonlyArray<Shot>
}

export const SHOT_PARAM_KEYS = [
  "prompt",
  "duration",
  "resolution",
  "aspect_ratio",
  "seed",
  "camera_fixed",
  "generate_audio",
  "skip_moderation",
  "first_frame",
  "last_frame"
] as const

export const SWEEP_KEYS = [
  "prompt",
  "seed",
  "duration",
  "resolution",
  "aspect_ratio",
  "camera_fixed",
  "generate_audio",
  "skip_moderation",
  "first_frame"
] as const

export const SHOT_KEYS = ["id", ...SHOT_PARAM_KEYS, "sweep", "takes"] as const
export const TOP_KEYS = [
  "version",
  "name",
  "seed_base",
  "model",
  "concurrency",
  "plan",
  "rpm",
  "retry",
  "defaults",
  "shots"
] as const
export const RETRY_KEYS = ["tries", "base", "cap"] as const

/** A shot id: safe in a job id and a file name. */
export const SHOT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/
export const SHOT_ID_MAX_LENGTH = 64
/** A run name: one plain folder name, never `..`. */
export const RUN_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]*$/
/** The longest component a file system takes, in bytes. */
const FILE_NAME_MAX_BYTES = 255
/** `20261125T101500Z`, the run's folder under `output/<name>/`. */
const RUN_STAMP_LENGTH = 16
/** A run name, in bytes (its characters are ASCII): a file name less the time stamp beside it. */
export const RUN_NAME_MAX_BYTES = FILE_NAME_MAX_BYTES - RUN_STAMP_LENGTH
/** A job id, in bytes: `videos/<id>.mp4` and its download's `.<id>.mp4.<8 hex>.part` must fit a file name. */
export const JOB_ID_MAX_BYTES = FILE_NAME_MAX_BYTES - ".".length - ".mp4".length - ".12345678.part".length
/** Device names Windows reserves in every folder, in any case and with any extension. */
export const DEVICE_NAME = /^(?:CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(?:\..*)?$/i
/** DEVICE_NAME without the `i` flag, for JSON Schema, whose patterns have none. */
export const DEVICE_NAME_PATTERN = DEVICE_NAME.source.replace(
  /[A-Z]/g,
  (letter) => `[${letter}${letter.toLowerCase()}]`
)

/** Inclusive bounds of the numeric settings; `integer` says whether fractions are allowed. */
export const LIMITS = {
  concurrency: { min: 1, max: 64, integer: true },
  rpm: { min: 1, max: 10_000, integer: true },
  takes: { min: 1, max: 100, integer: true },
  tries: { min: 1, max: 20, integer: true },
  base: { min: 0.01, max: 60, integer: false },
  cap: { min: 0.01, max: 600, integer: false }
} as const
