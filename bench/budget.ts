/**
 * The request budget where it binds: one wave of ~100 s jobs on Segmind's
 * Free (5 calls a minute) and Pro (50) plans, and one of ~30 s jobs on Pro,
 * against a strict server in its own process, each run read as a ratio to
 * the clairvoyant bound on the same generation times. Time-scaled:
 * generation times, the server's window and every client duration run a
 * plan's `scale` times faster; figures are printed back in real (unscaled)
 * seconds.
 *
 * `npm run bench:budget -- status` runs only the cases whose id contains
 * one of the words given (ids: `free-status-right`, `pro-30s-result-wrong`,
 * `pro-before`, …; `--list` prints them); a partial run prints its table but
 * leaves bench/results/budget.json alone. `BUDGET_DUMP=DIR` writes each
 * case's raw timeline there (the calls the front admitted, each job's times).
 */
import { FileSystem } from "@effect/platform"
import { Console, Duration, Effect, type Layer } from "effect"
import { existsSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { DEFAULT_POLL, type PollSettings } from "../src/pipeline/PollSchedule.js"
import { RequestBudget } from "../src/pipeline/RequestBudget.js"
import { DEFAULT_RETRY, type RetrySettings } from "../src/pipeline/RetryPolicy.js"
import { type BenchResult, isMain, markdownTable, publish, renderResult, runMain } from "./support/BenchResult.js"
import { renderWithPipeline, writeSweepManifest } from "./support/BenchRun.js"
import { clairvoyantRun } from "./support/Clairvoyant.js"
import { emulatorProcess, type EmulatorRecords, type FrontStats } from "./support/EmulatorProcess.js"
import { evenSpacingBudgetLayer } from "./support/EvenSpacingBudget.js"
import { fixed, mean, percentile } from "./support/Measure.js"

const WINDOW_MS = 60_000
const MARGIN_MS = 1_000
/** Seedance's ~100 s, with the spread a busy server shows. */
const GENERATION = { meanMs: 100_000, sdMs: 15_000, seed: 20240601 } as const
/** Short jobs (issue 13's Pro case): done long before a budget-bound run can fetch them all. */
const SHORT_GENERATION = { meanMs: 30_000, sdMs: 5_000, seed: 20240601 } as const
type Generation = typeof GENERATION | typeof SHORT_GENERATION
/** Past the default 15 min, so no job of a slow variant is cut short and every makespan is of a whole wave. */
const JOB_DEADLINE = Duration.minutes(60)

/**
 * The client's own work (HTTP, JSON, journal appends) is not scaled, so a
 * plan whose calls come close together runs less fast: Pro's 300 calls at
 * 20× would make each millisecond of client work count as 20. `BUDGET_SCALE`
 * sets one scale for all, for a quick look.
 */
const WAVES = [
  { id: "free", plan: "Free", rpm: 5, jobs: 20, scale: 20, generation: GENERATION },
  { id: "pro", plan: "Pro", rpm: 50, jobs: 100, scale: 5, generation: GENERATION },
  { id: "pro-30s", plan: "Pro", rpm: 50, jobs: 40, scale: 5, generation: SHORT_GENERATION }
] as const
type Wave = (typeof WAVES)[number]

/** The right prior is the wave's mean; the wrong one is off by a factor of 3 or more, the other way. */
const priorsOf = (generation: Generation) => {
  const rightS = generation.meanMs / 1000
  const wrongS = rightS >= 60 ? 30 : 100
  return {
    right: { prior: `right (--expect ${rightS}s)`, expectMs: rightS * 1000 },
    wrong: { prior: `wrong (--expect ${wrongS}s)`, expectMs: wrongS * 1000 }
  } as const
}

/** The priority budget with the run's poll scheduler, polling result URLs where the probe finds "not yet" (or status URLs only); and the old budget. */
type BudgetKind = "priority lines" | "priority lines, status URLs only" | "before: even spacing"

const ROUTES = [
  { route: "result", budget: "priority lines" },
  { route: "status", budget: "priority lines, status URLs only" }
] as const

interface Case {
  readonly id: string
  readonly wave: Wave
  readonly prior: { readonly prior: string; readonly expectMs: number }
  readonly budget: BudgetKind
}

/** Each wave on both poll routes with the right and the wrong prior, and on the old budget (the long waves). */
const CASES: ReadonlyArray<Case> = WAVES.flatMap((wave) => {
  const priors = priorsOf(wave.generation)
  return [
    ...ROUTES.flatMap(({ budget, route }) =>
      (["right", "wrong"] as const).map((which) => ({
        id: `${wave.id}-${route}-${which}`,
        wave,
        prior: priors[which],
        budget
      }))
    ),
    ...(wave.generation === GENERATION
      ? [{ id: `${wave.id}-before`, wave, prior: priors.right, budget: "before: even spacing" as const }]
      : [])
  ]
})

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
  latencyGap: time.duration(DEFAULT_POLL.latencyGap),
  budgetWindow: time.duration(DEFAULT_POLL.budgetWindow),
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
  readonly case: string
  readonly plan: string
  readonly rpm: number
  readonly jobs: number
  readonly generation: string
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
const measureVariant = (
  variant: Variant,
  generation: Generation,
  expectMs: number,
  time: TimeScale,
  manifest: string
) =>
  Effect.scoped(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const server = yield* emulatorProcess({
        generation: { meanMs: time.ms(generation.meanMs), sdMs: time.ms(generation.sdMs), seed: generation.seed },
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
      const records = (yield* server.records).records
      const front = yield* server.front
      // `BUDGET_DUMP=DIR` keeps each case's raw timeline, to see where a run lost time against the bound.
      const dump = process.env["BUDGET_DUMP"]
      if (dump !== undefined) {
        yield* fs.writeFileString(
          `${dump}/budget-${variant.case}.json`,
          JSON.stringify({ records, front, scale: time.scale })
        )
      }
      const figures = figuresOf(variant, time, report.summary.completed, records, front)
      const loadAverage = loadavg()[0]!
      yield* Effect.logWarning(
        `${variant.case}: ${fixed(figures.makespanRatio, 2)} × clairvoyant, ${
          fixed(figures.callsPerJob, 2)
        } calls/job, ${figures.refused} 429s, fullest minute ${figures.fullestMinuteSent}, ${
          fixed(wallS, 1)
        } s of wall time, load ${fixed(loadAverage, 1)}`
      )
      return { ...figures, wallS, loadAverage } satisfies Figures
    })
  )

const row = (f: Figures) => [
  f.plan,
  f.generation,
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

/** The cases whose id contains one of `words` (all without any). */
const chosenCases = (words: ReadonlyArray<string>) =>
  CASES.filter((c) => words.length === 0 || words.some((word) => c.id.includes(word)))

const measureCases = (cases: ReadonlyArray<Case>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-budget-" })
    const results: Array<Figures> = []
    const forced = process.env["BUDGET_SCALE"]
    for (const { budget, id, prior, wave } of cases) {
      const time = timeScale(forced === undefined ? wave.scale : Number(forced))
      const manifest = yield* writeSweepManifest(directory, `bench-budget-${wave.jobs}`, wave.jobs)
      const variant: Variant = {
        case: id,
        plan: wave.plan,
        rpm: wave.rpm,
        jobs: wave.jobs,
        generation: `~${wave.generation.meanMs / 1000} s`,
        prior: prior.prior,
        budget
      }
      results.push(yield* measureVariant(variant, wave.generation, prior.expectMs, time, manifest))
    }
    return results
  }).pipe(Effect.scoped)

const budgetResult = (results: ReadonlyArray<Figures>) => {
  const ours = results.filter((f) => f.budget !== "before: even spacing")
  const statusOnly = ours.filter((f) => f.budget === "priority lines, status URLs only")
  const worstOf = (figures: ReadonlyArray<Figures>) => Math.max(...figures.map((f) => f.makespanRatio))
  const worstRatio = worstOf(ours)
  const worstResultRoute = worstOf(ours.filter((f) => f.budget === "priority lines"))
  const proCalls = Math.max(...ours.filter((f) => f.plan === "Pro").map((f) => f.callsPerJob))
  const refused = ours.reduce((n, f) => n + f.refused, 0)
  const fullest = Math.max(...ours.map((f) => f.fullestMinuteSent / f.rpm))
  const scales = [...new Set(results.map((f) => `${f.plan} ${f.scale}×`))].join(", ")
  return {
    name: "budget",
    title: "Request budget: one wave on the Free and Pro plans, against the clairvoyant bound",
    setup: `One wave (concurrency = jobs) of 4 s 480p jobs whose generation times are drawn normal(mean ${
      GENERATION.meanMs / 1000
    } s, sd ${GENERATION.sdMs / 1000} s; the ~30 s wave: mean ${SHORT_GENERATION.meanMs / 1000} s, sd ${
      SHORT_GENERATION.sdMs / 1000
    } s; seed ${GENERATION.seed}), through shotlist's pipeline (production poll schedule and retries) against the emulator in its own process (\`node --import tsx bench/support/EmulatorProcess.ts\`) behind a strict front: a sliding 60 s window that answers 429 with Retry-After past rpm keyed calls (submit, status, result). Time-scaled (${scales}): generation times, the server's window, the budget's window and ${
      MARGIN_MS / 1000
    } s margin, the poll floor, cap and prior and the retry waits all run that much faster; figures are in real seconds. The clairvoyant bound knows every drawn time: 3 calls a job (submit, the status that says COMPLETED, the result), each sent the moment it helps, under the same window; it is the best possible makespan on the same draws. Makespan = first call to last result fetched (the video's URL known), downloads excluded. Per-job deadline raised to ${
      Duration.format(JOB_DEADLINE)
    }; the run directory is on tmpfs.`,
    table: markdownTable(
      [
        "plan",
        "generation",
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
      ...[["Free", "~100 s"], ["Pro", "~100 s"], ["Pro", "~30 s"]].flatMap(([plan, generation]) => {
        const worst = worstOf(statusOnly.filter((f) => f.plan === plan && f.generation === generation))
        return Number.isFinite(worst)
          ? [{
            target: `makespan ≤ 1.05 × the clairvoyant bound on ${plan}, ${generation} jobs, status URLs, every prior`,
            measured: `worst ${fixed(worst, 2)}`,
            met: worst <= 1.05
          }]
          : []
      }),
      ...(Number.isFinite(worstResultRoute)
        ? [{
          target: "below the 3-call bound where result URLs answer \"not yet\" (2 calls a job), every case",
          measured: `worst ${fixed(worstResultRoute, 2)}`,
          met: worstResultRoute < 1
        }]
        : []),
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
      "The clairvoyant sends in bursts at window edges (rpm calls at once, then rpm more a window later). The budget does too: a poll takes any free slot of the sliding window, no even pace, as long as a slot stays free for each result the polls on the wire may beget (a poll that finds COMPLETED keeps its result's slot until the fetch), so a window holds polls and their results side by side; results first, then submits, then polls.",
      "Polls come from the run's one poll scheduler: each poll slot the budget grants goes to the job most likely to have ended, under a normal fitted with censoring to the run's measured and still-running jobs (scouting with the oldest job until one completes).",
      "`priority lines` polls result URLs once the run's probe found they answer \"not yet\" (the emulator does, as `resultPending: \"status\"`): a job then takes 2 calls, so the clairvoyant bound, which assumes 3, is no longer a floor and the ratio may dip below 1. `status URLs only` turns the probe off: 3 calls a job, as the bound assumes.",
      "`before: even spacing` is the budget of two changes ago (one queue at 60 s / rpm, polls at most 80 % of it, a 429 closes the gate), on the same draws against the same strict server.",
      `Load average (1 min) at the end of each run: ${
        results.map((f) => fixed(f.loadAverage, 1)).join(", ")
      } on ${cpus().length} cores shared with other work; wall time per run: ${
        results.map((f) => fixed(f.wallS, 0)).join(", ")
      } s.`
    ],
    figures: {
      windowMs: WINDOW_MS,
      marginMs: MARGIN_MS,
      generation: GENERATION,
      shortGeneration: SHORT_GENERATION,
      runs: results
    }
  } satisfies BenchResult
}

/** Every case, published; some (picked by words of their ids), printed only. */
export const budgetBench = (words: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const cases = chosenCases(words)
    if (cases.length === 0) {
      return yield* Console.log(`no case matches; the cases: ${CASES.map((c) => c.id).join(", ")}`)
    }
    const result = budgetResult(yield* measureCases(cases))
    if (cases.length === CASES.length) return yield* publish(result)
    yield* Console.log(`\n${renderResult(result)}\n(some cases only: bench/results/budget.json is left as it was)`)
  })

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  runMain(
    args.includes("--list")
      ? Console.log(CASES.map((c) => c.id).join("\n"))
      : budgetBench(args)
  )
}
