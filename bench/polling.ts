/**
 * Polling where the budget does not bind: shotlist's pipeline (production
 * poll scheduler, right and wrong priors) against fixed 1 s and 2 s pollers
 * (the 2 s one is Segmind's SDK), each against a fresh emulator in its own
 * process, so the n-th submission gets the n-th generation time in every
 * variant. Time-scaled: generation times, the server's and the budget's
 * window and every client duration run `scale` times faster; figures are
 * printed back in real (unscaled) seconds.
 */
import { FileSystem } from "@effect/platform"
import { Duration, Effect } from "effect"
import { existsSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { DEFAULT_POLL, type PollSettings } from "../src/pipeline/PollSchedule.js"
import { RequestBudget } from "../src/pipeline/RequestBudget.js"
import { DEFAULT_RETRY, type RetrySettings } from "../src/pipeline/RetryPolicy.js"
import { type BenchResult, isMain, markdownTable, publish, runMain } from "./support/BenchResult.js"
import { loadJobs, renderWithFixedPoller, renderWithPipeline, writeSweepManifest } from "./support/BenchRun.js"
import { emulatorProcess, type EmulatorRecords } from "./support/EmulatorProcess.js"
import { fixed, mean, percentile } from "./support/Measure.js"

const WINDOW_MS = 60_000
const MARGIN_MS = 1_000
/** The fixed pollers are the reference, not under test: the server never refuses them. */
const UNLIMITED = 1_000_000_000

interface Prior {
  readonly label: string
  /** `--expect`; none: Segmind's figure (80 s for these 4 s clips) */
  readonly expectMs: number | undefined
}

interface Scenario {
  readonly name: string
  readonly jobs: number
  readonly concurrency: number
  readonly rpm: number
  readonly scale: number
  readonly generation: { readonly meanMs: number; readonly sdMs: number; readonly seed: number }
  readonly priors: ReadonlyArray<Prior>
  /** the latency targets hold only where the budget can pay for them */
  readonly roomForLatency: boolean
}

/**
 * One wave of Seedance-like ~100 s jobs with budget to spare (600 calls a
 * minute for 16 jobs); the same jobs on Pro's 50 a minute, four in flight,
 * where the budget pays for a poll every ~7 s; and the 10 s jobs of the
 * earlier benchmark, four waves of 16.
 */
const SCENARIOS: ReadonlyArray<Scenario> = [
  {
    name: "~100 s jobs, rpm 600",
    jobs: 16,
    concurrency: 16,
    rpm: 600,
    scale: 5,
    generation: { meanMs: 100_000, sdMs: 15_000, seed: 20240601 },
    priors: [
      { label: "right (--expect 100s)", expectMs: 100_000 },
      { label: "wrong (--expect 30s)", expectMs: 30_000 },
      { label: "wrong (--expect 250s)", expectMs: 250_000 }
    ],
    roomForLatency: true
  },
  {
    name: "~100 s jobs, Pro (rpm 50), concurrency 4",
    jobs: 16,
    concurrency: 4,
    rpm: 50,
    scale: 10,
    generation: { meanMs: 100_000, sdMs: 15_000, seed: 20240601 },
    priors: [{ label: "right (--expect 100s)", expectMs: 100_000 }],
    roomForLatency: false
  },
  {
    name: "~10 s jobs, rpm 6000",
    jobs: 64,
    concurrency: 16,
    rpm: 6000,
    scale: 1,
    generation: { meanMs: 10_000, sdMs: 2_000, seed: 20240601 },
    priors: [
      { label: "right (--expect 10s)", expectMs: 10_000 },
      { label: "none (Segmind's 80 s)", expectMs: undefined }
    ],
    roomForLatency: true
  }
]

/** Real durations to the run's scaled ones. */
const timeScale = (scale: number) => {
  const ms = (realMs: number) => realMs / scale
  const duration = (real: Duration.Duration) => Duration.millis(ms(Duration.toMillis(real)))
  return { scale, ms, duration }
}
type TimeScale = ReturnType<typeof timeScale>

/** Production's poll settings, every duration scaled. */
const scaledPoll = (time: TimeScale, expectMs: number | undefined): PollSettings => ({
  ...DEFAULT_POLL,
  prior: expectMs === undefined
    ? (params) => time.duration(DEFAULT_POLL.prior(params))
    : () => Duration.millis(time.ms(expectMs)),
  latencyGap: time.duration(DEFAULT_POLL.latencyGap),
  budgetWindow: time.duration(DEFAULT_POLL.budgetWindow),
  floor: time.duration(DEFAULT_POLL.floor),
  cap: time.duration(DEFAULT_POLL.cap),
  deadline: time.duration(DEFAULT_POLL.deadline)
})

const scaledRetry = (time: TimeScale): RetrySettings => ({
  ...DEFAULT_RETRY,
  base: time.duration(DEFAULT_RETRY.base),
  cap: time.duration(DEFAULT_RETRY.cap)
})

type Client =
  | { readonly kind: "shotlist"; readonly prior: Prior }
  | { readonly kind: "fixed"; readonly intervalMs: number }

const clientName = (client: Client) =>
  client.kind === "shotlist"
    ? `shotlist, prior ${client.prior.label}`
    : client.intervalMs === 1000
    ? "fixed 1 s poller"
    : `fixed ${client.intervalMs / 1000} s poller (Segmind SDK)`

/** Everything in real seconds, from the emulator's records (its clock): makespan is first submission to last result fetched. */
const figuresOf = (records: EmulatorRecords["records"], scale: number) => {
  const real = (scaledMs: number) => (scaledMs * scale) / 1000
  const completed = records.filter((r) => r.completedAt !== undefined && r.firstResultFetchAt !== undefined)
  const startMs = Math.min(...records.map((r) => r.submittedAt))
  return {
    completed: completed.length,
    makespanS: real(Math.max(...completed.map((r) => r.firstResultFetchAt!)) - startMs),
    statusCallsPerJob: mean(records.map((r) => r.statusCalls + Math.max(0, r.resultCalls - 1))),
    detectionS: completed.map((r) => real(r.firstResultFetchAt! - r.completedAt!)),
    // The emulator's own lag: time past the drawn generation time.
    overrunS: completed.flatMap((r) =>
      r.startedAt === undefined ? [] : [real(r.completedAt! - r.startedAt - r.generationMs)]
    )
  }
}

interface Figures {
  readonly scenario: string
  readonly client: string
  readonly completed: number
  readonly jobs: number
  readonly makespanS: number
  readonly statusCallsPerJob: number
  readonly detectionP50S: number
  readonly detectionP95S: number
  readonly overrunP95S: number
  readonly wallS: number
  readonly loadAverage: number
}

const measure = (scenario: Scenario, client: Client, manifest: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const time = timeScale(scenario.scale)
      const server = yield* emulatorProcess({
        generation: {
          meanMs: time.ms(scenario.generation.meanMs),
          sdMs: time.ms(scenario.generation.sdMs),
          seed: scenario.generation.seed
        },
        rateLimit: { calls: client.kind === "shotlist" ? scenario.rpm : UNLIMITED, windowMs: time.ms(WINDOW_MS) }
      })
      const startedMs = performance.now()
      if (client.kind === "shotlist") {
        // On tmpfs where there is one: the journal's fsyncs are client work that time-scaling would magnify.
        const runDirectory = yield* fs.makeTempDirectoryScoped({
          prefix: "shotlist-bench-polling-run-",
          ...(existsSync("/dev/shm") ? { directory: "/dev/shm" } : {})
        })
        yield* renderWithPipeline(manifest, server.apiUrl, {
          concurrency: scenario.concurrency,
          rpm: scenario.rpm,
          runDirectory,
          poll: scaledPoll(time, client.prior.expectMs),
          retry: scaledRetry(time),
          budget: RequestBudget.layer(scenario.rpm, {
            window: Duration.millis(time.ms(WINDOW_MS)),
            margin: Duration.millis(time.ms(MARGIN_MS))
          })
        })
      } else {
        const jobs = yield* loadJobs(manifest)
        yield* renderWithFixedPoller(
          server.apiUrl,
          jobs,
          scenario.concurrency,
          Duration.millis(time.ms(client.intervalMs))
        )
      }
      const wallS = (performance.now() - startedMs) / 1000
      const figures = figuresOf((yield* server.records).records, scenario.scale)
      const result: Figures = {
        scenario: scenario.name,
        client: clientName(client),
        completed: figures.completed,
        jobs: scenario.jobs,
        makespanS: figures.makespanS,
        statusCallsPerJob: figures.statusCallsPerJob,
        detectionP50S: percentile(figures.detectionS, 50),
        detectionP95S: percentile(figures.detectionS, 95),
        overrunP95S: percentile(figures.overrunS, 95),
        wallS,
        loadAverage: loadavg()[0]!
      }
      yield* Effect.logWarning(
        `${scenario.name}, ${result.client}: makespan ${fixed(result.makespanS, 1)} s, ${
          fixed(result.statusCallsPerJob, 1)
        } status calls a job, detection p95 ${fixed(result.detectionP95S, 2)} s (${fixed(wallS, 0)} s wall)`
      )
      return result
    })
  ).pipe(Effect.orDie)

interface ScenarioResult {
  readonly scenario: Scenario
  readonly runs: ReadonlyArray<Figures>
  readonly onePerSecond: Figures
}

const shotlistRuns = (result: ScenarioResult) => result.runs.filter((f) => f.client.startsWith("shotlist"))

const row = (result: ScenarioResult) => (f: Figures) => [
  result.scenario.name,
  f.client,
  `${f.completed}/${f.jobs}`,
  fixed(f.makespanS, 1),
  fixed(f.makespanS / result.onePerSecond.makespanS, 3),
  fixed(f.statusCallsPerJob, 2),
  fixed(f.statusCallsPerJob / result.onePerSecond.statusCallsPerJob, 2),
  `${fixed(f.detectionP50S, 2)} / ${fixed(f.detectionP95S, 2)}`
]

const worst = (values: ReadonlyArray<number>) => Math.max(...values)

export const pollingBench = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-polling-" })
  // `POLLING_SCENARIOS=0,2` runs some scenarios only, for a quick look.
  const only = process.env["POLLING_SCENARIOS"]?.split(",").map(Number)
  const results: Array<ScenarioResult> = []
  for (const [index, scenario] of SCENARIOS.entries()) {
    if (only !== undefined && !only.includes(index)) continue
    const manifest = yield* writeSweepManifest(directory, `bench-polling-${scenario.jobs}`, scenario.jobs)
    const runs: Array<Figures> = []
    for (const prior of scenario.priors) runs.push(yield* measure(scenario, { kind: "shotlist", prior }, manifest))
    const onePerSecond = yield* measure(scenario, { kind: "fixed", intervalMs: 1000 }, manifest)
    runs.push(onePerSecond, yield* measure(scenario, { kind: "fixed", intervalMs: 2000 }, manifest))
    results.push({ scenario, runs, onePerSecond })
  }
  const withRoom = results.filter((r) => r.scenario.roomForLatency)
  const makespanRatios = withRoom.flatMap((r) => shotlistRuns(r).map((f) => f.makespanS / r.onePerSecond.makespanS))
  const callRatios = withRoom.flatMap((r) =>
    shotlistRuns(r).map((f) => f.statusCallsPerJob / r.onePerSecond.statusCallsPerJob)
  )
  const longJobs = withRoom.filter((r) => r.scenario.generation.meanMs >= 60_000).flatMap(shotlistRuns)
  const all = results.flatMap((r) => r.runs)
  const scenarioText = results.map(({ scenario: s }) =>
    `${s.name}: ${s.jobs} jobs, concurrency ${s.concurrency}, generation normal(mean ${
      s.generation.meanMs / 1000
    } s, sd ${s.generation.sdMs / 1000} s, seed ${s.generation.seed}), ${s.scale}× time-scaled`
  ).join("; ")
  return yield* publish(
    {
      name: "polling",
      title: "Polling where the budget does not bind: makespan, status calls and detection latency",
      setup:
        `4 s 480p jobs (a sweep of seeds) through shotlist's pipeline (production poll scheduler, status URLs) and through fixed 1 s and 2 s pollers, each against a fresh emulator in its own process (\`node --import tsx bench/support/EmulatorProcess.ts\`), so every client gets the same generation times. ${scenarioText}. shotlist's budget is the scenario's rpm, behind a strict front (a sliding 60 s window, 429 past rpm); the fixed pollers are never refused. Time-scaled runs scale generation times, the server's window, the budget's window and ${
          MARGIN_MS / 1000
        } s margin, the poll floor, cap, latency gap, prior and the retry waits; figures are in real seconds. Makespan = first submission to last result fetched (the video's URL known), downloads excluded; detection = first result fetch − completion; status calls per job count result-URL calls beyond the one that fetched the result; all on the emulator's clock.`,
      table: markdownTable(
        [
          "case",
          "client",
          "completed",
          "makespan (s)",
          "÷ 1 s poller's",
          "status calls / job",
          "÷ 1 s poller's",
          "detection p50 / p95 (s)"
        ],
        results.flatMap((r) => r.runs.map(row(r)))
      ),
      targets: [
        {
          target: "budget with room: shotlist's makespan ≤ 1.05 × the fixed 1 s poller's, every case and prior",
          measured: `worst ${fixed(worst(makespanRatios), 3)}`,
          met: worst(makespanRatios) <= 1.05
        },
        {
          target: "budget with room: shotlist's status calls ≤ 0.5 × the fixed 1 s poller's, every case and prior",
          measured: `worst ${fixed(worst(callRatios), 2)}`,
          met: worst(callRatios) <= 0.5
        },
        {
          target: "budget with room: detection p95 ≤ 3 s on ~100 s jobs, every prior",
          measured: `worst ${fixed(worst(longJobs.map((f) => f.detectionP95S)), 2)} s`,
          met: worst(longJobs.map((f) => f.detectionP95S)) <= 3
        }
      ],
      notes: [
        "With room in the budget the scheduler polls each job from where its window of likely ends opens (mean − 2 sd of what the run has learned) every latency gap: 2.75 s (a detection p95 of 3 s less the client's own lag), or three quarters of the measured spread where that is narrower (1.5 s for the 10 s jobs), or as often as three quarters of the spare call rate affords if that is wider. A budget that binds keeps the chance threshold (0.8 → 0.3 with the spare share).",
        "Pro at concurrency 4 has no room for the latency target: four ~100 s jobs in their window polled every 2.75 s would take 87 calls a minute of its 50, so the gap is what the budget affords; it is shown for the trade, not held to the 3 s target.",
        "A wrong prior is corrected by scouting and by the censored fit of the jobs still running: until a first job completes, with room, every job is polled every latency gap from its submission, so the wave's first end is seen within a gap however far off the prior; where the budget binds, only the oldest job scouts.",
        "Before this change (the scheduler of commit cacb66b: chance threshold only, the oldest job scouting alone until one completed), run on the same draws (~100 s jobs, rpm 600, right prior, 5×, load 3.0): 2.31 status calls a job, detection p50 / p95 14.3 / 39.0 s: the wave waited for its oldest job's end.",
        `The emulator's own lag (p95, worst client): ${
          fixed(worst(all.map((f) => f.overrunP95S)), 2)
        } s past the drawn generation time, in real seconds.`,
        `Load average (1 min) at the end of each run: ${
          all.map((f) => fixed(f.loadAverage, 1)).join(", ")
        } on ${cpus().length} cores shared with other work; wall time per run: ${
          all.map((f) => fixed(f.wallS, 0)).join(", ")
        } s.`
      ],
      figures: {
        windowMs: WINDOW_MS,
        marginMs: MARGIN_MS,
        scenarios: results.map((r) => ({ ...r.scenario, runs: r.runs }))
      }
    } satisfies BenchResult
  )
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) runMain(pollingBench)
