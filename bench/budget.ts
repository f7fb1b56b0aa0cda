/**
 * The request budget where it binds: one wave of ~100 s jobs on Segmind's
 * Free (5 calls a minute) and Pro (50) plans, against a strict server in its
 * own process, each run read as a ratio to the clairvoyant bound on the same
 * generation times. Time-scaled: generation times, the server's window and
 * every client duration run `SCALE` times faster; figures are printed back
 * in real (unscaled) seconds.
 */
import { FileSystem } from "@effect/platform"
import { Duration, Effect, type Layer } from "effect"
import { cpus } from "node:os"
import { DEFAULT_POLL, type PollSettings } from "../src/pipeline/PollSchedule.js"
import { RequestBudget } from "../src/pipeline/RequestBudget.js"
import { DEFAULT_RETRY, type RetrySettings } from "../src/pipeline/RetryPolicy.js"
import { type BenchResult, isMain, markdownTable, publish, runMain } from "./support/BenchResult.js"
import { renderWithPipeline, writeSweepManifest } from "./support/BenchRun.js"
import { clairvoyantRun } from "./support/Clairvoyant.js"
import { emulatorProcess, type EmulatorRecords, type FrontStats } from "./support/EmulatorProcess.js"
import { evenSpacingBudgetLayer } from "./support/EvenSpacingBudget.js"
import { fixed, mean, percentile } from "./support/Measure.js"

/** How much faster than real time everything runs; `BUDGET_SCALE` overrides it. */
const SCALE = Number(process.env["BUDGET_SCALE"] ?? 20)
const WINDOW_MS = 60_000
const MARGIN_MS = 1_000
/** Seedance's ~100 s, with the spread a busy server shows. */
const GENERATION = { meanMs: 100_000, sdMs: 15_000, seed: 20240601 } as const
/** Past the default 15 min, so no job of a slow variant is cut short and every makespan is of a whole wave. */
const JOB_DEADLINE = Duration.minutes(60)

const PLANS = [
  { plan: "Free", rpm: 5, jobs: 20 },
  { plan: "Pro", rpm: 50, jobs: 100 }
] as const

const PRIORS = [
  { prior: "right (--expect 100s)", expectMs: 100_000 },
  { prior: "wrong (--expect 30s)", expectMs: 30_000 }
] as const

type BudgetKind = "priority lines" | "before: even spacing"

const scaledMs = (ms: number) => ms / SCALE
const scaled = (duration: Duration.Duration) => Duration.millis(scaledMs(Duration.toMillis(duration)))

/** Production's poll and retry settings, every duration scaled. */
const scaledPoll = (expectMs: number): PollSettings => ({
  ...DEFAULT_POLL,
  prior: () => Duration.millis(scaledMs(expectMs)),
  floor: scaled(DEFAULT_POLL.floor),
  cap: scaled(DEFAULT_POLL.cap),
  deadline: scaled(JOB_DEADLINE)
})
const scaledRetry: RetrySettings = {
  ...DEFAULT_RETRY,
  base: scaled(DEFAULT_RETRY.base),
  cap: scaled(DEFAULT_RETRY.cap)
}

const budgetLayer = (kind: BudgetKind, rpm: number): Layer.Layer<RequestBudget> =>
  kind === "priority lines"
    ? RequestBudget.layer(rpm, {
      window: Duration.millis(scaledMs(WINDOW_MS)),
      margin: Duration.millis(scaledMs(MARGIN_MS))
    })
    : evenSpacingBudgetLayer(rpm, Duration.millis(scaledMs(WINDOW_MS)))

/** The most calls any window of `windowMs` holds, wherever it starts. */
const fullestWindow = (times: ReadonlyArray<number>, windowMs: number) => {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - windowMs) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

/** Everything in real seconds: the emulator's scaled ms times `SCALE`. */
const figuresOf = (
  variant: { readonly plan: string; readonly rpm: number; readonly jobs: number; readonly prior: string },
  budget: BudgetKind,
  completed: number,
  records: EmulatorRecords["records"],
  front: FrontStats
) => {
  const real = (scaledMsValue: number) => (scaledMsValue * SCALE) / 1000
  const startMs = Math.min(...front.admitted)
  const resultAtS = records.flatMap((
    r
  ) => (r.firstResultFetchAt === undefined ? [] : [real(r.firstResultFetchAt - startMs)]))
  const bound = clairvoyantRun(records.map((r) => r.generationMs * SCALE), variant.rpm, WINDOW_MS)
  const makespanS = Math.max(...resultAtS)
  const boundS = bound.makespanMs / 1000
  const boundMeanS = mean(bound.resultAtMs) / 1000
  return {
    ...variant,
    budget,
    completed,
    makespanS,
    clairvoyantS: boundS,
    makespanRatio: makespanS / boundS,
    meanResultS: mean(resultAtS),
    clairvoyantMeanResultS: boundMeanS,
    meanResultRatio: mean(resultAtS) / boundMeanS,
    callsPerJob: front.admitted.length / variant.jobs,
    refused: front.refused.length,
    fullestMinuteSent: fullestWindow([...front.admitted, ...front.refused], scaledMs(WINDOW_MS)),
    detectionP50S: percentile(
      records.flatMap((r) =>
        r.firstResultFetchAt === undefined || r.completedAt === undefined
          ? []
          : [real(r.firstResultFetchAt - r.completedAt)]
      ),
      50
    ),
    detectionP95S: percentile(
      records.flatMap((r) =>
        r.firstResultFetchAt === undefined || r.completedAt === undefined
          ? []
          : [real(r.firstResultFetchAt - r.completedAt)]
      ),
      95
    )
  }
}

type Figures = ReturnType<typeof figuresOf>

/** One wave through shotlist's pipeline against a fresh server process: the n-th submission gets the n-th draw in every variant. */
const measureVariant = (
  variant: (typeof PLANS)[number] & (typeof PRIORS)[number],
  budget: BudgetKind,
  manifest: string
) =>
  Effect.scoped(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const server = yield* emulatorProcess({
        generation: {
          meanMs: scaledMs(GENERATION.meanMs),
          sdMs: scaledMs(GENERATION.sdMs),
          seed: GENERATION.seed
        },
        rateLimit: { calls: variant.rpm, windowMs: scaledMs(WINDOW_MS) }
      })
      const runDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-budget-run-" })
      const startedMs = performance.now()
      const report = yield* renderWithPipeline(manifest, server.apiUrl, {
        concurrency: variant.jobs,
        rpm: variant.rpm,
        runDirectory,
        poll: scaledPoll(variant.expectMs),
        retry: scaledRetry,
        budget: budgetLayer(budget, variant.rpm)
      })
      const wallS = (performance.now() - startedMs) / 1000
      const figures = figuresOf(
        { plan: variant.plan, rpm: variant.rpm, jobs: variant.jobs, prior: variant.prior },
        budget,
        report.summary.completed,
        (yield* server.records).records,
        yield* server.front
      )
      yield* Effect.logWarning(
        `${variant.plan}, ${budget}, prior ${variant.prior}: ${fixed(figures.makespanRatio, 2)} × clairvoyant, ${
          fixed(wallS, 1)
        } s of wall time`
      )
      return figures
    })
  )

const row = (f: Figures) => [
  f.plan,
  f.budget,
  f.prior,
  `${f.completed}/${f.jobs}`,
  fixed(f.makespanS, 0),
  fixed(f.clairvoyantS, 0),
  fixed(f.makespanRatio, 2),
  fixed(f.meanResultRatio, 2),
  fixed(f.callsPerJob, 2),
  f.refused,
  `${f.fullestMinuteSent} / ${f.rpm}`,
  `${fixed(f.detectionP50S, 1)} / ${fixed(f.detectionP95S, 1)}`
]

export const budgetBench = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-budget-" })
  const results: Array<Figures> = []
  for (const plan of PLANS) {
    const manifest = yield* writeSweepManifest(directory, `bench-budget-${plan.jobs}`, plan.jobs)
    for (const prior of PRIORS) {
      results.push(yield* measureVariant({ ...plan, ...prior }, "priority lines", manifest))
    }
    results.push(yield* measureVariant({ ...plan, ...PRIORS[0] }, "before: even spacing", manifest))
  }
  const ours = results.filter((f) => f.budget === "priority lines")
  const worstRatio = Math.max(...ours.map((f) => f.makespanRatio))
  const refused = ours.reduce((n, f) => n + f.refused, 0)
  const fullest = Math.max(...ours.map((f) => f.fullestMinuteSent / f.rpm))
  return yield* publish(
    {
      name: "budget",
      title: "Request budget: one wave on the Free and Pro plans, against the clairvoyant bound",
      setup: `One wave (concurrency = jobs) of 4 s 480p jobs whose generation times are drawn normal(mean ${
        GENERATION.meanMs / 1000
      } s, sd ${
        GENERATION.sdMs / 1000
      } s, seed ${GENERATION.seed}), through shotlist's pipeline (production poll schedule and retries) against the emulator in its own process behind a strict front: a sliding 60 s window that answers 429 with Retry-After past rpm keyed calls (submit, status, result). Everything runs ${SCALE}× faster than real time (generation times, the server's window, the budget's window and ${
        MARGIN_MS / 1000
      } s margin, the poll floor, cap and prior, retry waits); figures are in real seconds. The clairvoyant bound knows every drawn time: 3 calls a job (submit, the status that says COMPLETED, the result), each the moment it helps, under the same window; it is the best possible on the same draws. Makespan = first call to last result fetched (the video's URL known), downloads excluded. Per-job deadline raised to ${
        Duration.format(JOB_DEADLINE)
      }.`,
      table: markdownTable(
        [
          "plan",
          "budget",
          "prior",
          "completed",
          "makespan (s)",
          "clairvoyant (s)",
          "makespan ÷ clairvoyant",
          "mean time to result ÷ clairvoyant's",
          "API calls / job",
          "429s",
          "fullest minute sent / rpm",
          "detection p50 / p95 (s)"
        ],
        results.map(row)
      ),
      targets: [
        {
          target: "the server never answers 429 to the priority budget",
          measured: `${refused} 429s`,
          met: refused === 0
        },
        {
          target: "no minute holds more than rpm calls sent",
          measured: `fullest minute ${fixed(fullest * 100, 0)} % of rpm`,
          met: fullest <= 1
        },
        {
          target: "makespan ≤ 1.5 × the clairvoyant bound, every plan and prior",
          measured: `worst ${fixed(worstRatio, 2)}`,
          met: worstRatio <= 1.5
        }
      ],
      notes: [
        "API calls / job counts every keyed call the server admitted (3.00 is the floor); the polls beyond the one that says COMPLETED are the price of not knowing when a job ends.",
        "The mean time to result is read against the clairvoyant schedule's mean (that schedule minimises the makespan, not the mean, so this ratio may dip below 1).",
        "`before: even spacing` is the budget as it was (one queue at 60 s / rpm, polls at most 80 % of it, a 429 closes the gate), run on the same draws for comparison.",
        `Machine load: ${cpus().length} cores shared; wall time per run is roughly the makespan ÷ ${SCALE} plus start-up.`
      ],
      figures: { scale: SCALE, windowMs: WINDOW_MS, marginMs: MARGIN_MS, generation: GENERATION, runs: results }
    } satisfies BenchResult
  )
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) runMain(budgetBench)
