import type { AspectRatio, Resolution } from "../segmind/SeedanceParams.js"
import type { SweepValue } from "./Job.js"

/** A frame as written: an http(s) URL or a path relative to the manifest. */
export type FrameRef = { readonly _tag: "Url"; readonly url: string } | { readonly _tag: "File"; readonly path: string; readonly absolutePath: string }

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

export const SWEEP_KEYS = ["seed", "duration", "resolution", "aspect_ratio", "camera_fixed", "generate_audio", "skip_moderation"] as const

export const SHOT_KEYS = ["id", ...SHOT_PARAM_KEYS, "sweep", "takes"] as const
export const TOP_KEYS = ["version", "name", "model", "concurrency", "rpm", "retry", "defaults", "shots"] as const
export const RETRY_KEYS = ["tries", "base", "cap"] as const
