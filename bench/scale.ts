/**
 * Scale: planning a 10,000-job manifest with the real command line, and
 * running all of those jobs against a fast in-process emulator.
 */
import { Command, FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Duration, Effect, Option, Stream } from "effect"
import { cpus } from "node:os"
import { join } from "node:path"
import { type BenchResult, isMain, markdownTable, publish, repoRoot, runMain } from "./support/BenchResult.js"
import { BENCH_KEY, benchEmulator, pollFigures, readReport, writeSweepManifest } from "./support/BenchRun.js"
import { runShotlist } from "./support/ChildProcess.js"
import { fixed, mb, mean, percentile } from "./support/Measure.js"

/** `SCALE_JOBS` shrinks the run for a quick look; the figures are meant at 10,000. */
const JOBS = Number(process.env["SCALE_JOBS"] ?? 10_000)
const PLAN_RUNS = 3
const CONCURRENCY = 64
const GENERATION_MS = 50
const RPM = 1_000_000
/** Past this the run stops submitting and reports what it measured. */
const RUN_DEADLINE = Duration.minutes(12)
const PLAN_LIMIT_S = 2
const RSS_LIMIT_MB = 300

/** `node ENTRY plan FILE`, its output drained: wall time and exit code. */
const timePlan = (entry: string, manifest: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const startedMs = performance.now()
      const process = yield* Command.start(
        Command.make("node", entry, "plan", manifest).pipe(Command.workingDirectory(repoRoot))
      )
      const [stdoutBytes, stderr, exitCode] = yield* Effect.all(
        [
          Stream.runFold(process.stdout, 0, (n, chunk) => n + chunk.length),
          Stream.mkString(Stream.decodeText(process.stderr)),
          process.exitCode
        ],
        { concurrency: 3 }
      )
      const wallS = (performance.now() - startedMs) / 1000
      if (exitCode !== 0) yield* Effect.logWarning(`plan exited with ${exitCode}: ${stderr.slice(0, 500)}`)
      return { wallS, exitCode: Number(exitCode), stdoutBytes }
    })
  ).pipe(Effect.orDie)

/** The newest modification time under a folder, as bin/shotlist.js judges its bundle. */
const newestMtimeMs = (directory: string): Effect.Effect<number, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    let newest = 0
    for (const name of yield* fs.readDirectory(directory)) {
      const info = yield* fs.stat(join(directory, name))
      const mtime = info.type === "Directory"
        ? yield* newestMtimeMs(join(directory, name))
        : Option.getOrElse(Option.map(info.mtime, (d) => d.getTime()), () => 0)
      newest = Math.max(newest, mtime)
    }
    return newest
  })

/** Start-up (a one-job manifest) and the big plan, `PLAN_RUNS` times each, through one entry point. */
const timeEntry = (label: string, entry: string, single: string, manifest: string) =>
  Effect.gen(function*() {
    const startups = []
    for (let i = 0; i < PLAN_RUNS; i++) startups.push(yield* timePlan(entry, single))
    const plans = []
    for (let i = 0; i < PLAN_RUNS; i++) plans.push(yield* timePlan(entry, manifest))
    return {
      label,
      startups,
      plans,
      startupMedianS: percentile(startups.map((p) => p.wallS), 50),
      planMedianS: percentile(plans.map((p) => p.wallS), 50)
    }
  })

export const scaleBench = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-scale-" })
  const manifest = yield* writeSweepManifest(directory, "bench-scale", JOBS)
  // Start-up alone (loading the CLI) is timed on a one-job manifest.
  const single = yield* writeSweepManifest(directory, "bench-scale-one", 1)

  // bin/shotlist.js runs dist/shotlist.mjs while it is newer than src/, else compiles src/ with tsx.
  const bundle = join(repoRoot, "dist", "shotlist.mjs")
  const bundleState = Effect.gen(function*() {
    const mtime = yield* fs.stat(bundle).pipe(
      Effect.map((info) => Option.getOrElse(Option.map(info.mtime, (d) => d.getTime()), () => 0)),
      Effect.option
    )
    if (Option.isNone(mtime)) return "absent" as const
    return mtime.value >= (yield* newestMtimeMs(join(repoRoot, "src"))) ? ("fresh" as const) : ("stale" as const)
  })
  const before = yield* bundleState
  const viaBin = yield* timeEntry(
    `bin/shotlist.js (${
      before === "fresh" ? "runs the bundle" : before === "stale" ? "bundle stale: tsx" : "no bundle: tsx"
    })`,
    join(repoRoot, "bin/shotlist.js"),
    single,
    manifest
  )
  const after = yield* bundleState
  const entries = [
    viaBin,
    ...(before === "absent"
      ? []
      : [
        yield* timeEntry(
          `dist/shotlist.mjs (the bundle, directly${before === "stale" ? "; stale" : ""})`,
          bundle,
          single,
          manifest
        )
      ])
  ]
  const planMedianS = entries[0]!.planMedianS

  const runParent = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-scale-run-" })
  const runDirectory = join(runParent, "run")
  const emulator = yield* benchEmulator({ generationTimeModel: { kind: "fixed", ms: GENERATION_MS } })
  const child = yield* runShotlist(
    [
      "run",
      manifest,
      "--base-url",
      emulator.baseUrl,
      "--out",
      runDirectory,
      "--no-reuse",
      // Past 1,000 jobs a run must be allowed them.
      "--max-jobs",
      String(JOBS),
      "--concurrency",
      String(CONCURRENCY),
      "--rpm",
      String(RPM),
      "--expect",
      `${GENERATION_MS}ms`,
      "--deadline",
      `${Duration.toSeconds(RUN_DEADLINE)}s`
    ],
    { SEGMIND_API_KEY: BENCH_KEY }
  )
  if (child.code !== 0) yield* Effect.logWarning(`shotlist run exited with ${child.code}: ${child.stderrTail}`)
  const report = yield* readReport(join(runDirectory, "report.json"))
  const figures = pollFigures(yield* emulator.stats)
  const completed = report.summary.completed
  const cpuMsPerJob = child.cpuMs / Math.max(1, figures.jobs)
  const runFigures = {
    jobs: JOBS,
    submitted: figures.jobs,
    completed,
    exitCode: child.code,
    wallS: child.wallMs / 1000,
    peakRssMB: mb(child.peakRssBytes),
    cpuMs: child.cpuMs,
    cpuMsPerJob,
    statusCallsPerJob: mean(figures.pollsPerJob),
    firstPollP50Ms: percentile(figures.firstPollMs, 50),
    emulatorQueueP95Ms: percentile(figures.emulatorQueueMs, 95),
    emulatorOverrunP95Ms: percentile(figures.emulatorOverrunMs, 95),
    jobsPerSecond: completed / (child.wallMs / 1000)
  }
  return yield* publish(
    {
      name: "scale",
      title: `Scale: ${JOBS.toLocaleString("en-US")} jobs`,
      setup: `A manifest of one shot swept over ${
        JOBS.toLocaleString("en-US")
      } seeds. Plan: \`node bin/shotlist.js plan FILE\` in a child process, start-up included (median of ${PLAN_RUNS}; start-up alone is the plan of a one-job manifest). Run: \`shotlist run\` in its own process (its own peak RSS and CPU), production poll schedule with --expect ${GENERATION_MS}ms, concurrency ${CONCURRENCY}, rpm ${
        RPM.toLocaleString("en-US")
      }, every generation ${GENERATION_MS} ms on the emulator in the benchmark's process; 4 s 480p videos (1.6 MB each) go to a temporary run directory.`,
      table: markdownTable(
        ["step", "jobs", "wall (s)", "peak RSS of shotlist (MB)", "CPU ms / job", "status calls / job"],
        [
          ...entries.flatMap((entry) => [
            [`plan, 1 job (start-up), ${entry.label}`, 1, fixed(entry.startupMedianS, 2), "", "", ""],
            [`plan, ${entry.label}`, JOBS, fixed(entry.planMedianS, 2), "", "", ""]
          ]),
          [
            "run (fast generation)",
            `${completed}/${JOBS}`,
            fixed(runFigures.wallS, 1),
            fixed(runFigures.peakRssMB, 0),
            fixed(cpuMsPerJob, 2),
            fixed(runFigures.statusCallsPerJob, 2)
          ]
        ]
      ),
      targets: [
        {
          target: `plan of ${JOBS.toLocaleString("en-US")} jobs < ${PLAN_LIMIT_S} s`,
          measured: `${fixed(planMedianS, 2)} s`,
          met: planMedianS < PLAN_LIMIT_S
        },
        {
          target: `peak RSS < ${RSS_LIMIT_MB} MB for the ${JOBS.toLocaleString("en-US")}-job run`,
          measured: `${fixed(runFigures.peakRssMB, 0)} MB`,
          met: runFigures.peakRssMB < RSS_LIMIT_MB
        }
      ],
      notes: [
        `Wall time of the run is bounded below by the poll schedule, not by the ${GENERATION_MS} ms generations: a job's first status call came ${
          fixed(runFigures.firstPollP50Ms / 1000, 2)
        } s after its submission (p50), so ${
          JOBS.toLocaleString("en-US")
        } jobs at concurrency ${CONCURRENCY} need at least ceil(${JOBS}/${CONCURRENCY}) × that ≈ ${
          fixed((Math.ceil(JOBS / CONCURRENCY) * runFigures.firstPollP50Ms) / 1000, 0)
        } s.`,
        ...(before === after
          ? []
          : [
            `The bundle went from ${before} to ${after} while bin/shotlist.js was timed (rebuilt or src/ edited meanwhile): its rows mix both paths.`
          ]),
        `Plan work beyond start-up: ${fixed(entries[0]!.planMedianS - entries[0]!.startupMedianS, 2)} s for ${
          JOBS.toLocaleString("en-US")
        } jobs (${entries[0]!.label}).`,
        `The run used ${
          fixed(child.cpuMs / child.wallMs, 2)
        } cores on average (CPU time / wall time) in the shotlist process on this ${cpus().length}-core machine.`,
        "CPU time is the process's user + system time (all threads: libuv's file writes and fsyncs, hashing, GC included), divided by the jobs submitted.",
        `The emulator's own lag (p95): ${fixed(runFigures.emulatorQueueP95Ms, 0)} ms queued, ${
          fixed(runFigures.emulatorOverrunP95Ms, 0)
        } ms past the generation time.`,
        ...(completed < JOBS
          ? [
            `Only ${completed} of ${JOBS} jobs completed within the ${
              Duration.format(RUN_DEADLINE)
            } run deadline; per-job figures are over the ${figures.jobs} submitted.`
          ]
          : [])
      ],
      figures: { plan: entries, bundle: { before, after }, run: runFigures }
    } satisfies BenchResult
  )
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) runMain(scaleBench)
