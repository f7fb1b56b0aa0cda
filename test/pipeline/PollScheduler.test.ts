import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { fitCensored, GenerationTimes } from "../../src/pipeline/GenerationTimes.js"
import { DEFAULT_POLL, type PollSettings } from "../../src/pipeline/PollSchedule.js"
import { doneSinceSeen, pollDueAtMs, PollScheduler, pollThreshold } from "../../src/pipeline/PollScheduler.js"
import { RequestBudget } from "../../src/pipeline/RequestBudget.js"
import { RunGate } from "../../src/pipeline/RunGate.js"

const settings: PollSettings = { ...DEFAULT_POLL, prior: () => Duration.seconds(100), pollVia: "status" }
const params: SeedanceParams = {
  prompt: "p",
  duration: 5,
  resolution: "720p",
  aspect_ratio: "16:9",
  seed: 1,
  camera_fixed: false,
  generate_audio: true,
  skip_moderation: false
}

/** The scheduler under a budget that does not bind, with its own learner. */
const schedulerLayer = PollScheduler.layer(settings).pipe(
  Layer.provideMerge(RequestBudget.layer(6000)),
  Layer.provideMerge(RunGate.layer(undefined))
)

interface Poll {
  readonly job: string
  readonly atMs: number
}

/**
 * A job that ends `endMs` after its submission (now), watched by the
 * scheduler until COMPLETED; each poll is logged, and the end teaches the
 * learner what a completed job measured, as the job's result fetch would.
 */
const watchJob = (polls: Array<Poll>, job: string, endMs: number) =>
  Effect.gen(function*() {
    const scheduler = yield* PollScheduler
    const times = yield* GenerationTimes
    const submittedAtMs = yield* Clock.currentTimeMillis
    const ask = Effect.gen(function*() {
      const atMs = yield* Clock.currentTimeMillis
      polls.push({ job, atMs })
      const status = atMs - submittedAtMs >= endMs ? "COMPLETED" as const : "PROCESSING" as const
      return { failedTries: 0, value: { status, metrics: {} } }
    })
    return yield* scheduler.watch({
      params,
      submittedAtMs,
      rateLimitedFor: Duration.seconds(1),
      ask: (inSlot, via) => (via === "status" ? inSlot(ask) : Effect.die("no probe: the status URL is polled")),
      deadlineAtMs: submittedAtMs + Duration.toMillis(settings.deadline),
      late: () => "late" as const
    }).pipe(
      Stream.runLast,
      Effect.tap(() => times.record(params, endMs)),
      Effect.fork
    )
  })

/** The test clock moved on in small steps, so every timer in between fires in order. */
const advance = (duration: Duration.Duration) =>
  Effect.forEach(
    Array.from({ length: Math.ceil(Duration.toMillis(duration) / 250) }),
    () => TestClock.adjust(Duration.millis(250)),
    { discard: true }
  )

const pollsOf = (polls: ReadonlyArray<Poll>, job: string) => polls.filter((poll) => poll.job === job)

describe("one poll scheduler for the run", () => {
  it.scoped("cold start: with no job measured yet, only the oldest job is polled", () =>
    Effect.gen(function*() {
      const polls: Array<Poll> = []
      const oldest = yield* watchJob(polls, "oldest", 200_000)
      yield* advance(Duration.seconds(1))
      yield* watchJob(polls, "second", 60_000)
      yield* advance(Duration.seconds(1))
      yield* watchJob(polls, "third", 60_000)
      yield* advance(Duration.seconds(150))
      expect(pollsOf(polls, "oldest").length).toBeGreaterThan(0)
      expect(polls.every((poll) => poll.job === "oldest")).toBe(true)
      // Its end is the first sample: the others are polled from then on, and all end.
      yield* advance(Duration.seconds(60))
      expect(Option.isSome(yield* Fiber.poll(oldest))).toBe(true)
      expect(pollsOf(polls, "second").length).toBeGreaterThan(0)
      expect(pollsOf(polls, "third").length).toBeGreaterThan(0)
    }).pipe(Effect.provide(schedulerLayer)))

  it.scoped("once a job is measured, the job most likely done is polled first", () =>
    Effect.gen(function*() {
      const polls: Array<Poll> = []
      yield* Effect.flatMap(GenerationTimes, (times) => times.record(params, 50_000))
      yield* watchJob(polls, "early", 50_000)
      yield* advance(Duration.seconds(20))
      yield* watchJob(polls, "late", 50_000)
      yield* advance(Duration.seconds(80))
      const firstOfEarly = pollsOf(polls, "early")[0]!
      const firstOfLate = pollsOf(polls, "late")[0]!
      expect(polls[0]!.job).toBe("early")
      expect(firstOfEarly.atMs).toBeLessThan(firstOfLate.atMs)
      // One sample re-centres the 100 s prior on 50 s: the early job is seen done well before 100 s.
      expect(pollsOf(polls, "early").at(-1)!.atMs).toBeLessThan(75_000)
    }).pipe(Effect.provide(schedulerLayer)))

  it.scoped("no job starves: past its window a job is polled at least once per cap, however long it runs", () =>
    Effect.gen(function*() {
      const polls: Array<Poll> = []
      yield* Effect.flatMap(GenerationTimes, (times) => times.record(params, 50_000))
      yield* watchJob(polls, "slow", 300_000)
      for (const job of ["a", "b", "c", "d"]) yield* watchJob(polls, job, 50_000)
      yield* advance(Duration.seconds(320))
      const slow = pollsOf(polls, "slow").map((poll) => poll.atMs)
      expect(slow.at(-1)).toBeGreaterThanOrEqual(300_000)
      const gaps = slow.slice(1).map((at, i) => at - slow[i]!)
      expect(Math.max(...gaps)).toBeLessThanOrEqual(Duration.toMillis(settings.cap) + 500)
      for (const job of ["a", "b", "c", "d"]) expect(pollsOf(polls, job).length).toBeGreaterThan(0)
    }).pipe(Effect.provide(schedulerLayer)))

  it.scoped("a 429 that holds every call past the jobs' deadlines ends them at once, even while a slot is awaited", () =>
    Effect.gen(function*() {
      const polls: Array<Poll> = []
      const jobs = [yield* watchJob(polls, "a", 200_000), yield* watchJob(polls, "b", 200_000)]
      // The budget is closed first: the scheduler's next poll waits for a slot that will not come.
      yield* Effect.flatMap(RequestBudget, (budget) => budget.pause(Duration.days(1)))
      yield* advance(Duration.seconds(20))
      expect(polls).toEqual([])
      const nowMs = yield* Clock.currentTimeMillis
      yield* Effect.flatMap(RunGate, (gate) => gate.rateLimitedUntil(nowMs + Duration.toMillis(Duration.days(1))))
      yield* advance(Duration.seconds(2))
      for (const job of jobs) {
        const exit = yield* Fiber.poll(job)
        expect(Option.isSome(exit) && exit.value._tag === "Failure" && Cause.failureOption(exit.value.cause)).toEqual(
          Option.some("late")
        )
      }
      expect(polls).toEqual([])
    }).pipe(Effect.provide(schedulerLayer)))

  it.effect("censoring: jobs running past the early finishers' mean move the estimate up", () =>
    Effect.gen(function*() {
      const times = yield* GenerationTimes
      for (const tookMs of [40_000, 45_000, 50_000]) yield* times.record(params, tookMs)
      const measuredOnly = yield* times.estimate(params)
      const withRunning = yield* times.fitted(params, Array.from({ length: 10 }, () => 80_000))
      expect(measuredOnly.meanMs).toBeCloseTo(45_000, -2)
      // Ten jobs still running at 80 s: the run's jobs take longer than the three early ones said.
      expect(withRunning.meanMs).toBeGreaterThan(70_000)
      // Jobs running for less than the early ones took say almost nothing.
      const shortRunning = yield* times.fitted(params, Array.from({ length: 10 }, () => 5_000))
      expect(Math.abs(shortRunning.meanMs - 45_000)).toBeLessThan(3_000)
    }).pipe(Effect.provide(GenerationTimes.layer(settings))))

  it.scoped("the budget's spare share falls as calls take its slots, and comes back a window later", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(10)
      expect(yield* budget.spare).toBe(1)
      for (let i = 0; i < 4; i++) yield* budget.takeSlot("submit")
      expect(yield* budget.spare).toBeCloseTo(0.6, 5)
      yield* TestClock.adjust(Duration.seconds(62))
      expect(yield* budget.spare).toBe(1)
    }))

  it("the censored fit is maximum likelihood: without running jobs it is the sample's mean and spread", () => {
    const fit = fitCensored([90_000, 100_000, 110_000], [], { meanMs: 1, sdMs: 1 }, 0)
    expect(fit.meanMs).toBeCloseTo(100_000, 3)
    expect(fit.sdMs).toBeCloseTo(Math.sqrt(200_000_000 / 3), 0)
  })

  it("a job is due when the chance it ended since last seen reaches the threshold; a spare budget lowers it", () => {
    const job = {
      id: 0,
      submittedAtMs: 0,
      seenRunningForMs: 0,
      lastPolledAtMs: 0,
      estimate: { meanMs: 100_000, sdMs: 10_000 }
    }
    expect(pollThreshold(1)).toBeLessThan(pollThreshold(0))
    const tight = pollDueAtMs(job, pollThreshold(0), settings)
    const spare = pollDueAtMs(job, pollThreshold(1), settings)
    expect(spare).toBeLessThan(tight)
    expect(doneSinceSeen(job, tight)).toBeCloseTo(pollThreshold(0), 2)
    // Seen running at 100 s: half the jobs were done by then, so the next poll waits for the rest to be likely done.
    const seenAtMean = { ...job, seenRunningForMs: 100_000, lastPolledAtMs: 100_000 }
    expect(doneSinceSeen(seenAtMean, 100_000)).toBe(0)
    expect(pollDueAtMs(seenAtMean, 0.5, settings)).toBeGreaterThan(100_000)
  })

  it("the scout of a run that has measured nothing is polled within the cap, however long its prior says jobs take", () => {
    // A prior of 100 s for jobs that take 5: without the cap the first look would come at about 90 s.
    const scout = {
      id: 0,
      submittedAtMs: 0,
      seenRunningForMs: 0,
      lastPolledAtMs: 0,
      estimate: { meanMs: 100_000, sdMs: 10_000 },
      scouting: true
    }
    expect(pollDueAtMs(scout, pollThreshold(0), settings)).toBe(Duration.toMillis(settings.cap))
    const seen = { ...scout, seenRunningForMs: 15_000, lastPolledAtMs: 15_000 }
    expect(pollDueAtMs(seen, pollThreshold(0), settings)).toBe(15_000 + Duration.toMillis(settings.cap))
    expect(pollDueAtMs({ ...scout, scouting: false }, pollThreshold(0), settings)).toBeGreaterThan(80_000)
  })
})
