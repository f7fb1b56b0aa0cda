import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { SEEDANCE_DEFAULTS, type SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { fitCensored, GenerationTimes } from "../../src/pipeline/GenerationTimes.js"
import { DEFAULT_POLL, type PollSettings } from "../../src/pipeline/PollSchedule.js"
import {
  affordableGapMs,
  doneSinceSeen,
  inPlay,
  latencyGapMs,
  pickJob,
  type PollCandidate,
  pollDueAtMs,
  PollScheduler,
  pollThreshold,
  spareCallsPerMs,
  windowOpensAtMs
} from "../../src/pipeline/PollScheduler.js"
import { RequestBudget } from "../../src/pipeline/RequestBudget.js"
import { RunGate } from "../../src/pipeline/RunGate.js"

const settings: PollSettings = {
  ...DEFAULT_POLL,
  prior: () => Duration.seconds(100),
  latencyGap: Duration.seconds(3),
  pollVia: "status"
}
const params: SeedanceParams = { prompt: "p", seed: 1, ...SEEDANCE_DEFAULTS }

/** The scheduler under a budget that does not bind, with its own learner. */
const schedulerLayer = PollScheduler.layer(settings).pipe(
  Layer.provideMerge(RequestBudget.layer(6000)),
  Layer.provideMerge(RunGate.layer(undefined))
)

/** Under Free's 5 calls a minute: three quarters of them afford one poll of one job every 16 s, past the cap, so the budget binds. */
const bindingLayer = PollScheduler.layer(settings).pipe(
  Layer.provideMerge(RequestBudget.layer(5)),
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
  it.scoped("cold start where the budget binds: with no job measured yet, only the oldest job is polled", () =>
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
      // Its end is the first sample: the others are polled from then on (5 calls a minute), and all end.
      yield* advance(Duration.seconds(120))
      expect(Option.isSome(yield* Fiber.poll(oldest))).toBe(true)
      expect(pollsOf(polls, "second").length).toBeGreaterThan(0)
      expect(pollsOf(polls, "third").length).toBeGreaterThan(0)
    }).pipe(Effect.provide(bindingLayer)))

  it.scoped("cold start with room: every job scouts from its submission, so the first end is seen within a gap and a slow oldest job holds no one up", () =>
    Effect.gen(function*() {
      const polls: Array<Poll> = []
      const oldest = yield* watchJob(polls, "oldest", 200_000)
      yield* advance(Duration.seconds(1))
      const second = yield* watchJob(polls, "second", 60_000)
      yield* advance(Duration.seconds(1))
      yield* watchJob(polls, "third", 60_000)
      yield* advance(Duration.seconds(70))
      // Each is polled every latency gap from its submission, though the prior says 100 s: seen within a gap of its end at 61 s.
      expect(Option.isSome(yield* Fiber.poll(second))).toBe(true)
      expect(pollsOf(polls, "second")[0]!.atMs).toBeLessThanOrEqual(1_000 + 3_250)
      expect(pollsOf(polls, "second").at(-1)!.atMs).toBeLessThanOrEqual(61_000 + 3_250)
      expect(pollsOf(polls, "third").at(-1)!.atMs).toBeLessThanOrEqual(62_000 + 3_250)
      expect(pollsOf(polls, "oldest")[0]!.atMs).toBeLessThanOrEqual(3_250)
      expect(Option.isNone(yield* Fiber.poll(oldest))).toBe(true)
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

/** A job of ~100 s (sd 15 s) submitted at 0, not polled yet. */
const hundredSeconds: PollCandidate = {
  id: 0,
  submittedAtMs: 0,
  seenRunningForMs: 0,
  lastPolledAtMs: 0,
  estimate: { meanMs: 100_000, sdMs: 15_000 }
}

/** Polls of a job that ends at `endMs`, each sent when `pollDueAtMs` says, with the budget's room fixed; and when its end is seen. */
const pollsUntilSeen = (job: PollCandidate, endMs: number, affordableMs: number | undefined) => {
  let seen = job
  const sentAt: Array<number> = []
  for (;;) {
    const atMs = pollDueAtMs(seen, pollThreshold(1), settings, affordableMs)
    sentAt.push(atMs)
    if (atMs >= endMs) return { sentAt, latencyMs: atMs - endMs }
    seen = { ...seen, seenRunningForMs: atMs - seen.submittedAtMs, lastPolledAtMs: atMs }
  }
}

describe("with spare budget, polls buy latency; with a tight one, they go to the jobs most likely done", () => {
  it("the latency gap is the setting's (3 s here), or three quarters of the measured spread where that is narrower, so short jobs end as a 1 s poller's do", () => {
    expect(latencyGapMs(hundredSeconds, settings)).toBe(3_000)
    const tenSeconds = { ...hundredSeconds, estimate: { meanMs: 10_000, sdMs: 2_000 } }
    expect(latencyGapMs(tenSeconds, settings)).toBe(1_500)
    // A scout's spread is the prior's guess: it keeps the full gap.
    expect(latencyGapMs({ ...tenSeconds, scouting: true }, settings)).toBe(3_000)
  })

  it("until a job is measured, every job scouts with room in the budget; where it binds, the oldest watched alone", () => {
    const scouts = [0, 1, 2].map((id) => ({ ...hundredSeconds, id, submittedAtMs: id * 1_000, scouting: true }))
    expect(inPlay(scouts, { threshold: pollThreshold(1), affordableMs: 1_000 }, 0)).toEqual(scouts)
    expect(inPlay(scouts, { threshold: pollThreshold(0), affordableMs: undefined }, 0)).toEqual([scouts[0]])
    // The oldest is being asked: nobody else is polled meanwhile.
    expect(inPlay(scouts.slice(1), { threshold: pollThreshold(0), affordableMs: undefined }, 0)).toEqual([])
    // Once a job is measured nobody scouts: every job, whatever the budget.
    const measured = scouts.map(({ scouting: _, ...job }) => job)
    expect(inPlay(measured, { threshold: pollThreshold(0), affordableMs: undefined }, 0)).toEqual(measured)
  })

  it("the gap the budget affords is the jobs in their window over the spare call rate; past the cap, the budget binds", () => {
    // 600 calls a minute, all spare: 10 a second; 16 jobs in their window can each be polled every 1.6 s.
    const perMs = spareCallsPerMs(1, 600, 0, settings)
    expect(perMs).toBeCloseTo(0.75 * 600 / 60_000, 10)
    expect(affordableGapMs(16, 10 / 1000, settings)).toBeCloseTo(1_600, 6)
    // Pro's 50 a minute, a tenth spare, 30 jobs in their window: one poll each per 7 min. The budget binds.
    expect(affordableGapMs(30, spareCallsPerMs(0.1, 50, 0, settings), settings)).toBeUndefined()
    // The slots the scheduler's own polls hold are its to spend again: polling at a pace does not read as a full budget.
    expect(spareCallsPerMs(0.5, 600, 300, settings)).toBeCloseTo(spareCallsPerMs(1, 600, 0, settings), 10)
  })

  it("with room, a job is polled from where its window opens, every latency gap, in the window and past it", () => {
    expect(windowOpensAtMs(hundredSeconds)).toBe(70_000)
    expect(pollDueAtMs(hundredSeconds, pollThreshold(1), settings, 1_000)).toBe(70_000)
    const seenAt85 = { ...hundredSeconds, seenRunningForMs: 85_000, lastPolledAtMs: 85_000 }
    expect(pollDueAtMs(seenAt85, pollThreshold(1), settings, 1_000)).toBe(88_000)
    const seenLate = { ...hundredSeconds, seenRunningForMs: 160_000, lastPolledAtMs: 160_000 }
    // Past the window the gap is the most it waits; the chance a job so late has just ended may bring a poll sooner.
    expect(pollDueAtMs(seenLate, pollThreshold(1), settings, 1_000)).toBeLessThanOrEqual(163_000)
    expect(pollDueAtMs(seenLate, pollThreshold(1), settings, 1_000)).toBeGreaterThanOrEqual(160_250)
    // The budget affords only 5 s: that is the gap, within the cap.
    expect(pollDueAtMs(seenAt85, pollThreshold(1), settings, 5_000)).toBe(90_000)
    // No room: the chance threshold alone, as it was: ~10 s later in the middle of the window.
    expect(pollDueAtMs(seenAt85, pollThreshold(1), settings, undefined)).toBeGreaterThan(94_000)
    expect(pollDueAtMs(seenAt85, pollThreshold(1), settings)).toBe(
      pollDueAtMs(seenAt85, pollThreshold(1), settings, undefined)
    )
  })

  it("with room, a ~100 s job is seen within 3 s of its end, for a quarter of a 1 s poller's calls", () => {
    for (const endMs of [68_000, 75_000, 90_000, 100_000, 112_000, 125_000, 140_000]) {
      const { latencyMs, sentAt } = pollsUntilSeen(hundredSeconds, endMs, 1_000)
      expect(latencyMs).toBeLessThanOrEqual(3_000)
      expect(sentAt.length).toBeLessThanOrEqual(Math.ceil(endMs / 1000 / 4))
    }
    // The chance threshold alone spaces polls ~10 s apart in the middle of the window.
    const { latencyMs } = pollsUntilSeen(hundredSeconds, 100_500, undefined)
    expect(latencyMs).toBeGreaterThan(3_000)
  })

  it("with room, the scout is polled every latency gap from its submission: a prior far too long costs no wait", () => {
    const scout = { ...hundredSeconds, estimate: { meanMs: 100_000, sdMs: 25_000 }, scouting: true }
    expect(windowOpensAtMs(scout)).toBe(0)
    expect(pollDueAtMs(scout, pollThreshold(1), settings, 1_000)).toBe(3_000)
    expect(pollsUntilSeen(scout, 10_000, 1_000).latencyMs).toBeLessThanOrEqual(3_000)
    // Without room, every cap, as before.
    expect(pollDueAtMs(scout, pollThreshold(0), settings, undefined)).toBe(Duration.toMillis(settings.cap))
  })

  it("with room, a granted slot goes to a job due by its gap before one polled a moment ago that is likelier done", () => {
    // Deep in its tail and polled 1 s ago: likelier done than a job at the start of its window polled 3 s ago.
    const tail = { ...hundredSeconds, id: 1, seenRunningForMs: 129_000, lastPolledAtMs: 129_000 }
    const early = { ...hundredSeconds, id: 2, submittedAtMs: 57_000, seenRunningForMs: 70_000, lastPolledAtMs: 127_000 }
    expect(doneSinceSeen(tail, 130_000)).toBeGreaterThan(doneSinceSeen(early, 130_000))
    expect(pickJob([tail, early], 130_000, settings, { threshold: pollThreshold(1), affordableMs: 1_000 })?.id).toBe(2)
    // A budget that binds: the likeliest, as before.
    expect(pickJob([tail, early], 130_000, settings, { threshold: pollThreshold(0), affordableMs: undefined })?.id)
      .toBe(1)
  })

  it.scoped("a run with room polls a ~100 s job about every 3 s from its window on, and sees its end within 3 s", () =>
    Effect.gen(function*() {
      const polls: Array<Poll> = []
      const times = yield* GenerationTimes
      for (const tookMs of [85_000, 100_000, 115_000]) yield* times.record(params, tookMs)
      yield* watchJob(polls, "job", 104_000)
      yield* advance(Duration.seconds(120))
      const at = pollsOf(polls, "job").map((poll) => poll.atMs)
      expect(at.at(-1)! - 104_000).toBeLessThanOrEqual(3_250)
      expect(at[0]!).toBeGreaterThan(60_000)
      const gaps = at.slice(1).map((t, i) => t - at[i]!)
      expect(Math.max(...gaps)).toBeLessThanOrEqual(3_250)
      expect(at.length).toBeLessThanOrEqual(16)
    }).pipe(Effect.provide(schedulerLayer)))
})
