/**
 * Scale: planning a 10,000-job manifest with the real command line, and
 * running all of those jobs against a fast in-process emulator.
 */
import { Command, FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Duration, Effect, Option, Stream } from "effect"
import { cpus, loadavg } from "node:os"
import { join } from "node:path"
import { type BenchResult, isMain, markdownTable, publish, repoRoot, runMain } from "./support/BenchResult.js"
import { BENCH_KEY, benchEmulator, pollFigures, readReport, writeSweepManifest } from "./support/BenchRun.js"
import { runShotlist } from "./support/ChildProcess.js"
import { fixed, mb, mean, percentile } from "./support/Measure.js"

/** Runs of 1,000 and 10,000 jobs; `SCALE_JOBS` runs one size only (a quick look). The plan is timed at the largest. */
const RUN_SIZES = process.env["SCALE_JOBS"] === undefined ? [1_000, 10_000] : [Number(process.env["SCALE_JOBS"])]
const JOBS = Math.max(...RUN_SIZES)
const PLAN_RUNS = 3
const CONCURRENCY = 64
const GENERATION_MS = 50
const RPM = 1_000_000
/** Past this the run stops submitting and reports what it measured. */
const RUN_DEADLINE = Duration.minutes(12)
const PLAN_LIMIT_S = 2
/** Peak RSS allowed for a run of this many jobs (issue 13): 150 MB for 1,000, 200 MB for 10,000. */
const rssLimitMB = (jobs: number) => (jobs <= 1_000 ? 150 : 200)
const CPU_LIMIT_MS_PER_JOB = 10

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

/** `shotlist run` of `jobs` jobs in its own process against the in-process emulator: its peak RSS, CPU and poll figures. */
const runAt = (manifest: string, jobs: number) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
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
        String(jobs),
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
    return {
      jobs,
      submitted: figures.jobs,
      completed,
      exitCode: child.code,
      wallS: child.wallMs / 1000,
      peakRssMB: mb(child.peakRssBytes),
      cpuMs: child.cpuMs,
      cpuMsPerJob: child.cpuMs / Math.max(1, figures.jobs),
      statusCallsPerJob: mean(figures.pollsPerJob),
      firstPollP50Ms: percentile(figures.firstPollMs, 50),
      emulatorQueueP95Ms: percentile(figures.emulatorQueueMs, 95),
      emulatorOverrunP95Ms: percentile(figures.emulatorOverrunMs, 95),
      jobsPerSecond: completed / (child.wallMs / 1000),
      loadAverage: loadavg()[0]!
    }
  }))

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

  const runs = []
  for (const jobs of RUN_SIZES) {
    const runManifest = jobs === JOBS ? manifest : yield* writeSweepManifest(directory, `bench-scale-${jobs}`, jobs)
    runs.push(yield* runAt(runManifest, jobs))
  }
  const loadAverage = loadavg()[0]!
  return yield* publish(
    {
      name: "scale",
      title: `Scale: ${RUN_SIZES.map((n) => n.toLocaleString("en-US")).join(" and ")} jobs`,
      setup: `Manifests of one shot swept over ${
        RUN_SIZES.map((n) => n.toLocaleString("en-US")).join(" or ")
      } seeds. Plan: \`node bin/shotlist.js plan FILE\` of the ${
        JOBS.toLocaleString("en-US")
      }-job manifest in a child process, start-up included (median of ${PLAN_RUNS}; start-up alone is the plan of a one-job manifest). Run: \`shotlist run\` in its own process (its own peak RSS (VmHWM) and CPU), production poll schedule with --expect ${GENERATION_MS}ms, concurrency ${CONCURRENCY}, rpm ${
        RPM.toLocaleString("en-US")
      }, every generation ${GENERATION_MS} ms on the emulator in the benchmark's process; 4 s 480p videos (1.6 MB each) go to a temporary run directory; the run ends with the report and the contact sheet (one ffmpeg poster a job).`,
      table: markdownTable(
        ["step", "jobs", "wall (s)", "peak RSS of shotlist (MB)", "CPU ms / job", "status calls / job"],
        [
          ...entries.flatMap((entry) => [
            [`plan, 1 job (start-up), ${entry.label}`, 1, fixed(entry.startupMedianS, 2), "", "", ""],
            [`plan, ${entry.label}`, JOBS, fixed(entry.planMedianS, 2), "", "", ""]
          ]),
          ...runs.map((run) => [
            "run (fast generation)",
            `${run.completed}/${run.jobs}`,
            fixed(run.wallS, 1),
            fixed(run.peakRssMB, 0),
            fixed(run.cpuMsPerJob, 2),
            fixed(run.statusCallsPerJob, 2)
          ])
        ]
      ),
      targets: [
        {
          target: `plan of ${JOBS.toLocaleString("en-US")} jobs < ${PLAN_LIMIT_S} s`,
          measured: `${fixed(planMedianS, 2)} s`,
          met: planMedianS < PLAN_LIMIT_S
        },
        ...runs.flatMap((run) => [
          {
            target: `peak RSS ≤ ${rssLimitMB(run.jobs)} MB for the ${run.jobs.toLocaleString("en-US")}-job run`,
            measured: `${fixed(run.peakRssMB, 0)} MB`,
            met: run.peakRssMB <= rssLimitMB(run.jobs)
          },
          {
            target: `≤ ${CPU_LIMIT_MS_PER_JOB} ms CPU per job, ${run.jobs.toLocaleString("en-US")}-job run`,
            measured: `${fixed(run.cpuMsPerJob, 1)} ms`,
            met: run.cpuMsPerJob <= CPU_LIMIT_MS_PER_JOB
          }
        ])
      ],
      notes: [
        ...runs.map((run) =>
          `${run.jobs.toLocaleString("en-US")} jobs: a job's first status call came ${
            fixed(run.firstPollP50Ms / 1000, 2)
          } s after its submission (p50), so at concurrency ${CONCURRENCY} the run needs at least ceil(${run.jobs}/${CONCURRENCY}) × that ≈ ${
            fixed((Math.ceil(run.jobs / CONCURRENCY) * run.firstPollP50Ms) / 1000, 0)
          } s; it used ${
            fixed(run.cpuMs / (run.wallS * 1000), 2)
          } cores on average of this ${cpus().length}-core machine; load average (1 min) at its end ${
            fixed(run.loadAverage, 1)
          }; the emulator's own lag (p95): ${fixed(run.emulatorQueueP95Ms, 0)} ms queued, ${
            fixed(run.emulatorOverrunP95Ms, 0)
          } ms past the generation time.`
        ),
        ...(before === after
          ? []
          : [
            `The bundle went from ${before} to ${after} while bin/shotlist.js was timed (rebuilt or src/ edited meanwhile): its rows mix both paths.`
          ]),
        `Plan work beyond start-up: ${fixed(entries[0]!.planMedianS - entries[0]!.startupMedianS, 2)} s for ${
          JOBS.toLocaleString("en-US")
        } jobs (${entries[0]!.label}).`,
        "CPU time is the shotlist process's own user + system time (all its threads: libuv's file writes and fsyncs, hashing, GC; not ffmpeg's), divided by the jobs submitted.",
        `Load average (1 min) when the benchmark ended: ${
          fixed(loadAverage, 1)
        } on ${cpus().length} cores shared with other work.`,
        ...runs.flatMap((run) =>
          run.completed < run.jobs
            ? [
              `Only ${run.completed} of ${run.jobs} jobs completed within the ${
                Duration.format(RUN_DEADLINE)
              } run deadline; per-job figures are over the ${run.submitted} submitted.`
            ]
            : []
        )
      ],
      figures: { plan: entries, bundle: { before, after }, runs }
    } satisfies BenchResult
  )
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) runMain(scaleBench)
