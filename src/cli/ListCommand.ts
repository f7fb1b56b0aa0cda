import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { formatUsd, roundUsd } from "../segmind/ModelCatalog.js"
import { listRuns, type RunListing, type RunOverview } from "../store/RunIndex.js"
import { DEFAULT_OUTPUT } from "./OutputFolderLock.js"
import { shellWord } from "./RunStatus.js"

/** Where a run stands, in a word. */
export const runStateOf = (run: RunOverview): "running" | "resumable" | "finished" =>
  run.running ? "running" : run.resumable ? "resumable" : "finished"

/** One run of `shotlist list --json`. */
export const listedRun = (run: RunOverview) => ({
  runDirectory: run.runDirectory,
  runId: run.runId,
  name: run.name,
  startedAt: run.startedAt,
  lastActivityAt: run.lastActivityAt,
  emulator: run.journaled.run?.emulator,
  baseUrl: run.journaled.run?.baseUrl,
  jobs: { ...run.counts, total: run.total },
  costUsd: roundUsd(run.costUsd),
  state: runStateOf(run),
  resumable: run.resumable,
  ...(run.resumable ? { resumeCommand: `shotlist resume ${shellWord(run.runDirectory)}` } : {}),
  ...(run.lock._tag === "Held" && run.lock.alive ? { pid: run.lock.pid, host: run.lock.host } : {})
})

/** `2026-01-02T03:04:05.123Z` -> `2026-01-02 03:04:05Z`. */
const when = (iso: string | undefined) => (iso === undefined ? "?" : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`)

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n")
}

/** `shotlist list`, as text: one line a run, newest first. */
export const renderRunListing = (root: string, listing: RunListing): string => {
  const { runs, unreadable } = listing
  const lines: Array<string> = []
  if (runs.length === 0) lines.push(`no runs under ${root}`)
  else {
    lines.push(`${runs.length} run${runs.length === 1 ? "" : "s"} under ${root}, newest first:`)
    lines.push(table([
      ["STARTED (UTC)", "MANIFEST", "ON", "COMPLETED", "REUSED", "FAILED", "OTHER", "COST", "STATE", "RUN_DIR"],
      ...runs.map((run) => {
        const { counts } = run
        const settled = counts.completed + counts.reused + counts.failed
        const target = run.journaled.run === undefined
          ? "?"
          : run.journaled.run.emulator
          ? "emulator"
          : run.journaled.run.baseUrl
        return [
          when(run.startedAt),
          run.name,
          target,
          String(counts.completed),
          String(counts.reused),
          String(counts.failed),
          String(run.total - settled),
          formatUsd(run.costUsd),
          runStateOf(run),
          run.runDirectory
        ]
      })
    ]))
  }
  const resumable = runs.filter((run) => run.resumable)
  for (const run of resumable) lines.push(`resume ${run.runId} with: shotlist resume ${shellWord(run.runDirectory)}`)
  for (const entry of unreadable) lines.push(`unreadable: ${entry.runDirectory}: ${entry.reason}`)
  return lines.join("\n")
}

export const listCommand = Command.make(
  "list",
  {
    root: Args.directory({ name: "OUTPUT_DIR" }).pipe(
      Args.withDescription(`the output folder whose runs to list (default: ${DEFAULT_OUTPUT})`),
      Args.optional
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription(
        "print one JSON document on stdout: every run with its jobs by state, cost and state (default: a table)"
      )
    )
  },
  (args) =>
    Effect.gen(function*() {
      const root = Option.getOrElse(args.root, () => DEFAULT_OUTPUT)
      const listing = yield* listRuns(root)
      yield* Console.log(
        args.json
          ? JSON.stringify({ root, runs: listing.runs.map(listedRun), unreadable: listing.unreadable }, null, 2)
          : renderRunListing(root, listing)
      )
    })
).pipe(
  Command.withDescription(
    `The runs under an output folder (default: ${DEFAULT_OUTPUT}), newest first: manifest, start, emulator or API, jobs completed, reused and failed, cost, and whether a run is going on, can be resumed, or finished. Reads journals only; the latest links are not runs.`
  )
)
