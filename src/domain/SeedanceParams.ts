import { Schema } from "effect"

/** The model shotlist drives, as it appears in the submit path `/v2/{model}`. */
export const SEEDANCE_MODEL = "seedance-1.5-pro"

export const RESOLUTIONS = ["480p", "720p", "1080p"] as const
export const ASPECT_RATIOS = ["adaptive", "16:9", "4:3", "1:1", "3:4", "9:16"] as const

export const DURATION_MIN = 4
export const DURATION_MAX = 12
export const SEED_MIN = 1
export const SEED_MAX = 999_999
export const PROMPT_MAX_LENGTH = 2000
export const FRAMES_PER_SECOND = 24

/** The model's defaults (segmind-v2-api.md, "Seedance 1.5 Pro parameters"). */
export const SEEDANCE_DEFAULTS = {
  duration: 5,
  resolution: "720p",
  aspect_ratio: "16:9",
  camera_fixed: false,
  generate_audio: true,
  skip_moderation: false
} as const

export const Resolution = Schema.Literal(...RESOLUTIONS)
export type Resolution = typeof Resolution.Type

export const AspectRatio = Schema.Literal(...ASPECT_RATIOS)
export type AspectRatio = typeof AspectRatio.Type

export const Prompt = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0, { message: () => "prompt must not be empty" }),
  Schema.maxLength(PROMPT_MAX_LENGTH, {
    message: () => `prompt must be at most ${PROMPT_MAX_LENGTH} characters`
  })
)

export const Duration = Schema.Int.pipe(
  Schema.between(DURATION_MIN, DURATION_MAX, {
    message: () => `duration must be an integer number of seconds from ${DURATION_MIN} to ${DURATION_MAX}`
  })
)

export const Seed = Schema.Int.pipe(
  Schema.between(SEED_MIN, SEED_MAX, {
    message: () => `seed must be an integer from ${SEED_MIN} to ${SEED_MAX}`
  })
)

export const FrameUrl = Schema.String.pipe(
  Schema.filter((s) => /^https?:\/\/\S+$/.test(s), {
    message: () => "frame URL must be a valid HTTP or HTTPS URL"
  })
)

/**
 * The exact JSON body shotlist submits. Every field is sent explicitly (the
 * model's defaults included) so a report's `params` renders the same request
 * again even if the server's defaults change.
 */
export const SeedanceParams = Schema.Struct({
  prompt: Prompt,
  duration: Duration,
  resolution: Resolution,
  aspect_ratio: AspectRatio,
  seed: Seed,
  camera_fixed: Schema.Boolean,
  generate_audio: Schema.Boolean,
  skip_moderation: Schema.Boolean,
  first_frame_url: Schema.optional(FrameUrl),
  last_frame_url: Schema.optional(FrameUrl)
})
export type SeedanceParams = typeof SeedanceParams.Type

type SizedAspect = Exclude<AspectRatio, "adaptive">

/** Output pixel sizes, width x height (segmind-v2-api.md). */
export const PIXEL_SIZES: Record<Resolution, Record<SizedAspect, readonly [number, number]>> = {
  "480p": { "16:9": [864, 496], "4:3": [752, 560], "1:1": [640, 640], "3:4": [560, 752], "9:16": [496, 864] },
  "720p": { "16:9": [1280, 720], "4:3": [1112, 834], "1:1": [960, 960], "3:4": [834, 1112], "9:16": [720, 1280] },
  "1080p": {
    "16:9": [1920, 1080],
    "4:3": [1664, 1248],
    "1:1": [1440, 1440],
    "3:4": [1248, 1664],
    "9:16": [1080, 1920]
  }
}

/** Pixel size of an output; `adaptive` follows the first frame, which a caller may not know: 16:9 then. */
export const pixelSize = (resolution: Resolution, aspect: AspectRatio): readonly [number, number] =>
  PIXEL_SIZES[resolution][aspect === "adaptive" ? "16:9" : aspect]
