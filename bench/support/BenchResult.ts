import { FileSystem, Path } from "@effect/platform"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"
import { cpus, platform, release, totalmem } from "node:os"
import { fileURLToPath } from "node:url"

/** What one benchmark measured: a table for people, the figures as JSON for diffs. */
export interface BenchResult {
  readonly name: string
  readonly title: string
  /** what was run, in one paragraph */
  readonly setup: string
  /** a Markdown table */
  readonly table: string
  /** each target, the figure it is read against, and whether it is met (never asserted) */
  readonly targets: ReadonlyArray<{ readonly target: string; readonly measured: string; readonly met: boolean }>
  readonly notes: ReadonlyArray<string>
  readonly figures: unknown
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  readonly date: string
}

export const machine = (): Machine => ({
  cpu: cpus()[0]?.model.trim() ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  os: `${platform()} ${release()}`,
  node: process.version,
  date: new Date().toISOString()
})

/** The repository root: benchmarks run from anywhere. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url))

export const resultsDirectory = fileURLToPath(new URL("../results", import.meta.url))

/** A Markdown table; numbers are printed as given. */
export const markdownTable = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string | number>>
): string =>
  [header, header.map(() => "---"), ...rows.map((row) => row.map(String))].map((cells) => `| ${cells.join(" | ")} |`)
    .join("\n")

export const renderResult = (result: BenchResult): string =>
  [
    `### ${result.title}`,
    "",
    result.setup,
    "",
    result.table,
    "",
    ...(result.targets.length === 0
      ? []
      : [
        markdownTable(
          ["target", "measured", "met"],
          result.targets.map((t) => [t.target, t.measured, t.met ? "yes" : "no"])
        ),
        ""
      ]),
    ...result.notes.map((note) => `- ${note}`),
    ...(result.notes.length === 0 ? [] : [""])
  ].join("\n")

/** Prints the result and writes `bench/results/<name>.json`. */
export const publish = (result: BenchResult) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(resultsDirectory, { recursive: true })
    const file = path.join(resultsDirectory, `${result.name}.json`)
    yield* fs.writeFileString(file, `${JSON.stringify({ ...result, machine: machine() }, null, 2)}\n`)
    yield* Console.log(`\n${renderResult(result)}\n(written to ${path.relative(repoRoot, file)})`)
    return result
  })

/** Everything a benchmark needs from the platform; the pipeline's own logs are silenced. */
export const benchLayer = Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici)

export type BenchRequirements = Layer.Layer.Success<typeof benchLayer>

/** True when the module at `moduleUrl` is the script node was started with. */
export const isMain = (moduleUrl: string): boolean =>
  process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1]

/** Runs a benchmark program as a script: the edge where layers are provided. */
export const runMain = <A, E>(program: Effect.Effect<A, E, BenchRequirements>): void =>
  NodeRuntime.runMain(program.pipe(Effect.provide(benchLayer), Logger.withMinimumLogLevel(LogLevel.Warning)))
