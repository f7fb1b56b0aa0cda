import { Command } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Ajv } from "ajv"
import { Effect, Either, Schema } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { vi } from "vitest"
import { parse } from "yaml"
import { schemaCommand } from "../../src/cli/SchemaCommand.js"
import { RETRY_KEYS, SHOT_KEYS, SHOT_PARAM_KEYS, SWEEP_KEYS, TOP_KEYS } from "../../src/manifest/Manifest.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { ManifestDocument, manifestJsonSchema, manifestJsonSchemaText } from "../../src/manifest/ManifestSchema.js"

const SCHEMA_FILE = "manifest.schema.json"
const EXAMPLES = readdirSync("manifests").filter((name) => name.endsWith(".yaml")).map((name) => `manifests/${name}`)
const RUN_FIXTURES = readdirSync("test/fixtures/runs").filter((name) => name.endsWith(".yaml")).map((name) =>
  `test/fixtures/runs/${name}`
)
/** A run fixture that is broken on purpose (a bad duration and a misspelt key). */
const BROKEN_RUN_FIXTURE = "test/fixtures/runs/broken.yaml"
const CORPUS = "test/fixtures/bad-manifests"
const CORPUS_FILES = readdirSync(CORPUS).filter((name) => name.endsWith(".yaml")).sort()

/** Broken before there is a document to check: YAML syntax, duplicate keys, alias bombs, bytes that are not UTF-8. */
const YAML_LEVEL = [
  "01-yaml-unclosed-bracket.yaml",
  "02-yaml-bad-indent.yaml",
  "03-yaml-tab-indent.yaml",
  "04-yaml-duplicate-key.yaml",
  "48-alias-bomb.yaml",
  "49-not-utf8.yaml"
]
/** Rules across shots or fields, or about files on disk: the loader's own located checks refuse these; the schema cannot. */
const LOADER_ONLY = [
  "14-id-duplicate.yaml",
  "25-aspect-adaptive-no-frame.yaml",
  "38-takes-with-seed.yaml",
  "40-last-frame-without-first.yaml",
  "41-frame-missing-file.yaml",
  "52-id-differs-only-in-case.yaml",
  "54-takes-with-seed-list.yaml",
  "57-frame-not-an-image.yaml",
  "58-frame-too-small.yaml",
  "59-frame-aspect-strip.yaml",
  "60-frame-gif-named-png.yaml",
  "61-last-frame-too-small.yaml",
  "64-sweep-first-frame-missing.yaml",
  "65-first-frame-from-cycle.yaml",
  "66-first-frame-from-unknown.yaml",
  "67-first-frame-from-several-videos.yaml"
]
const STRUCTURAL = CORPUS_FILES.filter((name) => !YAML_LEVEL.includes(name) && !LOADER_ONLY.includes(name))

const readYaml = (file: string): unknown => parse(readFileSync(file, "utf8"), { maxAliasCount: 100 })
const decodes = (document: unknown) => Either.isRight(Schema.decodeUnknownEither(ManifestDocument)(document))
/** The committed file, compiled once by a JSON-Schema validator that knows nothing of Effect. */
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")))

type JsonNode = { readonly [key: string]: unknown }
const propertiesOf = (node: unknown): JsonNode => (node as { properties: JsonNode }).properties
const at = (node: unknown, ...keys: ReadonlyArray<string>): JsonNode =>
  keys.reduce<JsonNode>((current, key) => current[key] as JsonNode, node as JsonNode)

describe("the manifest's JSON Schema", () => {
  it("the committed manifest.schema.json is exactly what the schema generates (regenerate: shotlist schema > manifest.schema.json)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(`${manifestJsonSchemaText()}\n`)
  })

  it.effect("`shotlist schema` prints that JSON, 2-space indented, and nothing else", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...parts: Array<unknown>) =>
        void lines.push(parts.join(" "))
      )
      yield* Command.run(schemaCommand, { name: "shotlist", version: "test" })(["node", "shotlist"]).pipe(
        Effect.ensuring(Effect.sync(() => log.mockRestore()))
      )
      expect(`${lines.join("\n")}\n`).toBe(readFileSync(SCHEMA_FILE, "utf8"))
      expect(lines.join("\n")).toMatch(
        /^\{\n {2}"\$schema": "http:\/\/json-schema\.org\/draft-07\/schema#",\n {2}"\$id": /
      )
    }).pipe(Effect.provide(NodeContext.layer)))

  it("names exactly the keys the loader allows, and no others, at every level", () => {
    const schema = manifestJsonSchema()
    const shot = at(schema, "properties", "shots", "items")
    const levels: ReadonlyArray<readonly [JsonNode, ReadonlyArray<string>]> = [
      [schema as JsonNode, TOP_KEYS],
      [shot, SHOT_KEYS],
      [at(schema, "properties", "defaults"), SHOT_PARAM_KEYS],
      [at(shot, "properties", "sweep"), SWEEP_KEYS],
      [at(schema, "properties", "retry"), RETRY_KEYS]
    ]
    for (const [node, keys] of levels) {
      expect(Object.keys(propertiesOf(node))).toEqual([...keys])
      expect(node.additionalProperties).toBe(false)
    }
    expect(schema.required).toEqual(["version", "shots"])
    expect(shot.required).toEqual(["id"])
    expect(JSON.stringify(schema)).not.toContain("$ref")
  })

  it("every field carries a title and a description for the editor to show", () => {
    const schema = manifestJsonSchema()
    const shot = at(schema, "properties", "shots", "items")
    const fields = [
      ...Object.entries(propertiesOf(schema)),
      ...Object.entries(propertiesOf(shot)),
      ...Object.entries(propertiesOf(at(schema, "properties", "defaults"))),
      ...Object.entries(propertiesOf(at(shot, "properties", "sweep"))),
      ...Object.entries(propertiesOf(at(schema, "properties", "retry")))
    ]
    for (const [key, field] of fields) {
      expect(field, key).toMatchObject({ title: expect.any(String), description: expect.any(String) })
    }
    expect(at(shot, "properties", "duration")).toMatchObject({ type: "integer", minimum: 4, maximum: 12, default: 5 })
    expect(at(shot, "properties", "seed")).toMatchObject({ type: "integer", minimum: 1, maximum: 999_999 })
  })

  it.each(EXAMPLES)("%s points editors at the committed schema on its first line", (file) => {
    const firstLine = readFileSync(file, "utf8").split("\n")[0]
    expect(firstLine).toBe("# yaml-language-server: $schema=../manifest.schema.json")
    const target = firstLine!.replace(/^.*\$schema=/, "")
    expect(existsSync(resolve(dirname(file), target))).toBe(true)
  })
})

describe("the schema and the loader agree", () => {
  it.scoped.each([...EXAMPLES, ...RUN_FIXTURES])(
    "%s: the schema, the JSON Schema and the loader give the same verdict",
    (file) =>
      Effect.gen(function*() {
        const good = file !== BROKEN_RUN_FIXTURE
        const document = readYaml(file)
        expect(decodes(document)).toBe(good)
        expect(validate(document), JSON.stringify(validate.errors)).toBe(good)
        const loaded = yield* Effect.either(loadManifest(file))
        expect(Either.isRight(loaded)).toBe(good)
      }).pipe(Effect.provide(NodeContext.layer))
  )

  it("every bad manifest is sorted: broken YAML, a rule only the loader can check, or refused by the schema", () => {
    expect([...YAML_LEVEL, ...LOADER_ONLY].every((name) => CORPUS_FILES.includes(name))).toBe(true)
    expect(STRUCTURAL.length).toBeGreaterThanOrEqual(35)
  })

  it.each(STRUCTURAL)("%s is refused by the schema and by the JSON Schema", (name) => {
    const document = readYaml(`${CORPUS}/${name}`)
    expect(decodes(document)).toBe(false)
    expect(validate(document)).toBe(false)
  })

  it.each(LOADER_ONLY)("%s passes the schema: the loader's own checks refuse it", (name) => {
    expect(decodes(readYaml(`${CORPUS}/${name}`))).toBe(true)
  })

  it("the JSON Schema points at the offending field, as an editor underlines it", () => {
    validate(readYaml(`${CORPUS}/19-duration-too-long.yaml`))
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ instancePath: "/shots/0/duration", keyword: "maximum" })
    )
    validate(readYaml(`${CORPUS}/31-unknown-shot-key.yaml`))
    expect(validate.errors).toContainEqual(
      expect.objectContaining({
        instancePath: "/shots/0",
        keyword: "additionalProperties",
        params: { additionalProperty: "durations" }
      })
    )
  })

  it("a prompt may come from defaults instead of each shot, in both", () => {
    const document = { version: 1, defaults: { prompt: "The same scene." }, shots: [{ id: "a" }, { id: "b", seed: 3 }] }
    expect(decodes(document)).toBe(true)
    expect(validate(document)).toBe(true)
    const withoutPrompt = { version: 1, shots: [{ id: "a", prompt: "A scene." }, { id: "b" }] }
    expect(decodes(withoutPrompt)).toBe(false)
    expect(validate(withoutPrompt)).toBe(false)
  })

  it.scoped("what the located checks let through, the schema still refuses, located at its field", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = `${dir}/m.yaml`
      // A bare `true` reads as the folder name "true" to the located checks; the schema wants text.
      yield* fs.writeFileString(file, "version: 1\nname: true\nshots:\n  - id: a\n    prompt: A calm sea.\n")
      const error = yield* Effect.flip(loadManifest(file))
      expect(error).toMatchObject({
        _tag: "ManifestInvalid",
        issues: [{
          file,
          line: 2,
          column: 7,
          path: "name",
          message: expect.stringContaining("name must be a plain folder name")
        }]
      })
    }).pipe(Effect.provide(NodeContext.layer)))
})
