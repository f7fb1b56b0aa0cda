import { Data, Either } from "effect"
import { isDeepStrictEqual } from "node:util"
import { type Document, isMap, isScalar, isSeq, type Pair, parse, parseDocument, stringify, type YAMLMap } from "yaml"
import type { SweepValue } from "../domain/Job.js"

/** What a shot is pinned to: the seed and swept values of the job an artist picked. */
export interface ShotPin {
  readonly shot: string
  readonly job: string
  readonly seed: number
  /** the swept values besides the seed, e.g. `{ camera_fixed: false }` */
  readonly values: Readonly<Record<string, SweepValue>>
}

/** A manifest the pins cannot be written into. */
export class PinRefused extends Data.TaggedError("PinRefused")<{
  readonly file: string
  readonly reason: string
}> {
  override get message() {
    return `cannot pin ${this.file}: ${this.reason}`
  }
}

/** The keys a pin folds away: what made the shot more than one job. */
const FOLDED = new Set(["sweep", "takes"])

/** One replacement in the manifest's text. */
interface Edit {
  readonly start: number
  readonly end: number
  readonly text: string
}

const lineStart = (text: string, at: number) => text.lastIndexOf("\n", at - 1) + 1

const lineEnd = (text: string, at: number) => {
  if (at > 0 && text[at - 1] === "\n") return at
  const newline = text.indexOf("\n", at)
  return newline === -1 ? text.length : newline + 1
}

/** Comment lines indented deeper than `column` right after `at`: they belong to the block that ends there. */
const endOfTrailingComments = (text: string, at: number, column: number) => {
  let end = at
  while (end < text.length) {
    const next = lineEnd(text, end + 1)
    const commentIndent = /^( *)#/.exec(text.slice(end, next))?.[1]?.length
    if (commentIndent === undefined || commentIndent <= column) break
    end = next
  }
  return end
}

const scalarText = (value: SweepValue | number) => stringify(value).trimEnd()

const keyOf = (pair: Pair): unknown => (isScalar(pair.key) ? pair.key.value : pair.key)

const shotsOf = (doc: Document) => {
  const shots = doc.get("shots", true)
  return isSeq(shots) ? shots.items : []
}

const findShot = (doc: Document, id: string): YAMLMap | undefined =>
  shotsOf(doc).find((item): item is YAMLMap => isMap(item) && item.get("id") === id)

/** The fields the pin sets on a shot, seed first. */
const pinnedFields = (pin: ShotPin): ReadonlyArray<readonly [string, SweepValue]> => [
  ["seed", pin.seed],
  ...Object.entries(pin.values).filter(([key]) => key !== "seed")
]

const header = (pin: ShotPin, runId: string, folded: boolean) =>
  `shotlist pin: kept ${pin.job} of run ${runId.replace(/\s+/g, " ")}${folded ? "; it replaced:" : ""}`

/** Whether pinning changes the shot: something to fold, or a field it does not set to the pick's value yet. */
const changes = (shot: YAMLMap, pin: ShotPin) =>
  shot.items.some((pair) => FOLDED.has(String(keyOf(pair)))) ||
  pinnedFields(pin).some(([key, value]) => shot.get(key) !== value)

/**
 * The edits that pin one block-style shot in place: its `sweep`/`takes` lines
 * become a comment above it, its seed and swept values are set where they are
 * or where the folded keys were. Undefined for a layout this cannot edit
 * line by line (a flow map, a folded key on the `- ` line).
 */
const blockEdits = (text: string, shot: YAMLMap, pin: ShotPin, runId: string): ReadonlyArray<Edit> | undefined => {
  if (!changes(shot, pin)) return []
  const pairs = shot.items
  const first = pairs[0]
  if (shot.flow === true || first === undefined || !isScalar(first.key) || shot.range == null) return undefined
  const keyStart = (pair: Pair) => (isScalar(pair.key) ? pair.key.range?.[0] : undefined)
  const firstKey = keyStart(first)
  if (firstKey === undefined) return undefined
  const column = firstKey - lineStart(text, firstKey)
  const indent = " ".repeat(column)
  const folded = pairs.filter((pair) => FOLDED.has(String(keyOf(pair))))
  const edits: Array<Edit> = []
  const comment: Array<string> = []
  for (const pair of folded) {
    const start = keyStart(pair)
    const valueEnd = isScalar(pair.value) || isMap(pair.value) || isSeq(pair.value) ? pair.value.range?.[1] : undefined
    if (start === undefined || valueEnd === undefined) return undefined
    const from = lineStart(text, start)
    if (text.slice(from, start).trim() !== "") return undefined
    const to = endOfTrailingComments(text, lineEnd(text, valueEnd), column)
    comment.push(...text.slice(from, to).replace(/\n$/, "").split("\n").map((line) => line.slice(column)))
    edits.push({ start: from, end: to, text: "" })
  }
  const insertAt = edits[0]?.start ?? lineEnd(text, shot.range[1])
  const inserted: Array<string> = []
  for (const [key, value] of pinnedFields(pin)) {
    const existing = pairs.find((pair) => keyOf(pair) === key)
    const range = existing !== undefined && isScalar(existing.value) ? existing.value.range : undefined
    if (existing !== undefined && range == null) return undefined
    if (range != null) edits.push({ start: range[0], end: range[1], text: scalarText(value) })
    else inserted.push(`${indent}${key}: ${scalarText(value)}\n`)
  }
  if (inserted.length > 0) edits.push({ start: insertAt, end: insertAt, text: inserted.join("") })
  const dashLine = lineStart(text, shot.range[0])
  const dashIndent = /^ */.exec(text.slice(dashLine))?.[0] ?? ""
  const commentLines = [header(pin, runId, folded.length > 0), ...comment.map((line) => `  ${line}`)]
  edits.push({ start: dashLine, end: dashLine, text: commentLines.map((line) => `${dashIndent}# ${line}\n`).join("") })
  return edits
}

/** A picked prompt variant is pinned as its text: the pick names it (`calm`), the shot needs what it says. */
const withVariantTexts = (doc: Document) => (pin: ShotPin): ShotPin => {
  const name = pin.values["prompt"]
  const text = name === undefined ? undefined : findShot(doc, pin.shot)?.getIn(["sweep", "prompt", name])
  return typeof text === "string" ? { ...pin, values: { ...pin.values, prompt: text } } : pin
}

const applyEdits = (text: string, edits: ReadonlyArray<Edit>) =>
  [...edits]
    .sort((a, b) => b.start - a.start || b.end - a.end)
    .reduce((out, edit) => out.slice(0, edit.start) + edit.text + out.slice(edit.end), text)

/** The same pins through the Document API: right whatever the layout, though it may reflow the rest of the file. */
const documentEdit = (text: string, pins: ReadonlyArray<ShotPin>, runId: string): string => {
  const doc = parseDocument(text)
  for (const pin of pins) {
    const shot = findShot(doc, pin.shot)
    if (shot === undefined || !changes(shot, pin)) continue
    const was = shot.items
      .filter((pair) => FOLDED.has(String(keyOf(pair))))
      .flatMap((pair) => stringify({ [String(keyOf(pair))]: pair.value }).trimEnd().split("\n"))
    for (const key of FOLDED) shot.delete(key)
    for (const [key, value] of pinnedFields(pin)) shot.set(key, value)
    const lines = [header(pin, runId, was.length > 0), ...was.map((line) => `  ${line}`)].map((line) => ` ${line}`)
    shot.commentBefore = [shot.commentBefore, ...lines].filter((line) => line !== undefined).join("\n")
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false })
}

/** The manifest as plain data, with the pins applied: what the edited text must parse to. */
const expectedData = (doc: Document, pins: ReadonlyArray<ShotPin>): unknown => {
  const data = doc.toJS({ maxAliasCount: 100 }) as { shots?: Array<Record<string, unknown>> }
  for (const pin of pins) {
    const shot = data.shots?.find((entry) => entry["id"] === pin.shot)
    if (shot === undefined) continue
    for (const key of FOLDED) delete shot[key]
    for (const [key, value] of pinnedFields(pin)) shot[key] = value
  }
  return data
}

/**
 * A manifest's text with each pinned shot rendering only its picked variant:
 * `seed` and swept values set, `sweep`/`takes` folded into a comment above
 * the shot. Everything else, comments and layout included, is left as it was.
 */
export const pinManifest = (
  file: string,
  text: string,
  pins: ReadonlyArray<ShotPin>,
  runId: string
): Either.Either<string, PinRefused> => {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) {
    return Either.left(new PinRefused({ file, reason: `not valid YAML: ${doc.errors[0]?.message.split("\n")[0]}` }))
  }
  const missing = pins.filter((pin) => findShot(doc, pin.shot) === undefined).map((pin) => pin.shot)
  if (missing.length > 0) {
    const known = shotsOf(doc).flatMap((item) => (isMap(item) ? [String(item.get("id"))] : []))
    return Either.left(
      new PinRefused({
        file,
        reason: `it has no shot ${missing.map((id) => JSON.stringify(id)).join(", ")} (its shots: ${known.join(", ")})`
      })
    )
  }
  const expected = expectedData(doc, pins.map(withVariantTexts(doc)))
  const edits = pins.map(withVariantTexts(doc)).map((pin) => blockEdits(text, findShot(doc, pin.shot)!, pin, runId))
  if (edits.every((shotEdits): shotEdits is ReadonlyArray<Edit> => shotEdits !== undefined)) {
    const edited = applyEdits(text, edits.flat())
    const check = Either.try(() => parse(edited, { maxAliasCount: 100 }) as unknown)
    if (Either.isRight(check) && isDeepStrictEqual(check.right, expected)) return Either.right(edited)
  }
  return Either.right(documentEdit(text, pins.map(withVariantTexts(doc)), runId))
}
