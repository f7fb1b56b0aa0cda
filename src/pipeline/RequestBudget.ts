import {
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  HashMap,
  Layer,
  Option,
  Order,
  Queue,
  RedBlackTree,
  Ref,
  type Scope,
  SortedMap
} from "effect"
import { RateLimited } from "../segmind/SegmindErrors.js"

/**
 * What a call is for, which decides who is served first when calls wait:
 * a result fetch (a finished video waiting for its URL), then a submit or an
 * upload, then a status poll.
 */
export type CallPriority = "result" | "submit" | "upload" | "poll"

/** Waiting lines, served first to last. */
type Line = 0 | 1 | 2
const LINE_OF: Record<CallPriority, Line> = { result: 0, submit: 1, upload: 1, poll: 2 }
const RESULT_LINE = 0
const SUBMIT_LINE = 1
const POLL_LINE = 2

/** The server's counting window and what we add to it for clock skew and rounding at the server. */
export interface BudgetWindow {
  readonly window: Duration.Duration
  readonly margin: Duration.Duration
}

/** Segmind counts calls per key per minute; a second of margin is under 2 % of the rate. */
export const SEGMIND_WINDOW: BudgetWindow = { window: Duration.minutes(1), margin: Duration.seconds(1) }

/** One caller waiting in a line for a slot; ids grow with arrival, so each line is first come, first served. */
interface Waiter {
  readonly id: number
  readonly line: Line
  readonly granted: Deferred.Deferred<void>
  /** when it came: one still there when a serve left calls waiting has waited for its slot */
  readonly sinceMs: number
}

type Lines = readonly [
  SortedMap.SortedMap<number, Waiter>,
  SortedMap.SortedMap<number, Waiter>,
  SortedMap.SortedMap<number, Waiter>
]

/** A granted call not answered yet: the time a 429 taught its slot not to free before, and whether it is a poll. */
interface OnTheWire {
  readonly floorMs: number
  readonly poll: boolean
}

/**
 * Who waits, and the slots the window holds. A granted slot stays held while
 * its call is on the wire: the server counted the call somewhere between send
 * and answer, so only a window after the answer is it surely out of the
 * server's count.
 */
interface BudgetState {
  readonly nextId: number
  readonly lines: Lines
  /** granted calls not answered yet, by waiter id */
  readonly onTheWire: HashMap.HashMap<number, OnTheWire>
  /** when each other slot of the window frees, earliest first */
  readonly freeing: RedBlackTree.RedBlackTree<number, undefined>
  /** a slot kept for each poll that found its job COMPLETED, until its result fetch is granted: when each lapses, earliest first */
  readonly owed: ReadonlyArray<number>
  /** the last time a call waited for a slot (was left waiting, or granted after it came): within a window of it, the budget binds */
  readonly waitedAtMs: number
}

interface BudgetLimits {
  readonly callsPerWindow: number
  /** the window with its margin: a slot is held this long after its call's answer */
  readonly heldMs: number
  /** the window spread evenly over its calls: how a window learned full refills */
  readonly evenGapMs: number
  /** how long a slot owed to a result waits for its fetch: the job asks within a journal write, so it lapses only if the job died */
  readonly owedMs: number
}

/** A 429 teaches at most this many slots: past it, an rpm is no server's real limit. */
const LEARNED_SLOTS_MAX = 10_000

/** An owed slot lapses after this share of the window (5 s of Segmind's minute). */
const OWED_SHARE = 1 / 12

const limitsOf = (callsPerWindow: number, window: BudgetWindow): BudgetLimits => {
  const heldMs = Duration.toMillis(window.window) + Duration.toMillis(window.margin)
  return { callsPerWindow, heldMs, evenGapMs: heldMs / callsPerWindow, owedMs: heldMs * OWED_SHARE }
}

const noSlots = RedBlackTree.empty<number, undefined>(Order.number)
const noWaiters = SortedMap.empty<number, Waiter>(Order.number)

const emptyState: BudgetState = {
  nextId: 0,
  lines: [noWaiters, noWaiters, noWaiters],
  onTheWire: HashMap.empty(),
  freeing: noSlots,
  owed: [],
  waitedAtMs: Number.NEGATIVE_INFINITY
}

const withLine = (lines: Lines, line: Line, waiters: SortedMap.SortedMap<number, Waiter>): Lines => {
  const next: [...Lines] = [...lines]
  next[line] = waiters
  return next
}

const enqueue = (
  state: BudgetState,
  line: Line,
  granted: Deferred.Deferred<void>,
  sinceMs: number
): readonly [Waiter, BudgetState] => {
  const waiter: Waiter = { id: state.nextId, line, granted, sinceMs }
  return [waiter, {
    ...state,
    nextId: state.nextId + 1,
    lines: withLine(state.lines, line, SortedMap.set(state.lines[line], waiter.id, waiter))
  }]
}

/**
 * Grants every slot that can be granted at `nowMs`, by line: a result takes
 * any free slot (and a slot owed to results with it); a submit or upload one
 * not owed to a result; a poll one that leaves, after it, a slot for each
 * result the polls on the wire may beget (as many as there are). So a window
 * holds polls and their results side by side, the way a clairvoyant fills it.
 * Returns the waiters granted and when to look again (undefined: when
 * something changes).
 */
const serve = (
  state: BudgetState,
  limits: BudgetLimits,
  nowMs: number
): readonly [{ readonly granted: ReadonlyArray<Waiter>; readonly nextAtMs: number | undefined }, BudgetState] => {
  let freeing = state.freeing
  for (let first = RedBlackTree.first(freeing); Option.isSome(first) && first.value[0] <= nowMs;) {
    freeing = RedBlackTree.removeFirst(freeing, first.value[0])
    first = RedBlackTree.first(freeing)
  }
  let owed = state.owed.filter((lapsesAtMs) => lapsesAtMs > nowMs)
  let { lines, onTheWire } = state
  let pollsOnTheWire = [...HashMap.values(onTheWire)].filter((wire) => wire.poll).length
  const granted: Array<Waiter> = []
  let waited = false
  const free = () => limits.callsPerWindow - HashMap.size(onTheWire) - RedBlackTree.size(freeing)
  const grantFrom = (line: Line): boolean =>
    Option.match(SortedMap.headOption(lines[line]), {
      onNone: () => false,
      onSome: ([id, waiter]) => {
        lines = withLine(lines, line, SortedMap.remove(lines[line], id))
        onTheWire = HashMap.set(onTheWire, id, { floorMs: nowMs, poll: line === POLL_LINE })
        granted.push(waiter)
        waited ||= waiter.sinceMs <= state.waitedAtMs
        if (line === RESULT_LINE) owed = owed.slice(1)
        if (line === POLL_LINE) pollsOnTheWire++
        return true
      }
    })
  while (free() >= 1 && grantFrom(RESULT_LINE));
  while (free() - owed.length >= 1 && grantFrom(SUBMIT_LINE));
  while (free() - owed.length - pollsOnTheWire >= 1 && grantFrom(POLL_LINE));
  // Someone still waits for a slot to free or an owed one to lapse (an answer off the wire wakes us anyway).
  const waiting = lines.some((line) => SortedMap.size(line) > 0)
  const freesAtMs = [
    ...Option.toArray(Option.map(RedBlackTree.first(freeing), ([at]) => at)),
    ...owed.slice(0, 1)
  ]
  const nextAtMs = waiting && freesAtMs.length > 0 ? Math.min(...freesAtMs) : undefined
  return [{ granted, nextAtMs }, {
    ...state,
    lines,
    onTheWire,
    freeing,
    owed,
    waitedAtMs: waiting || waited ? nowMs : state.waitedAtMs
  }]
}

/** A granted call leaves the wire: its slot frees `atMs` (or at what a 429 taught, if later). */
const leaveWire = (state: BudgetState, waiter: Waiter, atMs: (floorMs: number) => number): BudgetState =>
  Option.match(HashMap.get(state.onTheWire, waiter.id), {
    onNone: () => state,
    onSome: ({ floorMs }) => ({
      ...state,
      onTheWire: HashMap.remove(state.onTheWire, waiter.id),
      freeing: RedBlackTree.insert(state.freeing, atMs(floorMs), undefined)
    })
  })

/** A poll found its job COMPLETED: a slot is kept for the result fetch that follows, ahead of submits and polls. */
const owe = (state: BudgetState, limits: BudgetLimits, nowMs: number): BudgetState => ({
  ...state,
  owed: [...state.owed, nowMs + limits.owedMs]
})

/** The call of `waiter` was answered (or given up): its slot is out of the server's count a window from now. */
const settle = (state: BudgetState, limits: BudgetLimits, waiter: Waiter, nowMs: number): BudgetState =>
  leaveWire(state, waiter, (floorMs) => Math.max(nowMs + limits.heldMs, floorMs))

/** A waiter gives up before its call: out of its line if still there, else the slot it was granted goes back (all but what a 429 taught of it). */
const withdraw = (state: BudgetState, waiter: Waiter): BudgetState =>
  SortedMap.has(state.lines[waiter.line], waiter.id)
    ? { ...state, lines: withLine(state.lines, waiter.line, SortedMap.remove(state.lines[waiter.line], waiter.id)) }
    : leaveWire(state, waiter, (floorMs) => floorMs)

/**
 * What a 429 taught: the server's window is full until `untilMs` and frees one
 * slot per even gap after it, whatever our own count said. Each slot frees at
 * the later of the two views (largest with largest: calls on the wire first),
 * so what we knew still holds.
 */
const learnFull = (state: BudgetState, limits: BudgetLimits, untilMs: number): BudgetState => {
  const count = Math.min(limits.callsPerWindow, LEARNED_SLOTS_MAX)
  const learned = (i: number) => untilMs + (count - 1 - i) * limits.evenGapMs
  const wire = [...HashMap.entries(state.onTheWire)]
  const onTheWire = HashMap.fromIterable(
    wire.map(([id, call], i) =>
      [id, i < count ? { ...call, floorMs: Math.max(call.floorMs, learned(i)) } : call] as const
    )
  )
  const ours = [...RedBlackTree.keysReversed(state.freeing)]
  const slots = Math.max(ours.length, count - wire.length)
  const freeing = Array.from({ length: slots }, (_, j) => {
    const i = wire.length + j
    return Math.max(ours[j] ?? Number.NEGATIVE_INFINITY, i < count ? learned(i) : Number.NEGATIVE_INFINITY)
  })
  return {
    ...state,
    onTheWire,
    freeing: RedBlackTree.fromIterable(Order.number)(freeing.map((at) => [at, undefined] as const))
  }
}

/**
 * One budget of API calls for the whole run: submit, status, result and upload
 * all take a slot, so the run never earns its own 429s: no window of the
 * server's length ever holds more than `callsPerMinute` calls, however late
 * a call lands. Waiting calls are served by priority, each as soon as the
 * window has a slot for it (no pacing: a free slot left unused is lost to
 * the run); a 429 closes the gate for everyone.
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
    /** a status poll's slot: only one nobody above wants that leaves a slot for each result the polls on the wire may beget */
    readonly takePoll: Effect.Effect<void>
    /** a poll found its job COMPLETED: keep a slot for the result fetch that follows (it lapses unused after a twelfth of the window) */
    readonly reserveResult: Effect.Effect<void>
    /** no call of any job starts before `duration` has passed, and the window refills at the even rate after it */
    readonly pause: (duration: Duration.Duration) => Effect.Effect<void>
    /** the share of the window's slots free now that nobody above the polls waits for, none if a call waited within the last window: what polls may spend on latency */
    readonly spare: Effect.Effect<number>
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
            const granted = yield* Deferred.make<void>()
            const sinceMs = yield* Clock.currentTimeMillis
            const waiter = yield* Ref.modify(state, (s) => enqueue(s, LINE_OF[priority], granted, sinceMs))
            yield* nudge
            yield* restore(Deferred.await(waiter.granted)).pipe(
              Effect.onInterrupt(() => change((s) => withdraw(s, waiter)))
            )
            return yield* restore(call).pipe(Effect.ensuring(change((s, now) => settle(s, limits, waiter, now))))
          })
        ).pipe(Effect.withSpan("RequestBudget.withSlot", { attributes: { priority } }))

      const takeSlot = (priority: CallPriority) => withSlot(priority)(Effect.void)

      const pause = Effect.fn("RequestBudget.pause")(function*(duration: Duration.Duration) {
        const untilMs = (yield* Clock.currentTimeMillis) + Duration.toMillis(duration)
        yield* change((s) => learnFull(s, limits, untilMs))
      })

      // A budget that made a call wait within the last window binds: the slots its window frees at once are no spare.
      const spare = Effect.zipWith(Ref.get(state), Clock.currentTimeMillis, (s, now) => {
        if (now - s.waitedAtMs < limits.heldMs) return 0
        // The slots already free are few and come first: counting them, not copying the window, keeps a poll step cheap.
        let freed = 0
        for (const at of RedBlackTree.keys(s.freeing)) {
          if (at > now) break
          freed += 1
        }
        const freeing = RedBlackTree.size(s.freeing) - freed
        const owed = s.owed.filter((at) => at > now).length
        const waiting = SortedMap.size(s.lines[RESULT_LINE]) + SortedMap.size(s.lines[SUBMIT_LINE])
        return Math.max(0, limits.callsPerWindow - HashMap.size(s.onTheWire) - freeing - owed - waiting) /
          limits.callsPerWindow
      })

      return RequestBudget.of({
        withSlot,
        spare,
        takeSlot,
        take: takeSlot("submit"),
        takePoll: takeSlot("poll"),
        reserveResult: change((s, now) => owe(s, limits, now)),
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
