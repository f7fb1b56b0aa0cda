/**
 * Start-up: `shotlist --help` and `shotlist plan manifests/example.yaml`
 * through bin/shotlist.js (the bundle), against bare Node, each run RUNS times
 * in a child process; the median wall and CPU time of each.
 */
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { type BenchResult, isMain, markdownTable, publish, repoRoot, runMain } from "./support/BenchResult.js"
import { fixed, percentile } from "./support/Measure.js"

const RUNS = 10
const LIMIT_S = 0.35

/** Wall and CPU (user + system, from /usr/bin/time) seconds of `node ARGS`, run RUNS times. */
const timeNode = (args: ReadonlyArray<string>) =>
  Effect.sync(() => {
    const walls: Array<number> = []
    const cpus: Array<number> = []
    for (let i = 0; i < RUNS; i++) {
      const startedMs = performance.now()
      const child = spawnSync("/usr/bin/time", ["-f", "%U %S", process.execPath, ...args], {
        cwd: repoRoot,
        stdio: ["ignore", "ignore", "pipe"]
      })
      walls.push((performance.now() - startedMs) / 1000)
      const [user, system] = String(child.stderr).trim().split("\n").pop()!.split(" ").map(Number)
      cpus.push((user ?? 0) + (system ?? 0))
    }
    return { wallS: percentile(walls, 50), cpuS: percentile(cpus, 50), fastestS: Math.min(...walls) }
  })

export const startupBench = Effect.gen(function*() {
  const bin = join(repoRoot, "bin/shotlist.js")
  const steps = [
    { label: "bare Node (`node -e 0`)", args: ["-e", "0"] },
    { label: "`shotlist --help`", args: [bin, "--help"] },
    { label: "`shotlist plan manifests/example.yaml`", args: [bin, "plan", "manifests/example.yaml"] }
  ]
  const rows = []
  for (const step of steps) rows.push({ ...step, ...(yield* timeNode(step.args)) })
  const [, help, plan] = rows
  return yield* publish(
    {
      name: "startup",
      title: "Start-up of the command line",
      setup:
        `\`node ARGS\` in a child process ${RUNS} times each, from the repository root; bin/shotlist.js runs the bundle (\`node scripts/build.mjs\` first). CPU is user + system time from /usr/bin/time.`,
      table: markdownTable(
        ["command", "median wall (s)", "fastest wall (s)", "median CPU (s)"],
        rows.map((r) => [r.label, fixed(r.wallS, 2), fixed(r.fastestS, 2), fixed(r.cpuS, 2)])
      ),
      targets: [help!, plan!].map((r) => ({
        target: `${r.label} ≤ ${LIMIT_S} s`,
        measured: `${fixed(r.wallS, 2)} s`,
        met: r.wallS <= LIMIT_S
      })),
      notes: [],
      figures: { runs: RUNS, rows }
    } satisfies BenchResult
  )
})

if (isMain(import.meta.url)) runMain(startupBench)
