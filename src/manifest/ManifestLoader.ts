import { FileSystem, Path } from "@effect/platform"
import { Effect, Either, Option, ParseResult, Predicate, Schema } from "effect"
import { type Document, isMap, isNode, isScalar, LineCounter, type Node, parseDocument } from "yaml"
import { FRAME_HEADER_BYTES, type FrameImage, frameImageOf, frameProblem } from "../domain/FrameLimits.js"
import { SEEDANCE_MODEL } from "../domain/SeedanceParams.js"
import { sha256Hex } from "../store/FileDigest.js"
import { jobIdProblems } from "./JobExpansion.js"
import type { FrameRef, Manifest, Shot, ShotFields } from "./Manifest.js"
import { ManifestInvalid, type ManifestIssue, ManifestUnreadable } from "./ManifestErrors.js"
import {
  isFrameFile,
  isFrameUrl,
  ManifestRules,
  ManifestShape,
  RunName,
  ShotId,
  unknownKeyMessage
} from "./ManifestSchema.js"
import { chainProblems } from "./ShotLinks.js"

export interface LoadedManifest {
  /** as the user gave it */
  readonly file: string
  readonly absolutePath: string
  readonly directory: string
  /** the exact source text, copied into the run directory */
  readonly text: string
  readonly sha256: string
  readonly manifest: Manifest
  /** A problem found after loading, placed at its node: `["shots", 1, "sweep"]`. */
  readonly locate: (path: ReadonlyArray<PropertyKey>, message: string) => ManifestIssue
  /** each local frame's format and pixel size, by absolute path: what an `adaptive` job's shape follows */
  readonly frameImages: ReadonlyMap<string, FrameImage>
}

const MAX_MANIFEST_BYTES = 1024 * 1024
/** Every problem at once; maps keep the order written, so a sweep's first key still varies slowest. */
const DECODE = { errors: "all", onExcessProperty: "error", propertyOrder: "original" } as const

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

/** The manifest's bytes and text, refused before parsing when missing, too large or not UTF-8. */
const readSource = Effect.fn("ManifestLoader.readSource")(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const unreadable = (reason: string) => new ManifestUnreadable({ file, reason })
  const absolutePath = path.resolve(file)
  const info = yield* fs.stat(absolutePath).pipe(Effect.mapError(() => unreadable("no such file")))
  if (info.type !== "File") return yield* unreadable("not a file")
  if (Number(info.size) > MAX_MANIFEST_BYTES) {
    return yield* unreadable(`${info.size} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes`)
  }
  const bytes = yield* fs.readFile(absolutePath).pipe(Effect.mapError((e) => unreadable(e.message)))
  const text = yield* Effect.try({
    try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    catch: () => unreadable(`not UTF-8 text (${firstInvalidUtf8(bytes)}); save the manifest as UTF-8`)
  })
  return { absolutePath, bytes, text }
})

/** A manifest's YAML: its nodes, to place each problem in the file, and the plain document the schema decodes. */
interface Parsed {
  readonly file: string
  readonly doc: Document
  readonly lineCounter: LineCounter
  readonly document: unknown
}

/** Parses with node ranges; YAML errors and alias bombs end the load here, located. */
const parseYaml = (file: string, text: string): Effect.Effect<Parsed, ManifestInvalid> => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  const yamlErrors = [...doc.errors, ...doc.warnings]
  if (yamlErrors.length > 0) {
    const issues = yamlErrors.map((error) => {
      const { col, line } = lineCounter.linePos(error.pos[0])
      return { file, line, column: col, shot: undefined, path: "", message: `YAML: ${error.message.split("\n")[0]}` }
    })
    return Effect.fail(new ManifestInvalid({ file, issues }))
  }
  // Aliases are expanded by toJS; a bomb of nested aliases is refused here.
  return Effect.try({
    try: () => ({ file, doc, lineCounter, document: doc.toJS({ maxAliasCount: 100 }) as unknown }),
    catch: (error) =>
      new ManifestInvalid({
        file,
        issues: [{ file, line: 1, column: 1, path: "", message: `YAML: ${String(error)}` }]
      })
  })
}

/** What is wrong, and where in the document: `["shots", 1, "seed"]`. */
interface Problem {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

/** `["shots", 1, "sweep"]` -> `shots[1].sweep` */
const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("")

/** The node at a path, or its nearest ancestor that exists (a missing key is reported at its map). */
const nearestNode = (doc: Document, path: ReadonlyArray<PropertyKey>): Node | undefined => {
  for (let length = path.length; length > 0; length--) {
    const node = doc.getIn(path.slice(0, length), true)
    if (isNode(node)) return node
  }
  return doc.contents ?? undefined
}

/** The id of the shot a path is in, as written (even when it is not a valid id), for the message's `shot "…"`. */
const shotIdAt = (doc: Document, path: ReadonlyArray<PropertyKey>): string | undefined => {
  if (path[0] !== "shots" || typeof path[1] !== "number") return undefined
  const id = doc.getIn(["shots", path[1], "id"])
  return typeof id === "string" || typeof id === "number" ? String(id) : undefined
}

const issueAt = (parsed: Parsed, node: Node | undefined, path: ReadonlyArray<PropertyKey>, message: string) => {
  const { col, line } = parsed.lineCounter.linePos(node?.range?.[0] ?? 0)
  return { file: parsed.file, line, column: col, shot: shotIdAt(parsed.doc, path), path: pathText(path), message }
}

/** A problem placed at its node in the file. */
const locate = (parsed: Parsed, problem: Problem): ManifestIssue =>
  issueAt(parsed, nearestNode(parsed.doc, problem.path), problem.path, problem.message)

/** An unknown key is placed at the key itself, and named as written (`5`, `null`), not as JavaScript spells it. */
const locateUnknownKey = (parsed: Parsed, path: ReadonlyArray<PropertyKey>): ManifestIssue => {
  const map = path.length === 1 ? parsed.doc.contents : parsed.doc.getIn(path.slice(0, -1), true)
  const written = String(path[path.length - 1])
  const pair = isMap(map)
    ? map.items.find(({ key }) => (isScalar(key) ? String(key.value ?? "") : String(key)) === written)
    : undefined
  const key = pair === undefined ? written : isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
  const where = [...path.slice(0, -1), key]
  const node = isNode(pair?.key) ? pair.key : nearestNode(parsed.doc, path)
  return issueAt(parsed, node, where, unknownKeyMessage(key, path.slice(0, -1)))
}

/** The issues of a decode, each with its path and message; none when it succeeded. */
const issuesOf = <A>(result: Either.Either<A, ParseResult.ParseError>) =>
  Either.isRight(result) ? [] : ParseResult.ArrayFormatter.formatErrorSync(result.left)

/** Every issue the schema finds: each field against the shape, and the rules across fields. */
const schemaIssues = (parsed: Parsed, shape: Either.Either<ManifestShape, ParseResult.ParseError>) =>
  [...issuesOf(shape), ...issuesOf(Schema.decodeUnknownEither(ManifestRules, DECODE)(parsed.document))].map((issue) =>
    issue._tag === "Unexpected" ? locateUnknownKey(parsed, issue.path) : locate(parsed, issue)
  )

/** The shots of the document as written, with their index; none when `shots` is not a list. */
const writtenShots = (document: unknown) =>
  Predicate.isRecord(document) && Array.isArray(document.shots)
    ? document.shots.flatMap((shot: unknown, index) => (Predicate.isRecord(shot) ? [{ shot, index }] : []))
    : []

const isShotId = Schema.is(ShotId)

/** A second use of an id, even in another case, naming the line of the first; the schema sees one shot at a time. */
const duplicateIds = (parsed: Parsed): Array<Problem> => {
  const first = new Map<string, { readonly id: string; readonly line: number }>()
  return writtenShots(parsed.document).flatMap(({ index, shot }) => {
    if (!isShotId(shot.id)) return []
    const id = String(shot.id)
    const path = ["shots", index, "id"]
    const earlier = first.get(id.toLowerCase())
    if (earlier === undefined) {
      const line = parsed.lineCounter.linePos(nearestNode(parsed.doc, path)?.range?.[0] ?? 0).line
      first.set(id.toLowerCase(), { id, line })
      return []
    }
    return [{
      path,
      message: earlier.id === id
        ? `id "${id}" is already used by the shot on line ${earlier.line}; ids must be unique`
        : `id "${id}" differs from "${earlier.id}" (the shot on line ${earlier.line}) only in case; Windows and macOS would write both jobs to one file: ids must differ in more than case`
    }]
  })
}

/** Without `name` the run is named after the file, which must then be a plain folder name too. */
const fileNameProblems = (document: unknown, stem: string): Array<Problem> =>
  Predicate.isRecord(document) && !("name" in document)
    ? issuesOf(Schema.decodeUnknownEither(RunName)(stem)).map(({ message }) => ({ path: ["name"], message }))
    : []

/** Each local frame written with a valid value, at its field, wherever the rest of the manifest stands. */
const localFrames = (document: unknown) => {
  const holders = [
    ...(Predicate.isRecord(document) && Predicate.isRecord(document.defaults)
      ? [{ at: ["defaults"], fields: document.defaults }]
      : []),
    ...writtenShots(document).map(({ index, shot }) => ({ at: ["shots", index], fields: shot }))
  ]
  const sweptFrames = writtenShots(document).flatMap(({ index, shot }) => {
    const listed = Predicate.isRecord(shot.sweep) ? shot.sweep.first_frame : undefined
    return Array.isArray(listed)
      ? listed.flatMap((written: unknown, position) =>
        isFrameFile(written) ? [{ path: ["shots", index, "sweep", "first_frame", position], written }] : []
      )
      : []
  })
  return [
    ...holders.flatMap(({ at, fields }) =>
      (["first_frame", "last_frame"] as const).flatMap((key) => {
        const written = fields[key]
        return isFrameFile(written) ? [{ path: [...at, key], written }] : []
      })
    ),
    ...sweptFrames
  ]
}

/** What stat calls a file that is not a regular one, as a user would name it. */
const FILE_KINDS: Partial<Record<FileSystem.File.Type, string>> = {
  Directory: "a directory, not an image file",
  FIFO: "a FIFO, not a regular file",
  Socket: "a socket, not a regular file",
  BlockDevice: "a block device, not a regular file",
  CharacterDevice: "a character device, not a regular file"
}

/** A local frame as found on disk: what its header says, or why it cannot be sent (a phrase after its name). */
type FrameCheck = { readonly image: FrameImage } | { readonly problem: string }

/** Checks a frame by its bytes, reading only its header: never a whole huge file, never a FIFO at all. */
const checkFrameFile = (fs: FileSystem.FileSystem, absolutePath: string): Effect.Effect<FrameCheck> =>
  Effect.gen(function*() {
    const info = yield* Effect.either(fs.stat(absolutePath))
    if (Either.isLeft(info)) return { problem: ": no such file (paths are relative to the manifest)" }
    if (info.right.type !== "File") return { problem: ` is ${FILE_KINDS[info.right.type] ?? "not a regular file"}` }
    const header = yield* Effect.scoped(
      Effect.flatMap(fs.open(absolutePath, { flag: "r" }), (file) => file.readAlloc(FRAME_HEADER_BYTES))
    ).pipe(Effect.either)
    if (Either.isLeft(header)) return { problem: `: cannot be read (${header.left.message})` }
    const image = Option.match(header.right, { onNone: () => undefined, onSome: frameImageOf })
    const problem = frameProblem(image, Number(info.right.size))
    return image !== undefined && problem === undefined ? { image } : { problem: ` ${problem}` }
  })

/**
 * The local frames that cannot be sent as they are, each at its field, and the
 * pixel size of those that can (by absolute path); checked even when other
 * fields are wrong.
 */
const checkFrameFiles = Effect.fn("ManifestLoader.frameFiles")(function*(document: unknown, directory: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const frames = localFrames(document).map((frame) => ({
    ...frame,
    absolutePath: path.resolve(directory, frame.written)
  }))
  // A frame named in several places is read once.
  const checks = new Map(
    yield* Effect.forEach(
      new Set(frames.map((frame) => frame.absolutePath)),
      (absolutePath) => Effect.map(checkFrameFile(fs, absolutePath), (check) => [absolutePath, check] as const)
    )
  )
  const problems = frames.flatMap(({ absolutePath, path: at, written }): Array<Problem> => {
    const check = checks.get(absolutePath)
    return check !== undefined && "problem" in check ? [{ path: at, message: `${written}${check.problem}` }] : []
  })
  const images = new Map<string, FrameImage>()
  for (const [absolutePath, check] of checks) if ("image" in check) images.set(absolutePath, check.image)
  return { problems, images }
})

/** The fields of a shot or of `defaults` as decoded: frames still as written. */
type Fields = NonNullable<ManifestShape["defaults"]>

const shotFields = (
  { first_frame, last_frame, ...rest }: Fields,
  frame: (written: string) => FrameRef
): ShotFields => ({
  ...rest,
  ...(first_frame === undefined
    ? {}
    : {
      first_frame: typeof first_frame === "string"
        ? frame(first_frame)
        : { _tag: "Shot", shot: String(first_frame.from) }
    }),
  ...(last_frame === undefined ? {} : { last_frame: frame(last_frame) })
})

type WrittenSweep = NonNullable<ManifestShape["shots"][number]["sweep"]>

/** A sweep's axes in the order written: prompt variants by name, frames as written, other values as they are. */
const sweepAxes = (sweep: WrittenSweep) =>
  Object.entries(sweep).flatMap(([key, values]) =>
    values === undefined ? [] : [[key, Array.isArray(values) ? values : Object.keys(values)] as const]
  )

/** What a swept name or frame stands for, so that expansion can fill in the prompt or the frame. */
const sweepVariants = (sweep: WrittenSweep, frame: (written: string) => FrameRef) => ({
  ...(sweep.prompt === undefined ? {} : { promptVariants: new Map(Object.entries(sweep.prompt)) }),
  ...(sweep.first_frame === undefined
    ? {}
    : { frameVariants: new Map(sweep.first_frame.map((written) => [written, frame(written)] as const)) })
})

const toShot = (
  { id, sweep, takes, ...fields }: ManifestShape["shots"][number],
  defaults: ShotFields,
  frame: (written: string) => FrameRef
): Shot => {
  const own = shotFields(fields, frame)
  return {
    ...own,
    id: String(id),
    prompt: own.prompt ?? defaults.prompt ?? "",
    ...(sweep === undefined ? {} : { sweep: sweepAxes(sweep), ...sweepVariants(sweep, frame) }),
    ...(takes === undefined ? {} : { takes })
  }
}

/** The validated manifest, named after its file when it has no `name`. */
const toManifest = (decoded: ManifestShape, stem: string, frame: (written: string) => FrameRef): Manifest => {
  const defaults = shotFields(decoded.defaults ?? {}, frame)
  return {
    version: 1,
    name: decoded.name === undefined ? stem : String(decoded.name),
    ...(decoded.seed_base === undefined ? {} : { seedBase: String(decoded.seed_base) }),
    model: SEEDANCE_MODEL,
    ...(decoded.concurrency === undefined ? {} : { concurrency: decoded.concurrency }),
    ...(decoded.plan === undefined ? {} : { plan: decoded.plan }),
    ...(decoded.rpm === undefined ? {} : { rpm: decoded.rpm }),
    ...(decoded.retry === undefined ? {} : { retry: decoded.retry }),
    defaults,
    shots: decoded.shots.map((shot) => toShot(shot, defaults, frame))
  }
}

/**
 * Reads and validates a manifest. Every problem of the file is collected, each
 * located at its YAML node, and reported together.
 */
export const loadManifest = Effect.fn("ManifestLoader.load")(function*(file: string) {
  const path = yield* Path.Path
  const { absolutePath, bytes, text } = yield* readSource(file)
  const parsed = yield* parseYaml(file, text)
  const directory = path.dirname(absolutePath)
  const stem = path.basename(absolutePath).replace(/\.ya?ml$/i, "")
  const shape = Schema.decodeUnknownEither(ManifestShape, DECODE)(parsed.document)
  const frames = yield* checkFrameFiles(parsed.document, directory)
  const problems = [...duplicateIds(parsed), ...fileNameProblems(parsed.document, stem), ...frames.problems]
  const issues = [...schemaIssues(parsed, shape), ...problems.map((problem) => locate(parsed, problem))]
  if (issues.length > 0 || Either.isLeft(shape)) {
    issues.sort((a, b) => a.line - b.line || a.column - b.column)
    return yield* new ManifestInvalid({ file, issues })
  }
  const frame = (written: string): FrameRef =>
    isFrameUrl(written)
      ? { _tag: "Url", url: written }
      : { _tag: "File", path: written, absolutePath: path.resolve(directory, written) }
  const manifest = toManifest(shape.right, stem, frame)
  const jobIdIssues = [...jobIdProblems(manifest.shots), ...chainProblems(manifest)].map((problem) =>
    locate(parsed, problem)
  )
  if (jobIdIssues.length > 0) return yield* new ManifestInvalid({ file, issues: jobIdIssues })
  const locateHere = (at: ReadonlyArray<PropertyKey>, message: string) => locate(parsed, { path: at, message })
  return {
    file,
    absolutePath,
    directory,
    text,
    sha256: sha256Hex(bytes),
    manifest,
    locate: locateHere,
    frameImages: frames.images
  } satisfies LoadedManifest
})
