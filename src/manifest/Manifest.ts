import type { SweepValue } from "../domain/Job.js"
import type { AspectRatio, Resolution } from "../domain/SeedanceParams.js"

/** A frame as written: an http(s) URL or a path relative to the manifest. */
export type FrameRef = { readonly _tag: "Url"; readonly url: string } | {
  readonly _tag: "File"
  readonly path: string
  readonly absolutePath: string
}

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
  readonly first_frame?: FrameRef
  readonly last_frame?: FrameRef
}

export interface Shot extends ShotFields {
  readonly id: string
  readonly prompt: string
  /** sweep key -> values, in the order written */
  readonly sweep?: ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>
  readonly takes?: number
}

/** A validated manifest (SPEC §3). */
export interface Manifest {
  readonly version: 1
  readonly name: string
  readonly model: string
  readonly concurrency?: number
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
  "seed",
  "duration",
  "resolution",
  "aspect_ratio",
  "camera_fixed",
  "generate_audio",
  "skip_moderation"
] as const

export const SHOT_KEYS = ["id", ...SHOT_PARAM_KEYS, "sweep", "takes"] as const
export const TOP_KEYS = ["version", "name", "model", "concurrency", "rpm", "retry", "defaults", "shots"] as const
export const RETRY_KEYS = ["tries", "base", "cap"] as const

/** A shot id: safe in a job id and a file name. */
export const SHOT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/
export const SHOT_ID_MAX_LENGTH = 64
/** A run name: one plain folder name, never `..`. */
export const RUN_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]*$/

/** Inclusive bounds of the numeric settings; `integer` says whether fractions are allowed. */
export const LIMITS = {
  concurrency: { min: 1, max: 64, integer: true },
  rpm: { min: 1, max: 10_000, integer: true },
  takes: { min: 1, max: 100, integer: true },
  tries: { min: 1, max: 20, integer: true },
  base: { min: 0.01, max: 60, integer: false },
  cap: { min: 0.01, max: 600, integer: false }
} as const
