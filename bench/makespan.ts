/**
 * Makespan against the ideal: N jobs of a fixed generation time T under
 * concurrency C can end no sooner than ceil(N / C) · T.
 */
import { FileSystem } from "@effect/platform"
import { Duration, Effect } from "effect"
import { cpus, loadavg } from "node:os"
import { type BenchResult, isMain, markdownTable, publish, runMain } from "./support/BenchResult.js"
import { benchEmulator, pollFigures, renderWithPipeline, writeSweepManifest } from "./support/BenchRun.js"
import { fixed, mean, percentile } from "./support/Measure.js"

const JOBS = 200
const CONCURRENCY = 16
const GENERATION_MS = 5_000
const RPM = 6000

export const makespanBench = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-makespan-" })
  const runDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-run-" })
  const manifest = yield* writeSweepManifest(directory, "bench-makespan", JOBS)
  const emulator = yield* benchEmulator({ generationTimeModel: { kind: "fixed", ms: GENERATION_MS } })
  const startedMs = performance.now()
  const report = yield* renderWithPipeline(manifest, emulator.baseUrl, {
    concurrency: CONCURRENCY,
    rpm: RPM,
    runDirectory,
    expect: Duration.millis(GENERATION_MS)
  })
  const measuredS = (performance.now() - startedMs) / 1000
  const figures = pollFigures(yield* emulator.stats)
  const idealS = (Math.ceil(JOBS / CONCURRENCY) * GENERATION_MS) / 1000
  const overhead = (measuredS - idealS) / idealS
  const bound = idealS * 1.03 + 1
  const figuresOut = {
    jobs: JOBS,
    concurrency: CONCURRENCY,
    generationMs: GENERATION_MS,
    rpm: RPM,
    completed: report.summary.completed,
    measuredS,
    idealS,
    overheadPercent: overhead * 100,
    statusCallsPerJob: mean(figures.pollsPerJob),
    emulatorQueueP95Ms: percentile(figures.emulatorQueueMs, 95),
    emulatorOverrunP95Ms: percentile(figures.emulatorOverrunMs, 95),
    detectionP50Ms: percentile(figures.detectionMs, 50),
    detectionP95Ms: percentile(figures.detectionMs, 95)
  }
  return yield* publish(
    {
      name: "makespan",
      title: "Makespan against the ideal",
      setup: `${JOBS} jobs, concurrency ${CONCURRENCY}, every generation exactly ${
        GENERATION_MS / 1000
      } s, shotlist's pipeline with the production poll schedule and the generation time as its prior (--expect), rpm ${RPM}; ideal = ceil(N/C)·T.`,
      table: markdownTable(
        ["jobs", "completed", "ideal (s)", "measured (s)", "overhead", "status calls / job", "detection p50 / p95 (s)"],
        [[
          JOBS,
          report.summary.completed,
          fixed(idealS, 1),
          fixed(measuredS, 1),
          `${fixed(overhead * 100, 1)} %`,
          fixed(figuresOut.statusCallsPerJob, 2),
          `${fixed(figuresOut.detectionP50Ms / 1000, 2)} / ${fixed(figuresOut.detectionP95Ms / 1000, 2)}`
        ]]
      ),
      targets: [
        {
          target: "makespan ≤ ideal · 1.03 + 1 s",
          measured: `${fixed(measuredS, 1)} s vs ${fixed(bound, 1)} s`,
          met: measuredS <= bound
        }
      ],
      notes: [
        `The emulator's own lag (p95): ${fixed(figuresOut.emulatorQueueP95Ms, 0)} ms queued, ${
          fixed(figuresOut.emulatorOverrunP95Ms, 0)
        } ms past the generation time; the rest of the overhead is the client's (poll schedule, downloads, journal).`,
        "With room in the budget each job is polled from mean − 2 sd of what the run learned, every max(floor, ¾ sd): here 4.5, 4.75, 5.0 s. On this shared machine (Intel Xeon × 2) the figure moves with the load: with that change 70.1 and 70.4 s at load 1-2.5, 72.4 and 73.8 s at 3.4-5.5; the scheduler before it (chance threshold only), between those runs at load 2.4: 70.5 s, 1.88 status calls a job, detection p50 / p95 0.20 / 0.41 s. The earlier 67.5 s was on another machine (AMD EPYC).",
        `Load average (1 min) at the end: ${fixed(loadavg()[0]!, 1)} on ${cpus().length} cores shared with other work.`
      ],
      figures: figuresOut
    } satisfies BenchResult
  )
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) runMain(makespanBench)
