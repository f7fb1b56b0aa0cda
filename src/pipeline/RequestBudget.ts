import { Clock, Context, Deferred, Duration, Effect, Layer, Option, Queue, Ref, type Scope } from "effect"
import { RateLimited } from "../segmind/SegmindErrors.js"

/**
 * What a call is for, which decides who is served first when calls wait:
 * a result fetch (a finished video waiting for its URL), then a submit or an
 * upload, then a status poll.
 */
export type CallPriority = "result" | "submit" | "upload" | "poll"

/** Waiting lines, served first to last. */
const LINE_OF: Record<CallPriority, 0 | 1 | 2> = { result: 0, submit: 1, upload: 1, poll: 2 }
const POLL_LINE = 2

/** The server's counting window and what we add to it for clock skew and rounding at the server. */
export interface BudgetWindow {
  readonly window: Duration.Duration
  readonly margin: Duration.Duration
}

/** Segmind counts calls per key per minute; a second of margin is under 2 % of the rate. */
export const SEGMIND_WINDOW: BudgetWindow = { window: Duration.minutes(1), margin: Duration.seconds(1) }

/** One caller waiting in a line for a slot. */
interface Waiter {
  readonly line: 0 | 1 | 2
  readonly granted: Deferred.Deferred<void>
}

/**
 * A slot of the window, taken by a grant or learned from a 429. A granted
 * slot is held while its call is on the wire (`freesAtMs` infinite): the
 * server counted the call somewhere between send and answer, so only a
 * window after the answer is it surely out of the server's count.
 */
interface Slot {
  readonly freesAtMs: number
  /** who took it: an interrupted waiter gives back a slot it never used, a call's answer starts its window */
  readonly holder: Waiter | undefined
  /** what a 429 taught: never free before this, whenever the answer comes */
  readonly floorMs: number
}

interface BudgetState {
  readonly slots: ReadonlyArray<Slot>
  readonly lines: readonly [ReadonlyArray<Waiter>, ReadonlyArray<Waiter>, ReadonlyArray<Waiter>]
  readonly lastPollGrantMs: number
}

export interface BudgetLimits {
  readonly callsPerWindow: number
  /** the window with its margin: a slot is held this long after its call's answer */
  readonly heldMs: number
  /** polls are paced at the budget's even rate, so a burst of them never fills the window ahead of a result */
  readonly pollGapMs: number
}

export const limitsOf = (callsPerWindow: number, window: BudgetWindow): BudgetLimits => {
  const heldMs = Duration.toMillis(window.window) + Duration.toMillis(window.margin)
  return { callsPerWindow, heldMs, pollGapMs: heldMs / callsPerWindow }
}

const emptyState: BudgetState = { slots: [], lines: [[], [], []], lastPollGrantMs: Number.NEGATIVE_INFINITY }

const withLine = (state: BudgetState, line: 0 | 1 | 2, waiters: ReadonlyArray<Waiter>): BudgetState["lines"] => {
  const lines: [ReadonlyArray<Waiter>, ReadonlyArray<Waiter>, ReadonlyArray<Waiter>] = [...state.lines]
  lines[line] = waiters
  return lines
}

/**
 * Grants every slot that can be granted at `nowMs`: results and submits take
 * free slots in their order, a poll takes one only when no one above waits
 * and its pace allows. Returns the waiters granted and when to look again
 * (undefined: when something changes).
 */
const serve = (
  state: BudgetState,
  limits: BudgetLimits,
  nowMs: number
): readonly [{ readonly granted: ReadonlyArray<Waiter>; readonly nextAtMs: number | undefined }, BudgetState] => {
  const slots = state.slots.filter((slot) => slot.freesAtMs > nowMs)
  const granted: Array<Waiter> = []
  const lines: [Array<Waiter>, Array<Waiter>, Array<Waiter>] = [
    [...state.lines[0]],
    [...state.lines[1]],
    [...state.lines[2]]
  ]
  let lastPollGrantMs = state.lastPollGrantMs
  const take = (waiter: Waiter) => {
    granted.push(waiter)
    slots.push({ freesAtMs: Number.POSITIVE_INFINITY, holder: waiter, floorMs: nowMs })
  }
  for (const line of [lines[0], lines[1]]) {
    while (line.length > 0 && slots.length < limits.callsPerWindow) take(line.shift()!)
  }
  const polls = lines[POLL_LINE]
  if (polls.length > 0 && slots.length < limits.callsPerWindow && nowMs >= lastPollGrantMs + limits.pollGapMs) {
    take(polls.shift()!)
    lastPollGrantMs = nowMs
  }
  // A full window frees at its earliest expiry (never, while every call in it is on the wire); a poll also waits for its pace.
  const slotAtMs = slots.length < limits.callsPerWindow ? nowMs : Math.min(...slots.map((slot) => slot.freesAtMs))
  const nextAtMs = lines[0].length + lines[1].length > 0
    ? slotAtMs
    : polls.length > 0
    ? Math.max(slotAtMs, lastPollGrantMs + limits.pollGapMs)
    : undefined
  return [{ granted, nextAtMs: nextAtMs === Number.POSITIVE_INFINITY ? undefined : nextAtMs }, {
    slots,
    lines,
    lastPollGrantMs
  }]
}

/** The call of `waiter` was answered (or given up): its slot is out of the server's count a window from now. */
const settle = (state: BudgetState, limits: BudgetLimits, waiter: Waiter, nowMs: number): BudgetState => ({
  ...state,
  slots: state.slots.map((slot) =>
    slot.holder === waiter ? { ...slot, freesAtMs: Math.max(nowMs + limits.heldMs, slot.floorMs) } : slot
  )
})

/**
 * What a 429 taught: the server's window is full until `untilMs` and frees one
 * slot per even gap after it, whatever our own count said. Each slot frees at
 * the later of the two views (largest with largest), so what we knew still holds.
 */
const learnFull = (state: BudgetState, limits: BudgetLimits, untilMs: number): BudgetState => {
  const ours = [...state.slots].sort((a, b) => b.freesAtMs - a.freesAtMs)
  const merged = Array.from({ length: limits.callsPerWindow }, (_, i): Slot => {
    const learnedMs = untilMs + (limits.callsPerWindow - 1 - i) * limits.pollGapMs
    const own = ours[i]
    return own === undefined
      ? { freesAtMs: learnedMs, holder: undefined, floorMs: learnedMs }
      : { holder: own.holder, freesAtMs: Math.max(own.freesAtMs, learnedMs), floorMs: Math.max(own.floorMs, learnedMs) }
  })
  return { ...state, slots: [...merged, ...ours.slice(merged.length)] }
}

/**
 * A waiter gives up before its call: out of its line if still there, else the
 * slot it was granted goes back (all but what a 429 taught of it).
 */
const withdraw = (state: BudgetState, waiter: Waiter, nowMs: number): BudgetState =>
  state.lines[waiter.line].includes(waiter)
    ? { ...state, lines: withLine(state, waiter.line, state.lines[waiter.line].filter((w) => w !== waiter)) }
    : {
      ...state,
      slots: state.slots.flatMap((slot) =>
        slot.holder !== waiter
          ? [slot]
          : slot.floorMs > nowMs
          ? [{ freesAtMs: slot.floorMs, holder: undefined, floorMs: slot.floorMs }]
          : []
      )
    }

/**
 * One budget of API calls for the whole run: submit, status, result and upload
 * all take a slot, so the run never earns its own 429s: no window of the
 * server's length ever holds more than `callsPerMinute` calls, however late
 * a call lands. Waiting calls are served by priority; a 429 closes the gate
 * for everyone.
 */
export class RequestBudget extends Context.Tag("shotlist/RequestBudget")<
  RequestBudget,
  {
    /**
     * Runs `call` in a slot of the line of `priority`, once one is free (and
     * the gate is open); the slot stays taken until a window after its answer.
     */
    readonly withSlot: (priority: CallPriority) => <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    /** waits for a slot in the line of `priority`, counted from the grant, for a call sent at once */
    readonly takeSlot: (priority: CallPriority) => Effect.Effect<void>
    /** a submit's slot: the call that is neither a result nor a poll */
    readonly take: Effect.Effect<void>
    /** a status poll's slot: only one nobody above wants, at most one per even gap */
    readonly takePoll: Effect.Effect<void>
    /** no call of any job starts before `duration` has passed, and the window refills at the even rate after it */
    readonly pause: (duration: Duration.Duration) => Effect.Effect<void>
    readonly callsPerMinute: number
  }
>() {
  /** A scheduler fiber, alive for the scope, grants the slots; callers wait on their own `Deferred`. */
  static readonly make = (
    callsPerMinute: number,
    window: BudgetWindow = SEGMIND_WINDOW
  ): Effect.Effect<RequestBudget["Type"], never, Scope.Scope> =>
    Effect.gen(function*() {
      const limits = limitsOf(callsPerMinute, window)
      const state = yield* Ref.make(emptyState)
      // Anything that may change who can be served wakes the scheduler; one pending wake is enough.
      const wake = yield* Queue.sliding<void>(1)
      const nudge = Queue.offer(wake, undefined)
      const change = (f: (s: BudgetState, nowMs: number) => BudgetState) =>
        Clock.currentTimeMillis.pipe(
          Effect.flatMap((now) => Ref.update(state, (s) => f(s, now))),
          Effect.zipRight(nudge)
        )

      const scheduler = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const { granted, nextAtMs } = yield* Ref.modify(state, (s) => serve(s, limits, now))
        yield* Effect.forEach(granted, (waiter) => Deferred.succeed(waiter.granted, undefined), { discard: true })
        yield* nextAtMs === undefined
          ? Queue.take(wake)
          : Effect.raceFirst(Effect.sleep(Duration.millis(Math.max(0, Math.ceil(nextAtMs - now)))), Queue.take(wake))
      }).pipe(Effect.forever)
      yield* Effect.forkScoped(scheduler)

      // Waiting is interruptible and gives the slot back; once the call starts, its answer (or end) starts the slot's window.
      const withSlot = (priority: CallPriority) => <A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function*() {
            const waiter: Waiter = { line: LINE_OF[priority], granted: yield* Deferred.make<void>() }
            yield* change((s) => ({ ...s, lines: withLine(s, waiter.line, [...s.lines[waiter.line], waiter]) }))
            yield* restore(Deferred.await(waiter.granted)).pipe(
              Effect.onInterrupt(() => change((s, now) => withdraw(s, waiter, now)))
            )
            return yield* restore(call).pipe(Effect.ensuring(change((s, now) => settle(s, limits, waiter, now))))
          })
        ).pipe(Effect.withSpan("RequestBudget.withSlot", { attributes: { priority } }))

      const takeSlot = (priority: CallPriority) => withSlot(priority)(Effect.void)

      const pause = Effect.fn("RequestBudget.pause")(function*(duration: Duration.Duration) {
        const untilMs = (yield* Clock.currentTimeMillis) + Duration.toMillis(duration)
        yield* change((s) => learnFull(s, limits, untilMs))
      })

      return RequestBudget.of({
        withSlot,
        takeSlot,
        take: takeSlot("submit"),
        takePoll: takeSlot("poll"),
        pause,
        callsPerMinute
      })
    })

  static readonly layer = (callsPerMinute: number, window: BudgetWindow = SEGMIND_WINDOW) =>
    Layer.scoped(RequestBudget, RequestBudget.make(callsPerMinute, window))
}

/**
 * An API call drawn from the budget in the line of `priority` (default: a
 * submit's, as every non-poll call had before lines); a 429 closes the gate
 * for every job, for its Retry-After or else `fallback`.
 */
export const withBudget =
  (budget: RequestBudget["Type"], fallback: Duration.Duration, priority: CallPriority = "submit") =>
  <A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    budget.withSlot(priority)(call).pipe(
      Effect.tapError((error) =>
        error instanceof RateLimited ? budget.pause(Option.getOrElse(error.retryAfter, () => fallback)) : Effect.void
      )
    )
