/**
 * Runs every benchmark in sequence, then writes BENCHMARKS.md from the
 * results. `tsx bench/run.ts --report-only` rewrites BENCHMARKS.md from the
 * JSON already in bench/results (after running one benchmark alone).
 */
import { FileSystem, Path } from "@effect/platform"
import { Console, Effect, Schema } from "effect"
import { budgetBench } from "./budget.js"
import { makespanBench } from "./makespan.js"
import { memoryBench } from "./memory.js"
import { pollingBench } from "./polling.js"
import { scaleBench } from "./scale.js"
import { startupBench } from "./startup.js"
import {
  type BenchResult,
  isMain,
  type Machine,
  machine,
  renderResult,
  repoRoot,
  resultsDirectory,
  runMain
} from "./support/BenchResult.js"

const ORDER = ["polling", "makespan", "budget", "memory", "scale", "startup"] as const

const describeMachine = (m: Machine) => `${m.cpu} × ${m.cores}, ${m.memoryGiB} GiB RAM, ${m.os}, Node.js ${m.node}`

/** A result file as `publish` writes it. */
const StoredResult = Schema.parseJson(
  Schema.Struct({
    name: Schema.String,
    title: Schema.String,
    setup: Schema.String,
    table: Schema.String,
    targets: Schema.Array(Schema.Struct({ target: Schema.String, measured: Schema.String, met: Schema.Boolean })),
    notes: Schema.Array(Schema.String),
    figures: Schema.Unknown,
    machine: Schema.Struct({
      cpu: Schema.String,
      cores: Schema.Number,
      memoryGiB: Schema.Number,
      os: Schema.String,
      node: Schema.String,
      date: Schema.String
    })
  })
)

/** BENCHMARKS.md from the latest result of each benchmark. */
export const writeBenchmarksFile = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const results: Array<BenchResult & { readonly machine: Machine }> = []
  for (const name of ORDER) {
    const file = path.join(resultsDirectory, `${name}.json`)
    if (!(yield* fs.exists(file))) continue
    results.push(yield* Schema.decodeUnknown(StoredResult)(yield* fs.readFileString(file)))
  }
  const here = machine()
  const text = [
    "# Benchmarks",
    "",
    "Figures from the last run of `npm run bench` (`tsx bench/run.ts`); each benchmark also runs alone",
    "(`npx tsx bench/polling.ts`, `bench/makespan.ts`, `bench/budget.ts` (`npm run bench:budget`), `bench/memory.ts`,",
    "`bench/scale.ts`, `bench/startup.ts`) and writes `bench/results/<name>.json`; `npx tsx bench/run.ts --report-only` rebuilds this",
    "file from those. Benchmarks print figures; they assert nothing. The emulator runs with seeded generation times,",
    "in the benchmark's process except for the budget and polling benchmarks, which run it in its own.",
    "",
    `Machine: ${describeMachine(here)}. Written ${here.date}.`,
    "",
    ...results.flatMap((result) => [
      renderResult(result),
      `_Run ${result.machine.date} on ${describeMachine(result.machine)}._`,
      ""
    ])
  ].join("\n")
  const file = path.join(repoRoot, "BENCHMARKS.md")
  yield* fs.writeFileString(file, text)
  yield* Console.log(`\nwrote ${file}`)
})

export const allBenchmarks = Effect.gen(function*() {
  if (!process.argv.includes("--report-only")) {
    yield* pollingBench
    yield* makespanBench
    yield* budgetBench()
    yield* memoryBench
    yield* scaleBench
    yield* startupBench
  }
  yield* writeBenchmarksFile
})

if (isMain(import.meta.url)) runMain(allBenchmarks)
