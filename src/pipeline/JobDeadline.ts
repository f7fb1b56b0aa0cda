import { Clock, Duration, Effect, Option, Ref } from "effect"
import { RateLimited } from "../segmind/SegmindErrors.js"
import type { PollSettings } from "./PollSchedule.js"
import { type CallPriority, type RequestBudget, withBudget } from "./RequestBudget.js"
import { RunGate } from "./RunGate.js"

/** When a job in flight must have ended. */
export interface JobDeadline {
  readonly atMs: number
  /** the run's deadline (`--deadline`) comes before the job's own */
  readonly byRun: boolean
  /** how long the job was given from the start of its wait */
  readonly after: Duration.Duration
}

/**
 * A job's deadline as this run waits for it from `fromMs` (its submission, or
 * when a resume took it up): its own (`--job-deadline`), or the run's when
 * that comes first.
 */
export const jobDeadlineFrom = (
  poll: PollSettings,
  runDeadlineAtMs: number | undefined,
  fromMs: number
): JobDeadline => {
  const ownAtMs = fromMs + Duration.toMillis(poll.deadline)
  if (runDeadlineAtMs === undefined || runDeadlineAtMs >= ownAtMs) {
    return { atMs: ownAtMs, byRun: false, after: poll.deadline }
  }
  return { atMs: runDeadlineAtMs, byRun: true, after: Duration.millis(Math.max(0, runDeadlineAtMs - fromMs)) }
}

/** A wait told in whole seconds: "1d", not "23h 59m 59s 990ms". */
const waitOf = (ms: number) => Duration.seconds(Math.ceil(Math.max(0, ms) / 1000))

/** `late` when a 429 told the run to hold every call past `atMs`: a call before then could only wait. */
export const heldPastDeadline = <L>(
  atMs: number,
  late: (rateLimitedFor: Duration.Duration) => L
): Effect.Effect<Option.Option<L>, never, RunGate> =>
  Effect.gen(function*() {
    const resumeAtMs = yield* Effect.flatMap(RunGate, (gate) => gate.callsResumeAtMs)
    if (resumeAtMs <= atMs) return Option.none()
    return Option.some(late(waitOf(resumeAtMs - (yield* Clock.currentTimeMillis))))
  })

/**
 * `call`, sent no later than `atMs`: it fails with `late` when its slot comes
 * later, and once sent it runs to its answer. Whichever happens first, sending
 * or giving up, rules the other out, so a call is never both sent and given up.
 */
const sentBy = <L>(
  atMs: number,
  late: () => L,
  slotted: <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
) =>
<A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E | L, R> =>
  Effect.gen(function*() {
    const state = yield* Ref.make<"waiting" | "sent" | "late">("waiting")
    const claim = (next: "sent" | "late") =>
      Ref.modify(state, (now) => (now === "waiting" ? [true, next] as const : [false, now] as const))
    const send = Effect.flatMap(
      claim("sent"),
      (sent): Effect.Effect<A, E | L, R> => (sent ? call : Effect.fail(late()))
    )
    const giveUp = Effect.flatMap(claim("late"), (gaveUp) => (gaveUp ? Effect.fail(late()) : Effect.never))
    const leftMs = atMs - (yield* Clock.currentTimeMillis)
    return yield* Effect.raceFirst(slotted(send), Effect.delay(giveUp, Duration.millis(Math.max(0, leftMs))))
  })

/**
 * `withBudget`, within a deadline (`atMs`; none when undefined). A call whose
 * slot would come later fails with `late` instead of waiting: at once when a
 * 429 already told the run to wait past it (`late` gets that wait), else when
 * the deadline comes. A 429 asking to wait past it fails the same way. Each
 * 429's wait is told to the run's gate, so every job knows it.
 */
export const withBudgetBy = <L>(
  budget: RequestBudget["Type"],
  fallback: Duration.Duration,
  priority: CallPriority,
  atMs: number | undefined,
  late: (rateLimitedFor: Duration.Duration | undefined) => L
) =>
<A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E | L, R | RunGate> => {
  const budgeted = withBudget(budget, fallback, priority)
  return boundByDeadline(fallback, atMs, late)(
    atMs === undefined ? budgeted(call) : sentBy(atMs, () => late(undefined), budgeted)(call)
  )
}

/**
 * A call already in its budget slot, bounded by a deadline: not sent while the
 * API's 429 keeps every call back past it, and a 429 asking to wait past it
 * fails at once (`late`) instead of being waited out.
 */
export const boundByDeadline = <L>(
  fallback: Duration.Duration,
  atMs: number | undefined,
  late: (rateLimitedFor: Duration.Duration | undefined) => L
) =>
<A, E, R>(sent: Effect.Effect<A, E, R>): Effect.Effect<A, E | L, R | RunGate> =>
  Effect.gen(function*() {
    const gate = yield* RunGate
    const held = atMs === undefined ? Option.none() : yield* heldPastDeadline(atMs, late)
    if (Option.isSome(held)) return yield* Effect.fail(held.value)
    return yield* sent.pipe(
      Effect.catchIf(
        (error: E): error is E & RateLimited => error instanceof RateLimited,
        (error) =>
          Effect.gen(function*() {
            const waitMs = Duration.toMillis(Option.getOrElse(error.retryAfter, () => fallback))
            const untilMs = (yield* Clock.currentTimeMillis) + waitMs
            yield* gate.rateLimitedUntil(untilMs)
            return yield* Effect.fail(atMs !== undefined && untilMs > atMs ? late(waitOf(waitMs)) : error)
          })
      )
    )
  })
