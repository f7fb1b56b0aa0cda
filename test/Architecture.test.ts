import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join, posix, relative } from "node:path"
import ts from "typescript"

const SRC = "src"

/** One `import … from "…"` (or `export … from`, or `import("…")`) of a file under src/. */
interface Import {
  /** relative to src/, e.g. `cli/RunCommand.ts` */
  readonly file: string
  readonly line: number
  readonly specifier: string
  /** the folder under src/ the import lands in, or `main.ts`; undefined for a package or a file outside src/ */
  readonly target: string | undefined
}

const sourceFiles = (directory: string): ReadonlyArray<string> =>
  readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name)
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [path] : []
  })

/** `cli/RunCommand.ts` -> `cli`; `main.ts` -> `main.ts`. */
const folderOf = (file: string) => file.split("/")[0]!

const importsOf = (file: string, text: string): ReadonlyArray<Import> =>
  ts.preProcessFile(text, true, true).importedFiles.map(({ fileName, pos }) => {
    const line = text.slice(0, pos).split("\n").length
    if (!fileName.startsWith(".")) return { file, line, specifier: fileName, target: undefined }
    const landed = posix.normalize(posix.join(posix.dirname(file), fileName))
    // Outside src/ is no folder of the map: package.json, read for the version.
    return { file, line, specifier: fileName, target: landed.startsWith("..") ? undefined : folderOf(landed) }
  })

/** Which folders each folder must not import; `domain` and `cli` are checked by the rules below. */
const FORBIDDEN: Readonly<Record<string, ReadonlyArray<string>>> = {
  segmind: ["manifest", "pipeline"],
  manifest: ["segmind", "pipeline"],
  store: ["pipeline"],
  report: ["pipeline"],
  emulator: ["pipeline"],
  assembly: ["pipeline"]
}

/** Every import that runs against the direction of the code map in README.md, named by file, line and specifier. */
const violations = (imports: ReadonlyArray<Import>): ReadonlyArray<string> =>
  imports.flatMap((entry) => {
    const from = folderOf(entry.file)
    const to = entry.target
    if (to === undefined || to === from) return []
    const where = `src/${entry.file}:${entry.line} imports "${entry.specifier}"`
    if (from === "domain") return [`${where}: domain imports nothing of ours`]
    if (to === "cli" && from !== "main.ts") return [`${where}: only cli/ and main.ts import cli/`]
    if (FORBIDDEN[from]?.includes(to)) return [`${where}: ${from} must not import ${to}`]
    return []
  })

const allImports = sourceFiles(SRC).flatMap((path) =>
  importsOf(relative(SRC, path).split("\\").join("/"), readFileSync(path, "utf8"))
)

describe("the import direction of src/", () => {
  it("reads the imports of every source file", () => {
    const files = new Set(allImports.map((entry) => entry.file))
    expect(files).toContain("main.ts")
    expect(files).toContain("cli/RunCommand.ts")
    expect(allImports.filter((entry) => entry.target === "domain").length).toBeGreaterThan(10)
  })

  it("no import runs against the direction: domain <- everything, segmind and manifest apart, cli and pipeline on top", () => {
    expect(violations(allImports)).toEqual([])
  })

  it("names the file, line and import of each breach", () => {
    const planted = [
      ...importsOf("domain/Job.ts", "import { x } from \"../store/RunDirectory.js\""),
      ...importsOf("manifest/ManifestLoader.ts", "import type { y } from \"../segmind/SegmindErrors.js\""),
      ...importsOf("segmind/SegmindClient.ts", "\nexport { z } from \"../manifest/Manifest.js\""),
      ...importsOf("report/Report.ts", "import { a } from \"../cli/ExitCode.js\""),
      ...importsOf("store/Journal.ts", "const b = await import(\"../pipeline/RunPipeline.js\")"),
      ...importsOf("emulator/Emulator.ts", "import {\n  c\n} from \"../pipeline/PollSchedule.js\""),
      ...importsOf("cli/RunCommand.ts", "import { d } from \"../pipeline/RunPipeline.js\""),
      ...importsOf("main.ts", "import { e } from \"./cli/Cli.js\""),
      ...importsOf("domain/Job.ts", "import { Schema } from \"effect\"\nimport { f } from \"./SeedanceParams.js\"")
    ]
    expect(violations(planted)).toEqual([
      "src/domain/Job.ts:1 imports \"../store/RunDirectory.js\": domain imports nothing of ours",
      "src/manifest/ManifestLoader.ts:1 imports \"../segmind/SegmindErrors.js\": manifest must not import segmind",
      "src/segmind/SegmindClient.ts:2 imports \"../manifest/Manifest.js\": segmind must not import manifest",
      "src/report/Report.ts:1 imports \"../cli/ExitCode.js\": only cli/ and main.ts import cli/",
      "src/store/Journal.ts:1 imports \"../pipeline/RunPipeline.js\": store must not import pipeline",
      "src/emulator/Emulator.ts:3 imports \"../pipeline/PollSchedule.js\": emulator must not import pipeline"
    ])
  })
})
