import { JSONSchema, type ParseResult, Predicate, Schema, type SchemaAST } from "effect"
import { closestKey } from "../domain/ClosestName.js"
import { isHttpUrl } from "../domain/HttpUrl.js"
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
import { DEFAULT_PLAN, PLANS_TEXT, SEGMIND_PLANS } from "../domain/SegmindPlan.js"
import type { RETRY_KEYS } from "./Manifest.js"
import {
  DEVICE_NAME,
  DEVICE_NAME_PATTERN,
  LIMITS,
  RUN_NAME,
  RUN_NAME_MAX_BYTES,
  SHOT_ID,
  SHOT_ID_MAX_LENGTH,
  type SHOT_PARAM_KEYS,
  SWEEP_KEYS,
  type TOP_KEYS
} from "./Manifest.js"

// The manifest as written (SPEC §3) and the message for each refused value: the loader's one validator, and the
// source of manifest.schema.json that editors read through `# yaml-language-server: $schema=…`.

/** A refused value as a message shows it: `40`, `"4k"`, `a list`. */
export const describe = (value: unknown): string =>
  value === null || value === undefined
    ? "nothing"
    : Array.isArray(value)
    ? "a list"
    : typeof value === "object"
    ? "a map"
    : typeof value === "string"
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    : String(value)

/** The rule, then the value that broke it: `seed must be … (got 0)`. */
const got = (rule: string) => (actual: unknown) => `${rule} (got ${describe(actual)})`

/** Editor help (title, description) and the message a user reads when the value is refused, whatever part of it failed. */
const field = (title: string, description: string, refused: (actual: unknown) => string) => ({
  title,
  description,
  message: (issue: ParseResult.ParseIssue) => ({ message: refused(issue.actual), override: true })
})

/** An optional field: absent is fine, `undefined` is not a value a YAML file can hold. */
const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** A required field, with what to write when it is missing. */
const required = <S extends Schema.Schema.All>(schema: S, missing: string) =>
  Schema.propertySignature(schema).annotations({ missingMessage: () => missing })

/** A number within `LIMITS[key]`, refused as `<key> must be an integer from … to … (got …)`. */
const bounded = (key: keyof typeof LIMITS, title: string, description: string) => {
  const { integer, max, min } = LIMITS[key]
  return (integer ? Schema.Int : Schema.Number).pipe(Schema.between(min, max)).annotations(
    field(title, description, got(`${key} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`))
  )
}

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
const FRAME_EXTENSIONS = ".png, .jpg, .jpeg or .webp"

const FrameUrl = Schema.String.pipe(Schema.pattern(FRAME_URL)).annotations({
  title: "URL",
  description: "an http(s) URL, sent to the model as is"
})
const FrameFile = Schema.String.pipe(Schema.pattern(FRAME_FILE)).annotations({
  title: "file",
  description: `a ${FRAME_EXTENSIONS} file, relative to the manifest's folder, uploaded once per run`
})
/** A frame written as an http(s) URL; any other valid frame is a local file. */
export const isFrameUrl = Schema.is(FrameUrl)
export const isFrameFile = Schema.is(FrameFile)

/** Why a frame is refused: not text or a broken http(s) URL, another scheme, or a local file that is not an image. */
const frameRefused = (key: string) => (actual: unknown): string =>
  typeof actual !== "string" || !/\S/.test(actual) || isHttpUrl(actual)
    ? got(`${key} must be an http(s) URL or a path to a ${FRAME_EXTENSIONS} file`)(actual)
    : /^[a-z][a-z0-9+.-]*:/i.test(actual) && !/^[a-z]:[\\/]/i.test(actual)
    ? got("a frame must be an http(s) URL or a local file")(actual)
    : `${actual}: a local frame must be a ${FRAME_EXTENSIONS} file`

const frame = (key: "first_frame" | "last_frame", title: string, description: string) =>
  Schema.Union(FrameUrl, FrameFile).annotations(field(title, description, frameRefused(key)))

/** `first_frame: {from: SHOT}`: the shot opens where another shot's video ends. */
const FromShot = Schema.Struct({
  from: Schema.Union(Schema.String.pipe(Schema.pattern(SHOT_ID)), WrittenNumber)
}).annotations({
  title: "from a shot",
  description: "The last frame of another shot's video (its pick, or its only job): `{from: SHOT}`."
})
export const isFromShot = Schema.is(FromShot)

const firstFrameRefused = (actual: unknown): string =>
  typeof actual === "object" && actual !== null && !Array.isArray(actual)
    ? got("first_frame must be a frame or {from: SHOT}, the id of the shot whose last frame opens this one")(actual)
    : frameRefused("first_frame")(actual)

const promptRefused = (actual: unknown): string =>
  typeof actual !== "string"
    ? got("prompt must be text")(actual)
    : /\S/.test(actual)
    ? `prompt must be at most ${PROMPT_MAX_LENGTH} characters (got ${[...actual].length})`
    : "prompt must not be empty"

const PromptField = Prompt.pipe(Schema.pattern(/\S/)).annotations(
  field(
    "prompt",
    `What the shot shows: camera, subject, light, motion. Non-empty, at most ${PROMPT_MAX_LENGTH} characters.`,
    promptRefused
  )
)
const DurationField = Duration.annotations({
  ...field(
    "duration",
    `Seconds of video, an integer from ${DURATION_MIN} to ${DURATION_MAX}.`,
    got(`duration must be an integer number of seconds from ${DURATION_MIN} to ${DURATION_MAX}`)
  ),
  default: SEEDANCE_DEFAULTS.duration
})
const ResolutionField = Resolution.annotations({
  ...field("resolution", "Output resolution.", got(`resolution must be one of ${RESOLUTIONS.join(", ")}`)),
  default: SEEDANCE_DEFAULTS.resolution
})
const AspectRatioField = AspectRatio.annotations({
  ...field(
    "aspect ratio",
    "Output aspect ratio; \"adaptive\" follows the first frame, so it needs first_frame. Quote it in YAML: \"16:9\".",
    got(`aspect_ratio must be one of ${ASPECT_RATIOS.map((a) => `"${a}"`).join(", ")}`)
  ),
  default: SEEDANCE_DEFAULTS.aspect_ratio
})
const SeedField = Seed.annotations(
  field(
    "seed",
    `The seed, ${SEED_MIN}-${SEED_MAX}; the same seed and fields render the same clip. Without one, a job's seed is derived from seed_base and its id: the same on every run.`,
    got(`seed must be an integer from ${SEED_MIN} to ${SEED_MAX}`)
  )
)
const flag = (key: "camera_fixed" | "generate_audio" | "skip_moderation", title: string, description: string) =>
  Schema.Boolean.annotations({
    ...field(title, description, got(`${key} must be true or false`)),
    default: SEEDANCE_DEFAULTS[key]
  })

/** The value of each field a shot or `defaults` may set (SHOT_PARAM_KEYS). */
const params = {
  prompt: PromptField,
  duration: DurationField,
  resolution: ResolutionField,
  aspect_ratio: AspectRatioField,
  seed: SeedField,
  camera_fixed: flag("camera_fixed", "camera fixed", "Keep the camera still."),
  generate_audio: flag("generate_audio", "generate audio", "Render a soundtrack with the clip."),
  skip_moderation: flag("skip_moderation", "skip moderation", "Skip the model's content moderation."),
  first_frame: Schema.Union(FrameUrl, FrameFile, FromShot).annotations(
    field(
      "first frame",
      "The clip's opening frame: an http(s) URL, a local .png/.jpg/.jpeg/.webp file, or {from: SHOT}: the last frame of that shot's video.",
      firstFrameRefused
    )
  ),
  last_frame: frame(
    "last_frame",
    "last frame",
    "The clip's closing frame (needs a first_frame): an http(s) URL, or a local image file."
  )
} satisfies Record<(typeof SHOT_PARAM_KEYS)[number], Schema.Schema.Any>

const paramFields = {
  prompt: optional(params.prompt),
  duration: optional(params.duration),
  resolution: optional(params.resolution),
  aspect_ratio: optional(params.aspect_ratio),
  seed: optional(params.seed),
  camera_fixed: optional(params.camera_fixed),
  generate_audio: optional(params.generate_audio),
  skip_moderation: optional(params.skip_moderation),
  first_frame: optional(params.first_frame),
  last_frame: optional(params.last_frame)
}

type ListedSweepKey = Exclude<(typeof SWEEP_KEYS)[number], "prompt">

const sweepListRule = (key: ListedSweepKey) => `sweep.${key} must be a non-empty list of values`

/** The values a sweep tries for one field: a non-empty list, each value once. */
const sweepValues = <A, I>(values: Schema.Schema<A, I>, key: ListedSweepKey) =>
  Schema.Array(values)
    .annotations({ message: () => sweepListRule(key) })
    .pipe(
      Schema.minItems(1, { message: () => sweepListRule(key) }),
      Schema.filter(
        (list) =>
          list.flatMap((value, index) =>
            list.indexOf(value) < index
              ? [{ path: [index], message: `${describe(value)} is listed twice; each sweep value renders once` }]
              : []
          ),
        { jsonSchema: { uniqueItems: true } }
      )
    )
    .annotations({ title: key, description: `The ${key} values to render, one job each.` })

const variantNameRule = `1-${SHOT_ID_MAX_LENGTH} letters, digits, _ and -, starting with a letter or digit`
const promptVariantsRule = `sweep.prompt must map one or more variant names (${variantNameRule}) to non-empty prompts`

/** A prompt variant's name: it goes into job ids (`shot~prompt=calm`), so it is as safe as a shot id. */
const VariantName = Schema.String.pipe(
  Schema.pattern(SHOT_ID, {
    message: (issue) => got(`a prompt variant's name must be ${variantNameRule}`)(issue.actual)
  }),
  Schema.maxLength(SHOT_ID_MAX_LENGTH, {
    message: (issue) => got(`a prompt variant's name must be ${variantNameRule}`)(issue.actual)
  })
).annotations({ title: "variant name", description: `${variantNameRule}; it goes into the job id` })

/** Named prompts to render one job each: the name goes into the id and the report, the text to the model. */
const PromptVariants = Schema.Record({ key: VariantName, value: params.prompt })
  .annotations({ message: () => promptVariantsRule })
  .pipe(
    Schema.filter((variants) => Object.keys(variants).length > 0, {
      message: () => promptVariantsRule,
      jsonSchema: { minProperties: 1 }
    })
  )
  .annotations({
    title: "prompt",
    description: "Named prompts to render, one job each: `calm: \"…\"`; the name goes into the job id."
  })

const sweepFields = {
  prompt: optional(PromptVariants),
  seed: optional(sweepValues(params.seed, "seed")),
  duration: optional(sweepValues(params.duration, "duration")),
  resolution: optional(sweepValues(params.resolution, "resolution")),
  aspect_ratio: optional(sweepValues(params.aspect_ratio, "aspect_ratio")),
  camera_fixed: optional(sweepValues(params.camera_fixed, "camera_fixed")),
  generate_audio: optional(sweepValues(params.generate_audio, "generate_audio")),
  skip_moderation: optional(sweepValues(params.skip_moderation, "skip_moderation")),
  first_frame: optional(sweepValues(
    frame("first_frame", "first frame", "An opening frame to try: an http(s) URL or a local image file."),
    "first_frame"
  ))
} satisfies Record<(typeof SWEEP_KEYS)[number], Schema.PropertySignature.All>

const sweepRule = `sweep must map one or more of ${SWEEP_KEYS.join(", ")} to lists of values`

export const Sweep = Schema.Struct(sweepFields)
  .annotations({ message: () => sweepRule })
  .pipe(
    Schema.filter((sweep) => Object.keys(sweep).length > 0, {
      message: () => sweepRule,
      jsonSchema: { minProperties: 1 }
    })
  )
  .annotations({
    title: "sweep",
    description:
      "Renders every combination of the listed values (a cartesian product), one job each; the first key varies slowest."
  })

const idRule = `1-${SHOT_ID_MAX_LENGTH} letters, digits, _ and -, starting with a letter or digit`

const isDeviceName = (actual: unknown): actual is string => typeof actual === "string" && DEVICE_NAME.test(actual)

/** A name Windows keeps for a device (`NUL`, `com1.txt`) cannot name a file or folder there. */
const notDeviceName = Schema.filter((name: string) => !isDeviceName(name), {
  jsonSchema: { not: { pattern: DEVICE_NAME_PATTERN } }
})

const deviceNameRefused = (key: string, name: string) =>
  `${key} ${
    JSON.stringify(name)
  } is a device name Windows reserves (CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9, in any case); choose another`

export const ShotId = Schema.Union(
  Schema.String.pipe(Schema.pattern(SHOT_ID), Schema.maxLength(SHOT_ID_MAX_LENGTH), notDeviceName).annotations({
    title: "text",
    description: `${idRule}; not a device name such as CON or NUL`
  }),
  WrittenNumber
).annotations(
  field(
    "id",
    `Names the shot and its jobs and files: ${idRule}; unique in the manifest, even ignoring case.`,
    (actual) => isDeviceName(actual) ? deviceNameRefused("id", actual) : got(`id must be ${idRule}`)(actual)
  )
)

const Takes = bounded(
  "takes",
  "takes",
  `Renders this many jobs (${LIMITS.takes.min}-${LIMITS.takes.max}) per combination of the sweep, each with its own seed derived from seed_base; give either takes or seeds (seed, sweep.seed).`
)

export const Shot = Schema.Struct({
  id: required(ShotId, "id is required: letters, digits, _ and -, starting with a letter or digit"),
  ...paramFields,
  sweep: optional(Sweep),
  takes: optional(Takes)
}).annotations({
  title: "shot",
  description: "One shot of the storyboard: an id, a prompt and any shot field.",
  message: (issue) => got("a shot must be a map with at least id and prompt")(issue.actual)
})

export const Defaults = Schema.Struct(paramFields).annotations({
  title: "defaults",
  description: "Shot fields every shot starts from; a shot's own fields override them.",
  message: () => "defaults must be a map of shot fields"
})

export const Retry = Schema.Struct(
  {
    tries: optional(
      bounded("tries", "tries", `Attempts per API call, the first included (${LIMITS.tries.min}-${LIMITS.tries.max}).`)
    ),
    base: optional(
      bounded(
        "base",
        "base",
        `First backoff delay in seconds (${LIMITS.base.min}-${LIMITS.base.max}); it doubles per try.`
      )
    ),
    cap: optional(bounded("cap", "cap", `Longest backoff delay in seconds (${LIMITS.cap.min}-${LIMITS.cap.max}).`))
  } satisfies Record<(typeof RETRY_KEYS)[number], Schema.PropertySignature.All>
).annotations({
  title: "retry",
  description: "Retry policy for transient errors (5xx, dropped connections, 429).",
  message: () => "retry must be a map of tries, base and cap (seconds)"
})

const nameRefused = (actual: unknown): string =>
  typeof actual !== "string" || !RUN_NAME.test(actual)
    ? got("name must be a plain folder name: letters, digits, \".\", \"_\", \"-\", starting with a letter or digit")(
      actual
    )
    : DEVICE_NAME.test(actual)
    ? deviceNameRefused("name", actual)
    : `name is ${actual.length} bytes; a run's folder name may be at most ${RUN_NAME_MAX_BYTES} (a file name's 255 less the run's time stamp)`

/** The run's folder name, written as `name` or taken from the manifest's file name. */
export const RunName = Schema.Union(
  Schema.String.pipe(Schema.pattern(RUN_NAME), Schema.maxLength(RUN_NAME_MAX_BYTES), notDeviceName).annotations({
    title: "text",
    description:
      `letters, digits, ".", "_" and "-", starting with a letter or digit; at most ${RUN_NAME_MAX_BYTES} characters; not a device name such as NUL`
  }),
  WrittenNumber
).annotations(
  field(
    "name",
    "Names the run's output folder; defaults to the manifest's file name without .yaml. One plain folder name.",
    nameRefused
  )
)

const SEED_BASE_MAX_LENGTH = 200

/** Where the seeds the manifest leaves open come from; read as text. */
export const SeedBase = Schema.Union(
  Schema.String.pipe(Schema.minLength(1), Schema.maxLength(SEED_BASE_MAX_LENGTH)).annotations({
    title: "text",
    description: `1-${SEED_BASE_MAX_LENGTH} characters`
  }),
  Schema.Int.annotations({ title: "number", description: "a whole number, read as text" })
).annotations(
  field(
    "seed base",
    "Each job without a seed gets one derived from seed_base and its id, so every run of the manifest sends the same seeds. Default: the manifest's name. Another value (or `run --reseed`) gives fresh ones.",
    got(`seed_base must be text of 1-${SEED_BASE_MAX_LENGTH} characters or a whole number`)
  )
)

const shotsRule = "shots must be a non-empty list of shots, each with an id and a prompt"

/** `plan must be free or pro (got "prof"; did you mean "pro"?)`. */
const planRefused = (actual: unknown): string => {
  const close = typeof actual === "string" ? closestKey(actual, SEGMIND_PLANS) : undefined
  return `plan must be ${SEGMIND_PLANS.join(" or ")}; for another limit write rpm: (got ${describe(actual)}${
    close === undefined ? "" : `; did you mean "${close}"?`
  })`
}

const topFields = {
  version: required(
    Schema.Literal(1).annotations(field("version", "The manifest format; always 1.", got("version must be 1"))),
    "version is required; write `version: 1`"
  ),
  name: optional(RunName),
  seed_base: optional(SeedBase),
  model: optional(
    Schema.Literal(SEEDANCE_MODEL).annotations({
      ...field("model", "The Segmind model that renders the shots.", got(`model must be "${SEEDANCE_MODEL}"`)),
      default: SEEDANCE_MODEL
    })
  ),
  concurrency: optional(
    bounded(
      "concurrency",
      "concurrency",
      `Jobs rendering at once (${LIMITS.concurrency.min}-${LIMITS.concurrency.max}); --concurrency overrides.`
    )
  ),
  plan: optional(
    Schema.Literal(...SEGMIND_PLANS).annotations({
      ...field(
        "plan",
        `The Segmind plan of the API key: its limit is the run's API calls per minute, ${PLANS_TEXT}. Default: ${DEFAULT_PLAN}. rpm, --plan and --rpm override.`,
        planRefused
      ),
      default: DEFAULT_PLAN
    })
  ),
  rpm: optional(
    bounded(
      "rpm",
      "requests per minute",
      `API calls per minute for the whole run (${LIMITS.rpm.min}-${LIMITS.rpm.max}), for a limit no plan names (Enterprise); default: the plan's. --rpm overrides.`
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

/** Every field of the manifest, each checked on its own; unknown keys are errors at every level. */
export const ManifestShape = Schema.Struct(topFields).annotations({
  message: () =>
    "a manifest is a map with version, shots and optional name, seed_base, model, concurrency, plan, rpm, retry, defaults"
})
export type ManifestShape = typeof ManifestShape.Type

/** A shot and its defaults as a rule sees them: a bad value is refused on its own, so it neither breaks a rule nor leaves one unmet. */
interface ShotView {
  /** written on the shot or in `defaults`, whatever its value */
  readonly given: (key: keyof typeof params) => boolean
  /** the shot's own value of `key` is valid */
  readonly own: (key: keyof typeof ruleFields) => boolean
  /** the shot's valid value, else the valid one in `defaults` */
  readonly value: (key: keyof typeof params) => unknown
  /** the shot's sweep names `key`, whatever its value */
  readonly sweeps: (key: (typeof SWEEP_KEYS)[number]) => boolean
  /** the values the shot's sweep lists for `key` */
  readonly swept: (key: (typeof SWEEP_KEYS)[number]) => ReadonlyArray<unknown>
}

const ruleFields: Readonly<Record<keyof typeof params | "takes", Schema.Schema.AnyNoContext>> = {
  ...params,
  takes: Takes
}

const shotView = (shot: Readonly<Record<string, unknown>>, defaults: Readonly<Record<string, unknown>>): ShotView => {
  const valid = (fields: Readonly<Record<string, unknown>>, key: keyof typeof ruleFields) =>
    key in fields && Schema.is(ruleFields[key])(fields[key])
  const sweep = Predicate.isRecord(shot.sweep) ? shot.sweep : {}
  return {
    given: (key) => key in shot || key in defaults,
    own: (key) => valid(shot, key),
    value: (key) => valid(shot, key) ? shot[key] : valid(defaults, key) ? defaults[key] : undefined,
    sweeps: (key) => key in sweep,
    swept: (key) => {
      const values = sweep[key]
      return Array.isArray(values) ? values : Predicate.isRecord(values) ? Object.keys(values) : []
    }
  }
}

interface ShotRule {
  /** where the message points, under the shot */
  readonly at: ReadonlyArray<string>
  readonly message: string
  readonly broken: (shot: ShotView) => boolean
}

const promptRule: ShotRule = {
  at: ["prompt"],
  message: "prompt is required: what the shot shows",
  broken: (shot) => !shot.given("prompt") && !shot.sweeps("prompt")
}

/** A field the shot sets and its sweep varies too: which one renders is unclear. */
const sweptTwice = (key: "prompt" | "seed" | "first_frame"): ShotRule => ({
  at: ["sweep", key],
  message: `${key} is given both on the shot and in its sweep; keep one`,
  broken: (shot) => shot.own(key) && shot.swept(key).length > 0
})

/** A first frame written on the shot, in `defaults` or in the shot's sweep. */
const hasFirstFrame = (shot: ShotView) => shot.given("first_frame") || shot.swept("first_frame").length > 0

const EITHER_TAKES_OR_SEED = "give either takes or a seed, not both"
const EACH_TAKE = "each take gets its own seed, derived from seed_base"

/** The rules across the fields of a shot and its defaults; JSON Schema can say only the first. */
const SHOT_RULES: ReadonlyArray<ShotRule> = [
  promptRule,
  {
    at: ["takes"],
    message: `${EITHER_TAKES_OR_SEED}: ${EACH_TAKE}`,
    broken: (shot) => shot.own("takes") && shot.own("seed")
  },
  {
    at: ["takes"],
    message:
      `${EITHER_TAKES_OR_SEED}: defaults gives every shot its seed, and each take needs its own (derived from seed_base); move the seed to the shots that keep it`,
    broken: (shot) => shot.own("takes") && !shot.own("seed") && shot.value("seed") !== undefined
  },
  {
    at: ["takes"],
    message: `give either takes or a seed list, not both: ${EACH_TAKE}, and a sweep.seed list renders one job per seed`,
    broken: (shot) => shot.own("takes") && shot.swept("seed").length > 0
  },
  sweptTwice("seed"),
  sweptTwice("prompt"),
  sweptTwice("first_frame"),
  {
    at: ["last_frame"],
    message: "last_frame needs a first_frame",
    broken: (shot) => shot.value("last_frame") !== undefined && !hasFirstFrame(shot)
  },
  {
    at: ["aspect_ratio"],
    message: "aspect_ratio \"adaptive\" follows the first frame, so it needs a first_frame",
    broken: (shot) =>
      [shot.value("aspect_ratio"), ...shot.swept("aspect_ratio")].includes("adaptive") && !hasFirstFrame(shot)
  }
]

/** Each broken rule of each shot, at its field; a shot or `defaults` that is not a map has no rules to break. */
const brokenRules = (document: unknown, rules: ReadonlyArray<ShotRule>): Array<Schema.FilterIssue> => {
  if (!Predicate.isRecord(document) || !Array.isArray(document.shots)) return []
  const defaults = Predicate.isRecord(document.defaults) ? document.defaults : {}
  return document.shots.flatMap((shot: unknown, index) => {
    if (!Predicate.isRecord(shot)) return []
    const view = shotView(shot, defaults)
    return rules.filter((rule) => rule.broken(view)).map((rule) => ({
      path: ["shots", index, ...rule.at],
      message: rule.message
    }))
  })
}

/** The rules across fields, on the document as written, so that a bad value elsewhere hides none of them. */
export const ManifestRules = Schema.Unknown.pipe(Schema.filter((document) => brokenRules(document, SHOT_RULES)))

/** The keys the shape allows in the map at `path`, in the schema's order. */
const keysAt = (ast: SchemaAST.AST, path: ReadonlyArray<PropertyKey>): ReadonlyArray<string> => {
  if (ast._tag === "Refinement") return keysAt(ast.from, path)
  if (ast._tag === "TupleType") return ast.rest[0] === undefined ? [] : keysAt(ast.rest[0].type, path.slice(1))
  if (ast._tag !== "TypeLiteral") return []
  if (path.length === 0) return ast.propertySignatures.map((signature) => String(signature.name))
  const next = ast.propertySignatures.find((signature) => signature.name === path[0])
  return next === undefined ? [] : keysAt(next.type, path.slice(1))
}

/** What to say of `key` written in the map at `path` where the shape has no such key. */
export const unknownKeyMessage = (key: string, path: ReadonlyArray<PropertyKey>): string => {
  // A prompt variant's key is its name: refused by the name's rule, not as a key the shape lacks.
  if (path.length >= 2 && path[path.length - 2] === "sweep" && path[path.length - 1] === "prompt") {
    return got(`a prompt variant's name must be ${variantNameRule}`)(key)
  }
  const allowed = keysAt(ManifestShape.ast, path)
  const close = closestKey(key, allowed)
  return `unknown key "${key}"${close === undefined ? "" : ` (did you mean "${close}"?)`}; allowed: ${
    allowed.join(", ")
  }`
}

const MANIFEST_TITLE = "shotlist manifest"

/** The whole manifest for editors and JSON Schema: the shape, and a prompt on each shot unless `defaults` gives one. */
export const ManifestDocument = ManifestShape
  .pipe(
    Schema.filter((doc) => brokenRules(doc, [promptRule]), {
      // Each shot needs a prompt, unless `defaults` gives one.
      jsonSchema: {
        if: {
          type: "object",
          required: ["defaults"],
          properties: { defaults: { type: "object", required: ["prompt"] } }
        },
        else: {
          type: "object",
          properties: {
            shots: {
              type: "array",
              items: {
                type: "object",
                anyOf: [{ required: ["prompt"] }, {
                  required: ["sweep"],
                  properties: { sweep: { type: "object", required: ["prompt"] } }
                }]
              }
            }
          }
        }
      }
    })
  )
  .annotations({
    identifier: "ManifestDocument",
    title: MANIFEST_TITLE,
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
  return { $schema, $id: MANIFEST_SCHEMA_ID, ...body, title: MANIFEST_TITLE }
}

/** `manifest.schema.json` as committed and as `shotlist schema` prints it (without the final newline). */
export const manifestJsonSchemaText = (): string => JSON.stringify(manifestJsonSchema(), null, 2)
