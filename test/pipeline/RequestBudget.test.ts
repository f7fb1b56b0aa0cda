import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { type CallPriority, RequestBudget, withBudget } from "../../src/pipeline/RequestBudget.js"
import { RateLimited } from "../../src/segmind/SegmindErrors.js"

interface Grant {
  readonly at: number
  readonly priority: CallPriority
  readonly label: number
}

const grantLog = Ref.make<Array<Grant>>([])

/** A caller that waits `afterMs`, takes one slot of `priority` and records when it got it. */
const caller = (
  budget: RequestBudget["Type"],
  log: Ref.Ref<Array<Grant>>,
  priority: CallPriority,
  label = 0,
  afterMs = 0
) =>
  (afterMs > 0 ? Effect.sleep(Duration.millis(afterMs)) : Effect.void).pipe(
    Effect.zipRight(budget.takeSlot(priority)),
    Effect.zipRight(Clock.currentTimeMillis),
    Effect.flatMap((at) => Ref.update(log, (grants) => [...grants, { at, priority, label }]))
  )

/** Starts `count` callers that each take one submit slot and record when they got it. */
const takeTimes = (budget: RequestBudget["Type"], count: number) =>
  Effect.gen(function*() {
    const times = yield* Ref.make<Array<number>>([])
    const fiber = yield* Effect.forkAll(
      Array.from({ length: count }, () =>
        budget.take.pipe(
          Effect.zipRight(Clock.currentTimeMillis),
          Effect.flatMap((t) => Ref.update(times, (ts) => [...ts, t]))
        ))
    )
    return { times, fiber }
  })

/** The most grants any 60 s window holds, wherever it starts: windows that start at a grant are the fullest. */
const fullestMinute = (times: ReadonlyArray<number>) => {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - 60_000) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

/** A seeded generator of uniforms in [0, 1): the mixed waiters are the same on every run. */
const uniforms = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe("RequestBudget", () => {
  it.scoped("rpm calls may go at once; the next waits until the first has left the window, margin included", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(3)
      const { fiber, times } = yield* takeTimes(budget, 5)
      yield* TestClock.adjust(Duration.minutes(2))
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(times)).toEqual([0, 0, 0, 61_000, 61_000])
    }))

  it.scoped("a slot stays taken while its call is on the wire and for a full window after the answer, however late the server counted it", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(2)
      // Two calls whose answers take 10 s: the server may have counted them as late as that.
      const slow = yield* Effect.forkAll(
        Array.from({ length: 2 }, () => withBudget(budget, Duration.seconds(1))(Effect.sleep(Duration.seconds(10))))
      )
      const { fiber, times } = yield* takeTimes(budget, 1)
      yield* TestClock.adjust(Duration.minutes(2))
      yield* Fiber.join(slow)
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(times)).toEqual([10_000 + 61_000])
    }))

  it.scoped("hundreds of mixed calls over half an hour, slow answers among them: no 60 s window, at any offset, holds more than rpm calls", () =>
    Effect.gen(function*() {
      const rpm = 10
      const budget = yield* RequestBudget.make(rpm)
      const draw = uniforms(20240601)
      const priorities: ReadonlyArray<CallPriority> = ["result", "submit", "upload", "poll", "poll", "poll"]
      const plans = Array.from({ length: 300 }, () => ({
        priority: priorities[Math.floor(draw() * priorities.length)]!,
        arrivalMs: Math.floor(draw() * 20 * 60_000),
        answerMs: Math.floor(draw() * 5_000)
      })).sort((a, b) => a.arrivalMs - b.arrivalMs)
      const calls = yield* Ref.make<Array<{ readonly sentAt: number; readonly answeredAt: number }>>([])
      const call = (answerMs: number) =>
        Effect.gen(function*() {
          const sentAt = yield* Clock.currentTimeMillis
          yield* Effect.sleep(Duration.millis(answerMs))
          const answeredAt = yield* Clock.currentTimeMillis
          yield* Ref.update(calls, (all) => [...all, { sentAt, answeredAt }])
        })
      // Each caller starts when it arrives, so only those waiting are alive.
      yield* Effect.forkScoped(Effect.forEach(plans, (plan) =>
        Effect.gen(function*() {
          yield* Effect.sleep(Duration.millis(plan.arrivalMs - (yield* Clock.currentTimeMillis)))
          yield* Effect.forkScoped(budget.withSlot(plan.priority)(call(plan.answerMs)))
        })))
      for (let minute = 0; minute < 45; minute++) yield* TestClock.adjust(Duration.minutes(1))
      const done = yield* Ref.get(calls)
      expect(done).toHaveLength(300)
      expect(fullestMinute(done.map((c) => c.sentAt))).toBe(rpm)
      // The server may count a call anywhere from its send to its answer: whenever a call goes out, at most rpm calls
      // (itself included) were sent before and answered less than a window and the margin before.
      for (const { sentAt } of done) {
        const counted = done.filter((c) => c.sentAt <= sentAt && sentAt < c.answeredAt + 61_000)
        expect(counted.length).toBeLessThanOrEqual(rpm)
      }
    }))

  it.scoped("a result fetch queued behind 100 polls, with the window full, gets the very next slot", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(10)
      const log = yield* grantLog
      const polls = yield* Effect.forkAll(Array.from({ length: 100 }, (_, i) => caller(budget, log, "poll", i)))
      // Three minutes of polls alone: the window is full of them.
      yield* TestClock.adjust(Duration.minutes(3))
      const arrivedAt = yield* Clock.currentTimeMillis
      const pollsBefore = (yield* Ref.get(log)).length
      const result = yield* Effect.fork(
        withBudget(budget, Duration.seconds(1), "result")(Clock.currentTimeMillis)
      )
      yield* TestClock.adjust(Duration.seconds(30))
      const resultAt = yield* Fiber.join(result)
      const grantedAfter = (yield* Ref.get(log)).slice(pollsBefore)
      expect(grantedAfter.length).toBeGreaterThan(0)
      // Every poll granted since the result arrived came after it.
      for (const poll of grantedAfter) expect(poll.at).toBeGreaterThanOrEqual(resultAt)
      // And it took the first slot to free after it came: the oldest poll's in the window, a window and a margin after it.
      const nextFree = Math.min(
        ...(yield* Ref.get(log)).slice(0, pollsBefore).map((g) => g.at + 61_000).filter((at) => at >= arrivedAt)
      )
      expect(resultAt).toBe(nextFree)
      expect(resultAt - arrivedAt).toBeLessThanOrEqual(6_100)
      yield* Fiber.interrupt(polls)
    }))

  it.scoped("submits are served before polls that waited longer", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(6)
      const log = yield* grantLog
      yield* Effect.forEach(Array.from({ length: 6 }), () => budget.take, { discard: true }) // the window is full until 61 s
      const polls = yield* Effect.forkAll(Array.from({ length: 20 }, (_, i) => caller(budget, log, "poll", i)))
      yield* TestClock.adjust(Duration.millis(500))
      const submits = yield* Effect.forkAll(Array.from({ length: 10 }, (_, i) => caller(budget, log, "submit", i)))
      yield* TestClock.adjust(Duration.minutes(3))
      yield* Fiber.join(submits)
      const grants = yield* Ref.get(log)
      // The six slots of 61 s and four of those of 122 s go to the submits; the polls that waited longer get the rest.
      expect(grants.filter((g) => g.priority === "submit").map((g) => g.at)).toEqual([
        ...Array.from({ length: 6 }, () => 61_000),
        ...Array.from({ length: 4 }, () => 122_000)
      ])
      expect(grants.filter((g) => g.priority === "poll" && g.at <= 122_000).map((g) => g.label)).toEqual([0, 1])
      yield* Fiber.interrupt(polls)
    }))

  it.scoped("polls alone are never starved: they get the full rate, each slot the moment it frees", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(60)
      const log = yield* grantLog
      // Eight jobs that poll again as soon as they have an answer.
      const polls = yield* Effect.forkAll(
        Array.from({ length: 8 }, (_, i) => Effect.forever(caller(budget, log, "poll", i)))
      )
      for (let minute = 0; minute < 5; minute++) yield* TestClock.adjust(Duration.minutes(1))
      const times = (yield* Ref.get(log)).map((g) => g.at)
      // A window's 60 at 0, 61, 122, 183 and 244 s: no slot waits for a pace, none goes past the rate.
      expect(times).toHaveLength(300)
      expect(fullestMinute(times)).toBe(60)
      expect(new Set(times)).toEqual(new Set([0, 61_000, 122_000, 183_000, 244_000]))
      yield* Fiber.interrupt(polls)
    }))

  it.scoped("polls on the wire leave a slot for each result they may beget", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(10)
      const log = yield* grantLog
      // Twenty polls whose answers take 5 s: each may say COMPLETED, and its result then needs a slot at once.
      const polls = yield* Effect.forkAll(Array.from({ length: 20 }, (_, i) =>
        budget.withSlot("poll")(
          Clock.currentTimeMillis.pipe(
            Effect.flatMap((at) =>
              Ref.update(log, (grants) => [...grants, { at, priority: "poll" as const, label: i }])
            ),
            Effect.zipRight(Effect.sleep(Duration.seconds(5)))
          )
        )))
      yield* TestClock.adjust(Duration.seconds(1))
      // Five polls on the wire, five slots kept for their results.
      expect((yield* Ref.get(log)).map((g) => g.at)).toEqual([0, 0, 0, 0, 0])
      const results = yield* Effect.forkAll(Array.from({ length: 5 }, (_, i) => caller(budget, log, "result", 100 + i)))
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(results)
      expect((yield* Ref.get(log)).filter((g) => g.priority === "result").map((g) => g.at)).toEqual(
        Array.from({ length: 5 }, () => 1_000)
      )
      yield* TestClock.adjust(Duration.minutes(5))
      yield* Fiber.join(polls)
      expect(fullestMinute((yield* Ref.get(log)).map((g) => g.at))).toBe(10)
    }))

  it.scoped("a poll that found its job COMPLETED keeps a slot for the result, from polls and submits alike, until the result is asked", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(3)
      const log = yield* grantLog
      yield* budget.take // one slot taken: two left, one of them owed
      yield* budget.reserveResult
      const others = yield* Effect.forkAll([
        caller(budget, log, "submit", 1),
        caller(budget, log, "submit", 2),
        caller(budget, log, "poll", 3)
      ])
      yield* TestClock.adjust(Duration.millis(50))
      // One submit took the free slot; the owed one waits for its result.
      expect((yield* Ref.get(log)).map((g) => [g.label, g.at])).toEqual([[1, 0]])
      yield* caller(budget, log, "result", 4)
      yield* TestClock.adjust(Duration.minutes(2))
      yield* Fiber.join(others)
      expect((yield* Ref.get(log)).map((g) => [g.label, g.at])).toEqual([[1, 0], [4, 50], [2, 61_000], [3, 61_000]])
    }))

  it.scoped("a budget that made a call wait within the last window has nothing spare, though a window's slots free at once", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(4)
      const { fiber } = yield* takeTimes(budget, 6) // two wait for the slots of 61 s
      yield* TestClock.adjust(Duration.seconds(61))
      yield* Fiber.join(fiber)
      expect(yield* budget.spare).toBe(0) // two of four slots free, but the budget binds
      yield* TestClock.adjust(Duration.seconds(60))
      expect(yield* budget.spare).toBe(0) // still within a window of the last wait
      yield* TestClock.adjust(Duration.seconds(2))
      expect(yield* budget.spare).toBe(1)
    }))

  it.scoped("a slot owed to a result that never comes goes back after a twelfth of the window", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(1)
      const log = yield* grantLog
      yield* budget.reserveResult
      const poll = yield* Effect.fork(caller(budget, log, "poll"))
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Fiber.join(poll)
      // 61 s / 12, on the next whole millisecond.
      expect((yield* Ref.get(log)).map((g) => g.at)).toEqual([5_084])
    }))

  it.scoped("with 500 jobs polling, the run stays under its rate and submissions still get their slots", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(60)
      const log = yield* grantLog
      const pollers = yield* Effect.forkAll(Array.from({ length: 500 }, () => caller(budget, log, "poll")))
      yield* TestClock.adjust(Duration.seconds(1))
      const submits = yield* Effect.forkAll(Array.from({ length: 10 }, () => caller(budget, log, "submit")))
      for (let minute = 0; minute < 20; minute++) yield* TestClock.adjust(Duration.minutes(1))
      yield* Fiber.join(pollers)
      yield* Fiber.join(submits)
      const entries = yield* Ref.get(log)
      expect(entries).toHaveLength(510)
      expect(fullestMinute(entries.map((e) => e.at))).toBeLessThanOrEqual(60)
      // The polls filled the first window before the submits came; the 10 submits, queued behind 440 polls, all
      // went out with the first slots to free, and polls took only the rest of them.
      const submitTimes = entries.filter((e) => e.priority === "submit").map((e) => e.at)
      expect(submitTimes).toEqual(Array.from({ length: 10 }, () => 61_000))
      expect(entries.filter((e) => e.at === 61_000 && e.priority === "poll")).toHaveLength(50)
    }))

  it.scoped("callers interrupted while they wait give back nothing they did not use: every slot still goes out", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(6)
      const log = yield* grantLog
      yield* Effect.forEach(Array.from({ length: 6 }), () => budget.take, { discard: true }) // the window is full until 61 s
      const leaving = yield* Effect.forEach(
        Array.from({ length: 7 }, (_, i) => caller(budget, log, i % 2 === 0 ? "result" : "poll", i)),
        Effect.fork
      )
      const staying = yield* Effect.forkAll(Array.from({ length: 3 }, (_, i) => caller(budget, log, "submit", 100 + i)))
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Effect.forEach(leaving, Fiber.interrupt, { discard: true })
      const later = yield* Effect.forkAll(Array.from({ length: 3 }, (_, i) => caller(budget, log, "poll", 200 + i)))
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(staying)
      yield* Fiber.join(later)
      const grants = yield* Ref.get(log)
      // No slot was held by the interrupted: the six slots that free at 61 s go to the three submits and the three polls.
      expect(grants.filter((g) => g.label >= 100 && g.label < 200).map((g) => g.at)).toEqual([61_000, 61_000, 61_000])
      expect(grants.filter((g) => g.label >= 200).map((g) => g.at)).toEqual([61_000, 61_000, 61_000])
      expect(grants.filter((g) => g.label < 100)).toEqual([])
    }))

  it.scoped("a 429 with Retry-After holds back every caller, not only the one that saw it", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(600)
      const rateLimited = new RateLimited({
        retryAfter: Option.some(Duration.seconds(2)),
        detail: "Rate limit exceeded"
      })
      // One call answers 429: the gate closes for two seconds.
      yield* Effect.either(withBudget(budget, Duration.seconds(1))(Effect.fail(rateLimited)))
      const log = yield* grantLog
      const fiber = yield* Effect.forkAll(
        (["result", "submit", "upload", "poll"] as const).map((priority) => caller(budget, log, priority))
      )
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(fiber)
      const seen = yield* Ref.get(log)
      expect(seen).toHaveLength(4)
      expect(Math.min(...seen.map((g) => g.at))).toBeGreaterThanOrEqual(2000)
    }))

  it.scoped("a caller already waiting for its slot when the gate closes waits for the gate too", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(6)
      yield* Effect.forEach(Array.from({ length: 6 }), () => budget.take, { discard: true }) // full until 61 s
      const { fiber, times } = yield* takeTimes(budget, 1)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* budget.pause(Duration.seconds(80)) // closed until 85 s
      yield* TestClock.adjust(Duration.minutes(3))
      yield* Fiber.join(fiber)
      expect((yield* Ref.get(times))[0]).toBe(85_000)
    }))

  it.scoped("after a 429 the server's window is taken as full: slots come back one per even gap, not in a burst", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.make(6)
      yield* budget.pause(Duration.seconds(10))
      const { fiber, times } = yield* takeTimes(budget, 4)
      yield* TestClock.adjust(Duration.minutes(2))
      yield* Fiber.join(fiber)
      // 61 s / 6 apart, on whole milliseconds.
      expect(yield* Ref.get(times)).toEqual([10_000, 20_167, 30_334, 40_500])
    }))
})
