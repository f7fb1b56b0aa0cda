import { JSONSchema, Schema } from "effect"
import {
  ASPECT_RATIOS,
  AspectRatio,
  Duration,
  DURATION_MAX,
  DURATION_MIN,
  Prompt,
  PROMPT_MAX_LENGTH,
  Resolution,
  RESOLUTIONS,
  Seed,
  SEED_MAX,
  SEED_MIN,
  SEEDANCE_DEFAULTS,
  SEEDANCE_MODEL
} from "../domain/SeedanceParams.js"
import type { RETRY_KEYS } from "./Manifest.js"
import {
  LIMITS,
  RUN_NAME,
  SHOT_ID,
  SHOT_ID_MAX_LENGTH,
  type SHOT_PARAM_KEYS,
  SWEEP_KEYS,
  type TOP_KEYS
} from "./Manifest.js"

/**
 * The manifest document as written in YAML (SPEC §3), field by field. It is
 * the validator of record (the loader decodes every manifest with it after its
 * located checks) and the source of `manifest.schema.json`, which editors use
 * through the `# yaml-language-server: $schema=…` comment.
 */

/** Editor help (title, description) and the message a user reads when the value is refused, whatever part of it failed. */
const field = (title: string, description: string, refused: string) => ({
  title,
  description,
  message: () => ({ message: refused, override: true })
})

/** An optional field: absent is fine, `undefined` is not a value a YAML file can hold. */
const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** A required field, with what to write when it is missing. */
const required = <S extends Schema.Schema.All>(schema: S, missing: string) =>
  Schema.propertySignature(schema).annotations({ missingMessage: () => missing })

const bounded = (limits: { readonly min: number; readonly max: number; readonly integer: boolean }) =>
  (limits.integer ? Schema.Int : Schema.Number).pipe(Schema.between(limits.min, limits.max))

const range = (key: keyof typeof LIMITS) =>
  `${LIMITS[key].integer ? "an integer" : "a number"} from ${LIMITS[key].min} to ${LIMITS[key].max}`

// An id or a name may be written as a bare number; the loader reads it as text.
const WrittenNumber = Schema.NonNegativeInt.annotations({
  title: "number",
  description: "a whole number, read as text"
})

/** `^https?://…`, the frame URL shape the API accepts (FrameUrl); a pattern so JSON Schema carries it too. */
const FRAME_URL = /^https?:\/\/\S+$/
/** A local image; any other `scheme:` is refused (a Windows drive letter is a path). */
const FRAME_FILE =
  /^(?:[A-Za-z]:[\\/]|(?![A-Za-z][A-Za-z0-9+.-]*:))[\s\S]*\.(?:[Pp][Nn][Gg]|[Jj][Pp][Ee]?[Gg]|[Ww][Ee][Bb][Pp])$/

const frame = (key: string, title: string, description: string) =>
  Schema.Union(
    Schema.String.pipe(Schema.pattern(FRAME_URL)).annotations({
      title: "URL",
      description: "an http(s) URL, sent to the model as is"
    }),
    Schema.String.pipe(Schema.pattern(FRAME_FILE)).annotations({
      title: "file",
      description: "a .png, .jpg, .jpeg or .webp file, relative to the manifest's folder, uploaded once per run"
    })
  ).annotations(
    field(title, description, `${key} must be an http(s) URL or a path to a .png, .jpg, .jpeg or .webp file`)
  )

const PromptField = Prompt.pipe(Schema.pattern(/\S/)).annotations(
  field(
    "prompt",
    `What the shot shows: camera, subject, light, motion. Non-empty, at most ${PROMPT_MAX_LENGTH} characters.`,
    `prompt must be non-empty text of at most ${PROMPT_MAX_LENGTH} characters`
  )
)
const DurationField = Duration.annotations({
  ...field(
    "duration",
    `Seconds of video, an integer from ${DURATION_MIN} to ${DURATION_MAX}.`,
    `duration must be an integer number of seconds from ${DURATION_MIN} to ${DURATION_MAX}`
  ),
  default: SEEDANCE_DEFAULTS.duration
})
const ResolutionField = Resolution.annotations({
  ...field("resolution", "Output resolution.", `resolution must be one of ${RESOLUTIONS.join(", ")}`),
  default: SEEDANCE_DEFAULTS.resolution
})
const AspectRatioField = AspectRatio.annotations({
  ...field(
    "aspect ratio",
    "Output aspect ratio; \"adaptive\" follows the first frame, so it needs first_frame. Quote it in YAML: \"16:9\".",
    `aspect_ratio must be one of ${ASPECT_RATIOS.map((a) => `"${a}"`).join(", ")}`
  ),
  default: SEEDANCE_DEFAULTS.aspect_ratio
})
const SeedField = Seed.annotations(
  field(
    "seed",
    `The seed, ${SEED_MIN}-${SEED_MAX}; the same seed and fields render the same clip. Without one, shotlist draws a seed and records it.`,
    `seed must be an integer from ${SEED_MIN} to ${SEED_MAX}`
  )
)
const flag = (key: "camera_fixed" | "generate_audio" | "skip_moderation", title: string, description: string) =>
  Schema.Boolean.annotations({
    ...field(title, description, `${key} must be true or false`),
    default: SEEDANCE_DEFAULTS[key]
  })
const CameraFixedField = flag("camera_fixed", "camera fixed", "Keep the camera still.")
const GenerateAudioField = flag("generate_audio", "generate audio", "Render a soundtrack with the clip.")
const SkipModerationField = flag("skip_moderation", "skip moderation", "Skip the model's content moderation.")

/** The fields a shot or `defaults` may set (SHOT_PARAM_KEYS), each optional. */
const paramFields = {
  prompt: optional(PromptField),
  duration: optional(DurationField),
  resolution: optional(ResolutionField),
  aspect_ratio: optional(AspectRatioField),
  seed: optional(SeedField),
  camera_fixed: optional(CameraFixedField),
  generate_audio: optional(GenerateAudioField),
  skip_moderation: optional(SkipModerationField),
  first_frame: optional(
    frame(
      "first_frame",
      "first frame",
      "The clip's opening frame: an http(s) URL, or a local .png/.jpg/.jpeg/.webp file."
    )
  ),
  last_frame: optional(
    frame(
      "last_frame",
      "last frame",
      "The clip's closing frame (needs a first_frame): an http(s) URL, or a local image file."
    )
  )
} satisfies Record<(typeof SHOT_PARAM_KEYS)[number], Schema.PropertySignature.All>

/** The values a sweep tries for one field: a non-empty list, each value once. */
const sweepValues = <A, I>(field: Schema.Schema<A, I>, key: (typeof SWEEP_KEYS)[number]) =>
  Schema.Array(field)
    .annotations({ message: () => `sweep.${key} must be a non-empty list of values` })
    .pipe(
      Schema.minItems(1, { message: () => `sweep.${key} must be a non-empty list of values` }),
      Schema.filter((values) => new Set(values).size === values.length, {
        message: () => `sweep.${key} lists a value twice; each sweep value renders once`,
        jsonSchema: { uniqueItems: true }
      })
    )
    .annotations({ title: key, description: `The ${key} values to render, one job each.` })

const sweepFields = {
  seed: optional(sweepValues(SeedField, "seed")),
  duration: optional(sweepValues(DurationField, "duration")),
  resolution: optional(sweepValues(ResolutionField, "resolution")),
  aspect_ratio: optional(sweepValues(AspectRatioField, "aspect_ratio")),
  camera_fixed: optional(sweepValues(CameraFixedField, "camera_fixed")),
  generate_audio: optional(sweepValues(GenerateAudioField, "generate_audio")),
  skip_moderation: optional(sweepValues(SkipModerationField, "skip_moderation"))
} satisfies Record<(typeof SWEEP_KEYS)[number], Schema.PropertySignature.All>

export const Sweep = Schema.Struct(sweepFields)
  .pipe(
    Schema.filter((sweep) => Object.keys(sweep).length > 0, {
      message: () => `sweep must map one or more of ${SWEEP_KEYS.join(", ")} to lists of values`,
      jsonSchema: { minProperties: 1 }
    })
  )
  .annotations({
    title: "sweep",
    description:
      "Renders every combination of the listed values (a cartesian product), one job each; the first key varies slowest."
  })

const ShotId = Schema.Union(
  Schema.String.pipe(Schema.pattern(SHOT_ID), Schema.maxLength(SHOT_ID_MAX_LENGTH)).annotations({
    title: "text",
    description: `1-${SHOT_ID_MAX_LENGTH} letters, digits, _ and -, starting with a letter or digit`
  }),
  WrittenNumber
).annotations(
  field(
    "id",
    `Names the shot and its jobs and files: 1-${SHOT_ID_MAX_LENGTH} letters, digits, _ and -, starting with a letter or digit; unique in the manifest.`,
    `id must be 1-${SHOT_ID_MAX_LENGTH} letters, digits, _ and -, starting with a letter or digit`
  )
)

export const Shot = Schema.Struct({
  id: required(ShotId, "id is required: letters, digits, _ and -, starting with a letter or digit"),
  ...paramFields,
  sweep: optional(Sweep),
  takes: optional(
    bounded(LIMITS.takes).annotations(
      field(
        "takes",
        `Renders this many jobs (${LIMITS.takes.min}-${LIMITS.takes.max}), each with its own drawn seed; not together with a seed.`,
        `takes must be ${range("takes")}`
      )
    )
  )
}).annotations({
  title: "shot",
  description: "One shot of the storyboard: an id, a prompt and any shot field.",
  message: () => "a shot must be a map with at least id and prompt"
})

export const Defaults = Schema.Struct(paramFields).annotations({
  title: "defaults",
  description: "Shot fields every shot starts from; a shot's own fields override them.",
  message: () => "defaults must be a map of shot fields"
})

export const Retry = Schema.Struct(
  {
    tries: optional(
      bounded(LIMITS.tries).annotations(
        field(
          "tries",
          `Attempts per API call, the first included (${LIMITS.tries.min}-${LIMITS.tries.max}).`,
          `tries must be ${range("tries")}`
        )
      )
    ),
    base: optional(
      bounded(LIMITS.base).annotations(
        field(
          "base",
          `First backoff delay in seconds (${LIMITS.base.min}-${LIMITS.base.max}); it doubles per try.`,
          `base must be ${range("base")}`
        )
      )
    ),
    cap: optional(
      bounded(LIMITS.cap).annotations(
        field(
          "cap",
          `Longest backoff delay in seconds (${LIMITS.cap.min}-${LIMITS.cap.max}).`,
          `cap must be ${range("cap")}`
        )
      )
    )
  } satisfies Record<(typeof RETRY_KEYS)[number], Schema.PropertySignature.All>
).annotations({
  title: "retry",
  description: "Retry policy for transient errors (5xx, dropped connections, 429).",
  message: () => "retry must be a map of tries, base and cap (seconds)"
})

const shotsRule = "shots must be a non-empty list of shots, each with an id and a prompt"

const topFields = {
  version: required(
    Schema.Literal(1).annotations(field("version", "The manifest format; always 1.", "version must be 1")),
    "version is required; write `version: 1`"
  ),
  name: optional(
    Schema.Union(
      Schema.String.pipe(Schema.pattern(RUN_NAME)).annotations({
        title: "text",
        description: "letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit"
      }),
      WrittenNumber
    ).annotations(
      field(
        "name",
        "Names the run's output folder; defaults to the manifest's file name without .yaml. One plain folder name.",
        "name must be a plain folder name: letters, digits, \".\", \"_\", \"-\", starting with a letter or digit"
      )
    )
  ),
  model: optional(
    Schema.Literal(SEEDANCE_MODEL).annotations({
      ...field("model", "The Segmind model that renders the shots.", `model must be "${SEEDANCE_MODEL}"`),
      default: SEEDANCE_MODEL
    })
  ),
  concurrency: optional(
    bounded(LIMITS.concurrency).annotations(
      field(
        "concurrency",
        `Jobs rendering at once (${LIMITS.concurrency.min}-${LIMITS.concurrency.max}); --concurrency overrides.`,
        `concurrency must be ${range("concurrency")}`
      )
    )
  ),
  rpm: optional(
    bounded(LIMITS.rpm).annotations(
      field(
        "requests per minute",
        `API calls per minute for the whole run (${LIMITS.rpm.min}-${LIMITS.rpm.max}; Segmind Pro allows 50); --rpm overrides.`,
        `rpm must be ${range("rpm")}`
      )
    )
  ),
  retry: optional(Retry),
  defaults: optional(Defaults),
  shots: required(
    Schema.Array(Shot)
      .annotations({ message: () => shotsRule })
      .pipe(Schema.minItems(1, { message: () => shotsRule }))
      .annotations({
        title: "shots",
        description: "The storyboard in order; each shot renders one job, one per sweep combination, or one per take."
      }),
    "shots is required: a list of shots, each with an id and a prompt"
  )
} satisfies Record<(typeof TOP_KEYS)[number], Schema.Schema.All | Schema.PropertySignature.All>

/** The whole manifest; unknown keys are errors at every level, and every problem is reported. */
export const ManifestDocument = Schema.Struct(topFields)
  .annotations({
    message: () => "a manifest is a map with version, shots and optional name, model, concurrency, rpm, retry, defaults"
  })
  .pipe(
    Schema.filter(
      (doc) =>
        doc.defaults?.prompt !== undefined ||
        doc.shots.flatMap((shot, index) =>
          shot.prompt === undefined
            ? [{ path: ["shots", index, "prompt"], message: "prompt is required: what the shot shows" }]
            : []
        ),
      {
        // Each shot needs a prompt, unless `defaults` gives one.
        jsonSchema: {
          if: {
            type: "object",
            required: ["defaults"],
            properties: { defaults: { type: "object", required: ["prompt"] } }
          },
          else: {
            type: "object",
            properties: { shots: { type: "array", items: { type: "object", required: ["prompt"] } } }
          }
        }
      }
    )
  )
  .annotations({
    identifier: "ManifestDocument",
    title: "shotlist manifest",
    description: "A storyboard of video shots for `shotlist run` (version 1).",
    parseOptions: { onExcessProperty: "error", errors: "all" }
  })
export type ManifestDocument = typeof ManifestDocument.Encoded

export const MANIFEST_SCHEMA_ID = "urn:shotlist:manifest:1"

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** Replaces each `$ref` into `$defs` by the definition itself: draft-07 ignores keywords beside a `$ref`. */
const inlineDefinitions = (node: Json, defs: Record<string, Json>): Json => {
  if (Array.isArray(node)) return node.map((item: Json) => inlineDefinitions(item, defs))
  if (node === null || typeof node !== "object") return node
  const { $ref, ...rest } = node as { readonly [key: string]: Json }
  const inlined = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, inlineDefinitions(value, defs)]))
  if (typeof $ref !== "string") return inlined
  const target = defs[$ref.replace(/^#\/\$defs\//, "")]
  if (target === undefined) throw new Error(`JSON Schema reference ${$ref} has no definition`)
  return { ...(inlineDefinitions(target, defs) as object), ...inlined }
}

/** The JSON Schema of a manifest, generated from `ManifestDocument`; `shotlist schema` prints it. */
export const manifestJsonSchema = (): Record<string, unknown> => {
  const { $schema, $defs, ...generated } = JSONSchema.make(ManifestDocument) as unknown as {
    readonly $schema: string
    readonly $defs?: Record<string, Json>
    readonly [key: string]: Json | undefined
  }
  const body = inlineDefinitions(generated as Json, $defs ?? {}) as Record<string, unknown>
  return { $schema, $id: MANIFEST_SCHEMA_ID, ...body, title: "shotlist manifest" }
}

/** `manifest.schema.json` as committed and as `shotlist schema` prints it (without the final newline). */
export const manifestJsonSchemaText = (): string => JSON.stringify(manifestJsonSchema(), null, 2)
