/**
 * The request budget where it binds: one wave of ~100 s jobs on Segmind's
 * Free (5 calls a minute) and Pro (50) plans, against a strict server in its
 * own process, each run read as a ratio to the clairvoyant bound on the same
 * generation times. Time-scaled: generation times, the server's window and
 * every client duration run a plan's `scale` times faster; figures are
 * printed back in real (unscaled) seconds.
 */
import { FileSystem } from "@effect/platform"
import { Duration, Effect, type Layer } from "effect"
import { existsSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { DEFAULT_POLL, type PollSettings } from "../src/pipeline/PollSchedule.js"
import { RequestBudget } from "../src/pipeline/RequestBudget.js"
import { DEFAULT_RETRY, type RetrySettings } from "../src/pipeline/RetryPolicy.js"
import { type BenchResult, isMain, markdownTable, publish, runMain } from "./support/BenchResult.js"
import { renderWithPipeline, writeSweepManifest } from "./support/BenchRun.js"
import { clairvoyantRun } from "./support/Clairvoyant.js"
import { emulatorProcess, type EmulatorRecords, type FrontStats } from "./support/EmulatorProcess.js"
import { evenSpacingBudgetLayer } from "./support/EvenSpacingBudget.js"
import { fixed, mean, percentile } from "./support/Measure.js"

const WINDOW_MS = 60_000
const MARGIN_MS = 1_000
/** Seedance's ~100 s, with the spread a busy server shows. */
const GENERATION = { meanMs: 100_000, sdMs: 15_000, seed: 20240601 } as const
/** Past the default 15 min, so no job of a slow variant is cut short and every makespan is of a whole wave. */
const JOB_DEADLINE = Duration.minutes(60)

/**
 * The client's own work (HTTP, JSON, journal appends) is not scaled, so a
 * plan whose calls come close together runs less fast: Pro's 300 calls at
 * 20× would make each millisecond of client work count as 20. `BUDGET_SCALE`
 * sets one scale for all, for a quick look.
 */
const PLANS = [
  { plan: "Free", rpm: 5, jobs: 20, scale: 20 },
  { plan: "Pro", rpm: 50, jobs: 100, scale: 5 }
] as const

const PRIORS = [
  { prior: "right (--expect 100s)", expectMs: 100_000 },
  { prior: "wrong (--expect 30s)", expectMs: 30_000 }
] as const

/** The priority budget with the run's poll scheduler, polling result URLs where the probe finds "not yet" (or status URLs only); and the old budget. */
type BudgetKind = "priority lines" | "priority lines, status URLs only" | "before: even spacing"

/** Real durations to the run's scaled ones, and back. */
const timeScale = (scale: number) => {
  const ms = (realMs: number) => realMs / scale
  const duration = (real: Duration.Duration) => Duration.millis(ms(Duration.toMillis(real)))
  return { scale, ms, duration, realSeconds: (scaledMs: number) => (scaledMs * scale) / 1000 }
}
type TimeScale = ReturnType<typeof timeScale>

/** Production's poll and retry settings, every duration scaled. */
const scaledPoll = (time: TimeScale, expectMs: number, probeResultUrl: boolean): PollSettings => ({
  ...DEFAULT_POLL,
  pollVia: probeResultUrl ? "auto" : "status",
  prior: () => Duration.millis(time.ms(expectMs)),
  floor: time.duration(DEFAULT_POLL.floor),
  cap: time.duration(DEFAULT_POLL.cap),
  deadline: time.duration(JOB_DEADLINE)
})

const scaledRetry = (time: TimeScale): RetrySettings => ({
  ...DEFAULT_RETRY,
  base: time.duration(DEFAULT_RETRY.base),
  cap: time.duration(DEFAULT_RETRY.cap)
})

const budgetLayer = (kind: BudgetKind, rpm: number, time: TimeScale): Layer.Layer<RequestBudget> =>
  kind !== "before: even spacing"
    ? RequestBudget.layer(rpm, {
      window: Duration.millis(time.ms(WINDOW_MS)),
      margin: Duration.millis(time.ms(MARGIN_MS))
    })
    : evenSpacingBudgetLayer(rpm, Duration.millis(time.ms(WINDOW_MS)))

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

interface Variant {
  readonly plan: string
  readonly rpm: number
  readonly jobs: number
  readonly prior: string
  readonly budget: BudgetKind
}

/** Everything in real seconds; the clairvoyant bound is computed on the run's own draws. */
const figuresOf = (
  variant: Variant,
  time: TimeScale,
  completed: number,
  records: EmulatorRecords["records"],
  front: FrontStats
) => {
  const startMs = Math.min(...front.admitted)
  const resultAtS = records.flatMap((r) =>
    r.firstResultFetchAt === undefined ? [] : [time.realSeconds(r.firstResultFetchAt - startMs)]
  )
  const detectionS = records.flatMap((r) =>
    r.firstResultFetchAt === undefined || r.completedAt === undefined
      ? []
      : [time.realSeconds(r.firstResultFetchAt - r.completedAt)]
  )
  const bound = clairvoyantRun(records.map((r) => r.generationMs * time.scale), variant.rpm, WINDOW_MS)
  const makespanS = Math.max(...resultAtS)
  const clairvoyantS = bound.makespanMs / 1000
  const clairvoyantMeanResultS = mean(bound.resultAtMs) / 1000
  return {
    ...variant,
    scale: time.scale,
    completed,
    makespanS,
    clairvoyantS,
    makespanRatio: makespanS / clairvoyantS,
    meanResultS: mean(resultAtS),
    clairvoyantMeanResultS,
    meanResultRatio: mean(resultAtS) / clairvoyantMeanResultS,
    callsPerJob: front.admitted.length / variant.jobs,
    refused: front.refused.length,
    fullestMinuteSent: fullestWindow([...front.admitted, ...front.refused], time.ms(WINDOW_MS)),
    detectionP50S: percentile(detectionS, 50),
    detectionP95S: percentile(detectionS, 95)
  }
}

type Figures = ReturnType<typeof figuresOf> & { readonly wallS: number; readonly loadAverage: number }

/** One wave through shotlist's pipeline against a fresh server process: the n-th submission gets the n-th draw in every variant. */
const measureVariant = (variant: Variant, expectMs: number, time: TimeScale, manifest: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const server = yield* emulatorProcess({
        generation: { meanMs: time.ms(GENERATION.meanMs), sdMs: time.ms(GENERATION.sdMs), seed: GENERATION.seed },
        rateLimit: { calls: variant.rpm, windowMs: time.ms(WINDOW_MS) }
      })
      // On tmpfs where there is one: the journal's fsyncs are client work that time-scaling would magnify.
      const runDirectory = yield* fs.makeTempDirectoryScoped({
        prefix: "shotlist-bench-budget-run-",
        ...(existsSync("/dev/shm") ? { directory: "/dev/shm" } : {})
      })
      const startedMs = performance.now()
      const report = yield* renderWithPipeline(manifest, server.apiUrl, {
        concurrency: variant.jobs,
        rpm: variant.rpm,
        runDirectory,
        poll: scaledPoll(time, expectMs, variant.budget === "priority lines"),
        retry: scaledRetry(time),
        budget: budgetLayer(variant.budget, variant.rpm, time)
      })
      const wallS = (performance.now() - startedMs) / 1000
      const figures = figuresOf(
        variant,
        time,
        report.summary.completed,
        (yield* server.records).records,
        yield* server.front
      )
      yield* Effect.logWarning(
        `${variant.plan}, ${variant.budget}, prior ${variant.prior}: ${
          fixed(figures.makespanRatio, 2)
        } × clairvoyant, ${fixed(wallS, 1)} s of wall time`
      )
      return { ...figures, wallS, loadAverage: loadavg()[0]! } satisfies Figures
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
  `${fixed(f.detectionP50S, 0)} / ${fixed(f.detectionP95S, 0)}`
]

export const budgetBench = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-budget-" })
  const results: Array<Figures> = []
  const forced = process.env["BUDGET_SCALE"]
  // `BUDGET_PLANS=Pro` runs one plan only, for a quick look.
  const only = process.env["BUDGET_PLANS"]?.split(",")
  for (const plan of PLANS.filter((p) => only === undefined || only.includes(p.plan))) {
    const time = timeScale(forced === undefined ? plan.scale : Number(forced))
    const manifest = yield* writeSweepManifest(directory, `bench-budget-${plan.jobs}`, plan.jobs)
    const variant = (prior: (typeof PRIORS)[number], budget: BudgetKind) =>
      measureVariant({ ...plan, prior: prior.prior, budget }, prior.expectMs, time, manifest)
    for (const prior of PRIORS) results.push(yield* variant(prior, "priority lines"))
    results.push(yield* variant(PRIORS[0], "priority lines, status URLs only"))
    results.push(yield* variant(PRIORS[0], "before: even spacing"))
  }
  const ours = results.filter((f) => f.budget !== "before: even spacing")
  const worstRatio = Math.max(...ours.map((f) => f.makespanRatio))
  const worstRatioOf = (plan: string) => Math.max(...ours.filter((f) => f.plan === plan).map((f) => f.makespanRatio))
  const proCalls = Math.max(...ours.filter((f) => f.plan === "Pro").map((f) => f.callsPerJob))
  const refused = ours.reduce((n, f) => n + f.refused, 0)
  const fullest = Math.max(...ours.map((f) => f.fullestMinuteSent / f.rpm))
  const scales = [...new Set(results.map((f) => `${f.plan} ${f.scale}×`))].join(", ")
  return yield* publish(
    {
      name: "budget",
      title: "Request budget: one wave on the Free and Pro plans, against the clairvoyant bound",
      setup: `One wave (concurrency = jobs) of 4 s 480p jobs whose generation times are drawn normal(mean ${
        GENERATION.meanMs / 1000
      } s, sd ${
        GENERATION.sdMs / 1000
      } s, seed ${GENERATION.seed}), through shotlist's pipeline (production poll schedule and retries) against the emulator in its own process (\`node --import tsx bench/support/EmulatorProcess.ts\`) behind a strict front: a sliding 60 s window that answers 429 with Retry-After past rpm keyed calls (submit, status, result). Time-scaled (${scales}): generation times, the server's window, the budget's window and ${
        MARGIN_MS / 1000
      } s margin, the poll floor, cap and prior and the retry waits all run that much faster; figures are in real seconds. The clairvoyant bound knows every drawn time: 3 calls a job (submit, the status that says COMPLETED, the result), each sent the moment it helps, under the same window; it is the best possible makespan on the same draws. Makespan = first call to last result fetched (the video's URL known), downloads excluded. Per-job deadline raised to ${
        Duration.format(JOB_DEADLINE)
      }; the run directory is on tmpfs.`,
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
          target: "makespan ≤ 1.05 × the clairvoyant bound on Free, every prior and poll target",
          measured: `worst ${fixed(worstRatioOf("Free"), 2)}`,
          met: worstRatioOf("Free") <= 1.05
        },
        {
          target: "makespan ≤ 1.05 × the clairvoyant bound on Pro, every prior and poll target",
          measured: `worst ${fixed(worstRatioOf("Pro"), 2)}`,
          met: worstRatioOf("Pro") <= 1.05
        },
        {
          target: "≤ 3.3 API calls per job on Pro",
          measured: `worst ${fixed(proCalls, 2)}`,
          met: proCalls <= 3.3
        },
        {
          target: "makespan ≤ 1.25 × the clairvoyant bound, every plan and prior (the earlier target)",
          measured: `worst ${fixed(worstRatio, 2)}`,
          met: worstRatio <= 1.25
        }
      ],
      notes: [
        "API calls / job counts every keyed call the server admitted (the floor is 3.00 on status URLs, 2.00 on result URLs); polls beyond the one that says COMPLETED are the price of not knowing when a job ends.",
        "Detection = first result fetch − completion on the emulator's clock; where the budget binds it is the wait for a poll slot, not the poll schedule.",
        "The mean time to result is read against the clairvoyant schedule's mean (that schedule minimises the makespan, not the mean, so this ratio may dip below 1).",
        "The clairvoyant sends in bursts at window edges (rpm calls at once, then rpm more a window later); a budget that cannot know when jobs end spreads its calls, which costs up to one window over a run.",
        "Polls come from the run's one poll scheduler: each poll slot the budget grants goes to the job most likely to have ended, under a normal fitted with censoring to the run's measured and still-running jobs (scouting with the oldest job until one completes).",
        "`priority lines` polls result URLs once the run's probe found they answer \"not yet\" (the emulator does, as `resultPending: \"status\"`): a job then takes 2 calls, so the clairvoyant bound, which assumes 3, is no longer a floor and the ratio may dip below 1. `status URLs only` turns the probe off: 3 calls a job, as the bound assumes.",
        "`before: even spacing` is the budget as it was (one queue at 60 s / rpm, polls at most 80 % of it, a 429 closes the gate), on the same draws against the same strict server.",
        `Load average (1 min) at the end of each run: ${
          results.map((f) => fixed(f.loadAverage, 1)).join(", ")
        } on ${cpus().length} cores shared with other work; wall time per run: ${
          results.map((f) => fixed(f.wallS, 0)).join(", ")
        } s.`
      ],
      figures: { windowMs: WINDOW_MS, marginMs: MARGIN_MS, generation: GENERATION, runs: results }
    } satisfies BenchResult
  )
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) runMain(budgetBench)
