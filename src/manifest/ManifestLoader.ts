import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, ParseResult, Schema } from "effect"
import {
  type Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap
} from "yaml"
import type { SweepValue } from "../domain/Job.js"
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
  SEEDANCE_MODEL
} from "../domain/SeedanceParams.js"
import { sha256Hex } from "../store/FileDigest.js"
import {
  type FrameRef,
  LIMITS,
  type Manifest,
  RETRY_KEYS,
  RUN_NAME,
  type Shot,
  SHOT_ID,
  SHOT_ID_MAX_LENGTH,
  SHOT_KEYS,
  SHOT_PARAM_KEYS,
  type ShotFields,
  SWEEP_KEYS,
  TOP_KEYS
} from "./Manifest.js"
import { ManifestInvalid, type ManifestIssue, ManifestUnreadable } from "./ManifestErrors.js"
import { ManifestDocument } from "./ManifestSchema.js"

export interface LoadedManifest {
  /** as the user gave it */
  readonly file: string
  readonly absolutePath: string
  readonly directory: string
  /** the exact source text, copied into the run directory */
  readonly text: string
  readonly sha256: string
  readonly manifest: Manifest
}

const MAX_MANIFEST_BYTES = 1024 * 1024
const MAX_FRAME_BYTES = 30 * 1024 * 1024
const FRAME_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp"]

const levenshtein = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/** "did you mean" for a misspelt key, when one allowed key is close. */
export const closestKey = (key: string, allowed: ReadonlyArray<string>): string | undefined => {
  const scored = allowed
    .map((candidate) => ({ candidate, distance: levenshtein(key.toLowerCase(), candidate) }))
    .sort((x, y) => x.distance - y.distance)
  const best = scored[0]
  if (best === undefined) return undefined
  const prefix = allowed.find((candidate) =>
    candidate.startsWith(key.toLowerCase()) || key.toLowerCase().startsWith(candidate)
  )
  return best.distance <= 2 ? best.candidate : prefix
}

const describe = (value: unknown): string =>
  value === null || value === undefined
    ? "nothing"
    : Array.isArray(value)
    ? "a list"
    : typeof value === "object"
    ? "a map"
    : typeof value === "string"
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    : String(value)

type Check = Either.Either<unknown, string>

const ok = (value: unknown): Check => Either.right(value)
const bad = (message: string): Check => Either.left(message)
const valid = <A, I>(schema: Schema.Schema<A, I>, value: unknown) =>
  Either.isRight(Schema.decodeUnknownEither(schema)(value))

/** The rule of each value, with the message a user needs (from the model's table). */
const VALUE_RULES: Record<string, (value: unknown) => Check> = {
  prompt: (v) =>
    typeof v !== "string"
      ? bad(`prompt must be text (got ${describe(v)})`)
      : v.trim().length === 0
      ? bad("prompt must not be empty")
      : valid(Prompt, v)
      ? ok(v)
      : bad(`prompt must be at most ${PROMPT_MAX_LENGTH} characters (got ${[...v].length})`),
  duration: (v) =>
    valid(Duration, v)
      ? ok(v)
      : bad(
        `duration must be an integer number of seconds from ${DURATION_MIN} to ${DURATION_MAX} (got ${describe(v)})`
      ),
  resolution: (
    v
  ) => (valid(Resolution, v) ? ok(v) : bad(`resolution must be one of ${RESOLUTIONS.join(", ")} (got ${describe(v)})`)),
  aspect_ratio: (v) =>
    valid(AspectRatio, v)
      ? ok(v)
      : bad(`aspect_ratio must be one of ${ASPECT_RATIOS.map((a) => `"${a}"`).join(", ")} (got ${describe(v)})`),
  seed: (
    v
  ) => (valid(Seed, v) ? ok(v) : bad(`seed must be an integer from ${SEED_MIN} to ${SEED_MAX} (got ${describe(v)})`)),
  camera_fixed: (
    v
  ) => (typeof v === "boolean" ? ok(v) : bad(`camera_fixed must be true or false (got ${describe(v)})`)),
  generate_audio: (
    v
  ) => (typeof v === "boolean" ? ok(v) : bad(`generate_audio must be true or false (got ${describe(v)})`)),
  skip_moderation: (
    v
  ) => (typeof v === "boolean" ? ok(v) : bad(`skip_moderation must be true or false (got ${describe(v)})`)),
  first_frame: (v) =>
    typeof v === "string" && v.trim().length > 0
      ? ok(v)
      : bad(`first_frame must be an https URL or a path to a png, jpg or webp file (got ${describe(v)})`),
  last_frame: (v) =>
    typeof v === "string" && v.trim().length > 0
      ? ok(v)
      : bad(`last_frame must be an https URL or a path to a png, jpg or webp file (got ${describe(v)})`)
}

interface FrameCheck {
  readonly node: Node
  readonly path: string
  readonly shot: string | undefined
  readonly absolutePath: string
  readonly written: string
}

/**
 * Reads and validates a manifest. Every problem of the file is collected, each
 * located at its YAML node, and reported together.
 */
export const loadManifest = (
  file: string
): Effect.Effect<LoadedManifest, ManifestInvalid | ManifestUnreadable, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const unreadable = (reason: string) => new ManifestUnreadable({ file, reason })
    const absolutePath = path.resolve(file)
    const info = yield* fs.stat(absolutePath).pipe(Effect.mapError(() => unreadable("no such file")))
    if (info.type !== "File") return yield* Effect.fail(unreadable("not a file"))
    if (Number(info.size) > MAX_MANIFEST_BYTES) {
      return yield* Effect.fail(unreadable(`${info.size} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes`))
    }
    const bytes = yield* fs.readFile(absolutePath).pipe(Effect.mapError((e) => unreadable(e.message)))
    const text = yield* Effect.try({
      try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
      catch: () => unreadable(`not UTF-8 text (${firstInvalidUtf8(bytes)}); save the manifest as UTF-8`)
    })
    const directory = path.dirname(absolutePath)
    const stem = path.basename(absolutePath).replace(/\.ya?ml$/i, "")

    const lineCounter = new LineCounter()
    const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
    const issues: Array<ManifestIssue> = []
    const issueAt = (offset: number, where: string, shot: string | undefined, message: string) => {
      const { line, col } = lineCounter.linePos(offset)
      issues.push({ file, line, column: col, shot, path: where, message })
    }
    const at = (node: Node | null | undefined, where: string, shot: string | undefined, message: string) =>
      issueAt(node?.range?.[0] ?? 0, where, shot, message)

    for (const error of [...doc.errors, ...doc.warnings]) {
      issueAt(error.pos[0], "", undefined, `YAML: ${error.message.split("\n")[0]}`)
    }
    if (issues.length > 0) return yield* Effect.fail(new ManifestInvalid({ file, issues }))

    // Aliases are expanded by toJS; a bomb of nested aliases is refused here.
    const document = yield* Effect.try({
      try: () => doc.toJS({ maxAliasCount: 100 }) as unknown,
      catch: (error) =>
        new ManifestInvalid({
          file,
          issues: [{ file, line: 1, column: 1, path: "", message: `YAML: ${String(error)}` }]
        })
    })
    const root = doc.contents
    if (!isMap(root)) {
      at(
        root,
        "",
        undefined,
        "a manifest is a map with version, shots and optional name, model, concurrency, rpm, defaults"
      )
      return yield* Effect.fail(new ManifestInvalid({ file, issues }))
    }

    const frameChecks: Array<FrameCheck> = []

    const checkKeys = (map: YAMLMap, allowed: ReadonlyArray<string>, where: string, shot: string | undefined) => {
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
        if (!allowed.includes(key)) {
          const close = closestKey(key, allowed)
          at(
            pair.key as Node,
            where === "" ? key : `${where}.${key}`,
            shot,
            `unknown key "${key}"${close === undefined ? "" : ` (did you mean "${close}"?)`}; allowed: ${
              allowed.join(", ")
            }`
          )
        }
      }
    }

    const scalarValue = (node: unknown): unknown =>
      isScalar(node) ? node.value : isSeq(node) ? [] : isMap(node) ? {} : node

    const frameOf = (node: Node, raw: string, where: string, shot: string | undefined): FrameRef => {
      if (/^https?:\/\//i.test(raw)) return { _tag: "Url", url: raw }
      if (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[a-z]:[\\/]/i.test(raw)) {
        at(node, where, shot, `a frame must be an http(s) URL or a local file (got ${describe(raw)})`)
      }
      const absolute = path.resolve(directory, raw)
      frameChecks.push({ node, path: where, shot, absolutePath: absolute, written: raw })
      return { _tag: "File", path: raw, absolutePath: absolute }
    }

    /** The param fields of a shot or of `defaults`. */
    const readFields = (map: YAMLMap, where: string, shot: string | undefined): ShotFields => {
      const fields: Record<string, unknown> = {}
      for (const key of SHOT_PARAM_KEYS) {
        const node = map.get(key, true) as Node | undefined
        if (node === undefined) continue
        const value = scalarValue(node)
        const checked = VALUE_RULES[key]!(value)
        if (Either.isLeft(checked)) {
          at(node, `${where}.${key}`, shot, checked.left)
          continue
        }
        fields[key] = key === "first_frame" || key === "last_frame"
          ? frameOf(node, String(value), `${where}.${key}`, shot)
          : value
      }
      return fields as ShotFields
    }

    // Top level.
    checkKeys(root, TOP_KEYS, "", undefined)
    const versionNode = root.get("version", true) as Node | undefined
    if (versionNode === undefined) at(root, "version", undefined, "version is required; write `version: 1`")
    else if (scalarValue(versionNode) !== 1) {
      at(versionNode, "version", undefined, `version must be 1 (got ${describe(scalarValue(versionNode))})`)
    }

    const nameNode = root.get("name", true) as Node | undefined
    const name = nameNode === undefined ? stem : String(scalarValue(nameNode))
    if (!RUN_NAME.test(name)) {
      at(
        nameNode ?? root,
        "name",
        undefined,
        `name must be a plain folder name: letters, digits, ".", "_", "-", starting with a letter or digit (got ${
          describe(name)
        })`
      )
    }
    const modelNode = root.get("model", true) as Node | undefined
    const model = modelNode === undefined ? SEEDANCE_MODEL : scalarValue(modelNode)
    if (model !== SEEDANCE_MODEL) {
      at(modelNode, "model", undefined, `model must be "${SEEDANCE_MODEL}" (got ${describe(model)})`)
    }

    const bounded = (map: YAMLMap, key: keyof typeof LIMITS, where: string): number | undefined => {
      const { min, max, integer } = LIMITS[key]
      const node = map.get(key, true) as Node | undefined
      if (node === undefined) return undefined
      const value = scalarValue(node)
      if (typeof value === "number" && (!integer || Number.isInteger(value)) && value >= min && value <= max) {
        return value
      }
      at(
        node,
        where,
        undefined,
        `${key} must be ${integer ? "an integer" : "a number"} from ${min} to ${max} (got ${describe(value)})`
      )
      return undefined
    }
    const concurrency = bounded(root, "concurrency", "concurrency")
    const rpm = bounded(root, "rpm", "rpm")
    const retryNode = root.get("retry", true) as Node | undefined
    let retry: Manifest["retry"]
    if (retryNode !== undefined) {
      if (!isMap(retryNode)) at(retryNode, "retry", undefined, "retry must be a map of tries, base and cap (seconds)")
      else {
        checkKeys(retryNode, RETRY_KEYS, "retry", undefined)
        const tries = bounded(retryNode, "tries", "retry.tries")
        const base = bounded(retryNode, "base", "retry.base")
        const cap = bounded(retryNode, "cap", "retry.cap")
        retry = {
          ...(tries === undefined ? {} : { tries }),
          ...(base === undefined ? {} : { base }),
          ...(cap === undefined ? {} : { cap })
        }
      }
    }

    const defaultsNode = root.get("defaults", true) as Node | undefined
    let defaults: ShotFields = {}
    if (defaultsNode !== undefined) {
      if (!isMap(defaultsNode)) at(defaultsNode, "defaults", undefined, "defaults must be a map of shot fields")
      else {
        checkKeys(defaultsNode, SHOT_PARAM_KEYS, "defaults", undefined)
        defaults = readFields(defaultsNode, "defaults", undefined)
      }
    }

    const shotsNode = root.get("shots", true) as Node | undefined
    const shots: Array<Shot> = []
    if (shotsNode === undefined) {
      at(root, "shots", undefined, "shots is required: a list of shots, each with an id and a prompt")
    } else if (!isSeq(shotsNode) || shotsNode.items.length === 0) {
      at(shotsNode, "shots", undefined, "shots must be a non-empty list of shots, each with an id and a prompt")
    } else {
      const firstSeen = new Map<string, number>()
      shotsNode.items.forEach((item, index) => {
        const where = `shots[${index}]`
        if (!isMap(item)) {
          at(
            item as Node,
            where,
            undefined,
            `a shot must be a map with at least id and prompt (got ${describe(scalarValue(item))})`
          )
          return
        }
        const idNode = item.get("id", true) as Node | undefined
        const rawId = idNode === undefined ? undefined : scalarValue(idNode)
        const id = typeof rawId === "string" || typeof rawId === "number" ? String(rawId) : undefined
        const shotName = id
        if (idNode === undefined) {
          at(
            item,
            `${where}.id`,
            undefined,
            "id is required: letters, digits, _ and -, starting with a letter or digit"
          )
        } else if (id === undefined || !SHOT_ID.test(id) || id.length > SHOT_ID_MAX_LENGTH) {
          at(
            idNode,
            `${where}.id`,
            shotName,
            `id must be 1-${SHOT_ID_MAX_LENGTH} letters, digits, _ and -, starting with a letter or digit (got ${
              describe(rawId)
            })`
          )
        } else if (firstSeen.has(id)) {
          at(
            idNode,
            `${where}.id`,
            shotName,
            `id "${id}" is already used by the shot on line ${firstSeen.get(id)}; ids must be unique`
          )
        } else {
          firstSeen.set(id, lineCounter.linePos(idNode.range?.[0] ?? 0).line)
        }
        checkKeys(item, SHOT_KEYS, where, shotName)
        const fields = readFields(item, where, shotName)
        if (item.get("prompt", true) === undefined && defaults.prompt === undefined) {
          at(item, `${where}.prompt`, shotName, "prompt is required: what the shot shows")
        }

        let sweep: Array<readonly [string, ReadonlyArray<SweepValue>]> | undefined
        const sweepNode = item.get("sweep", true) as Node | undefined
        if (sweepNode !== undefined) {
          if (!isMap(sweepNode) || sweepNode.items.length === 0) {
            at(
              sweepNode,
              `${where}.sweep`,
              shotName,
              `sweep must map one or more of ${SWEEP_KEYS.join(", ")} to lists of values`
            )
          } else {
            checkKeys(sweepNode, SWEEP_KEYS, `${where}.sweep`, shotName)
            sweep = []
            for (const pair of sweepNode.items) {
              const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
              if (!(SWEEP_KEYS as ReadonlyArray<string>).includes(key)) continue
              const valuesNode = pair.value as Node | null
              if (!isSeq(valuesNode) || valuesNode.items.length === 0) {
                at(
                  valuesNode ?? (pair.key as Node),
                  `${where}.sweep.${key}`,
                  shotName,
                  `sweep.${key} must be a non-empty list of values`
                )
                continue
              }
              const values: Array<SweepValue> = []
              valuesNode.items.forEach((valueNode, i) => {
                const value = scalarValue(valueNode)
                const checked = VALUE_RULES[key]!(value)
                if (Either.isLeft(checked)) at(valueNode as Node, `${where}.sweep.${key}[${i}]`, shotName, checked.left)
                else if (values.includes(value as SweepValue)) {
                  at(
                    valueNode as Node,
                    `${where}.sweep.${key}[${i}]`,
                    shotName,
                    `${describe(value)} is listed twice; each sweep value renders once`
                  )
                } else values.push(value as SweepValue)
              })
              sweep.push([key, values])
            }
            if (fields.seed !== undefined && sweep.some(([key]) => key === "seed")) {
              at(
                sweepNode,
                `${where}.sweep.seed`,
                shotName,
                "seed is given both on the shot and in its sweep; keep one"
              )
            }
          }
        }

        let takes: number | undefined
        const takesNode = item.get("takes", true) as Node | undefined
        if (takesNode !== undefined) {
          const value = scalarValue(takesNode)
          if (
            typeof value !== "number" || !Number.isInteger(value) || value < LIMITS.takes.min ||
            value > LIMITS.takes.max
          ) {
            at(
              takesNode,
              `${where}.takes`,
              shotName,
              `takes must be an integer from ${LIMITS.takes.min} to ${LIMITS.takes.max} (got ${describe(value)})`
            )
          } else if (
            fields.seed !== undefined || defaults.seed !== undefined || sweep?.some(([key]) => key === "seed")
          ) {
            at(
              takesNode,
              `${where}.takes`,
              shotName,
              "takes draws a seed for each take; remove the seed, or remove takes"
            )
          } else takes = value
        }

        const merged = { ...defaults, ...fields }
        if (merged.last_frame !== undefined && merged.first_frame === undefined) {
          at(
            item.get("last_frame", true) as Node | undefined ?? item,
            `${where}.last_frame`,
            shotName,
            "last_frame needs a first_frame"
          )
        }
        const aspects = [merged.aspect_ratio, ...(sweep?.find(([key]) => key === "aspect_ratio")?.[1] ?? [])]
        if (aspects.includes("adaptive") && merged.first_frame === undefined) {
          at(
            item.get("aspect_ratio", true) as Node | undefined ?? item,
            `${where}.aspect_ratio`,
            shotName,
            "aspect_ratio \"adaptive\" follows the first frame, so it needs a first_frame"
          )
        }
        if (id !== undefined) {
          shots.push({
            ...fields,
            id,
            prompt: fields.prompt ?? defaults.prompt ?? "",
            ...(sweep === undefined ? {} : { sweep }),
            ...(takes === undefined ? {} : { takes })
          })
        }
      })
    }

    for (const check of frameChecks) {
      const problem = yield* frameProblem(fs, check.absolutePath)
      if (problem !== undefined) at(check.node, check.path, check.shot, `${check.written}: ${problem}`)
    }

    if (issues.length === 0) {
      // The schema is the validator of record: anything the checks above let through is still refused, at its node.
      const decoded = Schema.decodeUnknownEither(ManifestDocument)(document)
      if (Either.isLeft(decoded)) {
        for (const problem of ParseResult.ArrayFormatter.formatErrorSync(decoded.left)) {
          const { node, where } = nearestNode(doc, problem.path)
          const shot = problem.path[0] === "shots" && typeof problem.path[1] === "number"
            ? shotIdAt(doc, problem.path[1])
            : undefined
          at(node, where, shot, problem.message)
        }
      }
    }
    if (issues.length > 0) {
      issues.sort((a, b) => a.line - b.line || a.column - b.column)
      return yield* Effect.fail(new ManifestInvalid({ file, issues }))
    }
    return {
      file,
      absolutePath,
      directory,
      text,
      sha256: sha256Hex(bytes),
      manifest: {
        version: 1,
        name,
        model: SEEDANCE_MODEL,
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(rpm === undefined ? {} : { rpm }),
        ...(retry === undefined ? {} : { retry }),
        defaults,
        shots
      }
    } satisfies LoadedManifest
  })

/** `["shots", 1, "sweep"]` -> `shots[1].sweep` */
const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("")

/** The node at a schema issue's path, or its nearest ancestor that exists (a missing key is reported at its map). */
const nearestNode = (
  doc: Document,
  path: ReadonlyArray<PropertyKey>
): { readonly node: Node | undefined; readonly where: string } => {
  for (let length = path.length; length > 0; length--) {
    const node = doc.getIn(path.slice(0, length), true)
    if (isNode(node)) return { node, where: pathText(path) }
  }
  return { node: doc.contents ?? undefined, where: pathText(path) }
}

const shotIdAt = (doc: Document, index: number): string | undefined => {
  const id = doc.getIn(["shots", index, "id"])
  return typeof id === "string" || typeof id === "number" ? String(id) : undefined
}

/** Where the first byte that breaks UTF-8 sits, as line and column. */
const firstInvalidUtf8 = (bytes: Uint8Array): string => {
  let low = 0
  let high = bytes.length
  // The longest valid prefix, by bisection; streaming mode keeps a character cut in half from counting as invalid.
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, middle), { stream: true })
      low = middle
    } catch {
      high = middle - 1
    }
  }
  // Only whole characters come out, so a sequence cut short by the bad byte counts as the bad spot.
  const before = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, low), { stream: true })
  const lines = before.split("\n")
  return `first bad byte at line ${lines.length}, column ${(lines[lines.length - 1]?.length ?? 0) + 1}`
}

const frameProblem = (fs: FileSystem.FileSystem, absolutePath: string) =>
  Effect.gen(function*() {
    const extension = absolutePath.slice(absolutePath.lastIndexOf(".")).toLowerCase()
    if (!FRAME_EXTENSIONS.includes(extension)) return "a local frame must be a .png, .jpg, .jpeg or .webp file"
    const info = yield* Effect.either(fs.stat(absolutePath))
    if (Either.isLeft(info) || info.right.type !== "File") return "no such file (paths are relative to the manifest)"
    if (Number(info.right.size) > MAX_FRAME_BYTES) return `${info.right.size} bytes; a frame may be at most 30 MB`
    return undefined
  })
