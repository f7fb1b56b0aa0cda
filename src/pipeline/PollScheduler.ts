import { Clock, Context, Deferred, Duration, Effect, Exit, Layer, Option, Queue, Ref, Stream } from "effect"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import type { CompletedResult, StatusAnswer } from "../segmind/SegmindClient.js"
import { RateLimited } from "../segmind/SegmindErrors.js"
import type { Counted } from "./CountedRetry.js"
import { classOf, GenerationTimes } from "./GenerationTimes.js"
import { heldPastDeadline } from "./JobDeadline.js"
import { normalCdf, normalQuantile } from "./NormalDistribution.js"
import { makePollRoute, type PollRoute, type PollVia } from "./PollRoute.js"
import type { GenerationEstimate, PollSettings } from "./PollSchedule.js"
import { RequestBudget, withBudget } from "./RequestBudget.js"
import { RunGate } from "./RunGate.js"

/** How a call runs in the budget: the scheduler's granted slot for its first try, the poll line for retries. */
export type InSlot = <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** A poll's answer; asked of the result URL, a COMPLETED one already carries the result. */
export interface PolledAnswer extends StatusAnswer {
  readonly result?: CompletedResult
}

/** A result URL answer that is neither "not yet", the result nor FAILED: the status URL answers that poll instead. */
export interface OffRoute {
  readonly _tag: "OffRoute"
  /** what the result URL answered, for the log and the report */
  readonly answered: string
}

const isOffRoute = (answer: PolledAnswer | OffRoute): answer is OffRoute => "_tag" in answer
/** A COMPLETED answer of the status URL: the result is still to fetch (the result URL's carries it). */
const owesResult = (answer: PolledAnswer): boolean => answer.status === "COMPLETED" && answer.result === undefined

/** A job awaiting its end, as the scheduler weighs it. */
export interface PollCandidate {
  readonly id: number
  readonly submittedAtMs: number
  /** how long after its submission the job was last seen running (0: not asked yet) */
  readonly seenRunningForMs: number
  readonly lastPolledAtMs: number
  readonly estimate: GenerationEstimate
  /** a scout of a run that has measured no job yet: its prior may be far off, so it is polled from its submission */
  readonly scouting?: boolean
}

/** Below this chance a poll is not worth a slot when the budget is full; at it when the budget is spare. */
const THRESHOLD_TIGHT = 0.8
const THRESHOLD_SPARE = 0.3

/** Past this, a normal's distribution function is 1 to our precision: the job is overdue, not unlikely. */
const SURE = 1 - 1e-9

/** A job's window of likely ends opens this many sd before its mean: under 2.3 % of jobs end sooner. */
const WINDOW_Z = 2

/** With room, polls in the window are at most this share of the spread apart: close enough that short jobs end as a 1 s poller's do, for half its calls. */
const GAP_PER_SD = 0.75

/** The share of the calls polls may use (the spare ones and those polls hold) when they buy latency: the rest stays for submits and results. */
const LATENCY_SHARE = 0.75

/** The chance a poll sent at `threshold`'s share of the budget finds: the fuller the budget, the surer the poll. */
export const pollThreshold = (spare: number): number => THRESHOLD_TIGHT - (THRESHOLD_TIGHT - THRESHOLD_SPARE) * spare

const seenCdf = (job: PollCandidate) => normalCdf((job.seenRunningForMs - job.estimate.meanMs) / job.estimate.sdMs)

/** The chance the job ended between when it was last seen running and `nowMs` (its hazard over that span). */
export const doneSinceSeen = (job: PollCandidate, nowMs: number): number => {
  const before = seenCdf(job)
  if (before >= SURE) return 1
  const by = normalCdf((nowMs - job.submittedAtMs - job.estimate.meanMs) / job.estimate.sdMs)
  return Math.max(0, (by - before) / (1 - before))
}

/** When the job's window of likely ends opens; the scout's is open from its submission, since its prior may be far off. */
export const windowOpensAtMs = (job: PollCandidate): number =>
  job.scouting === true
    ? job.submittedAtMs
    : job.submittedAtMs + job.estimate.meanMs - WINDOW_Z * job.estimate.sdMs

/**
 * The gap that meets the latency target for the job: tighter where what
 * the run measured is narrow, so short jobs end as soon as a 1 s poller's;
 * a scout's spread is only the prior's guess, so it keeps the full gap.
 */
export const latencyGapMs = (job: PollCandidate, settings: PollSettings): number =>
  job.scouting === true
    ? Duration.toMillis(settings.latencyGap)
    : Math.min(Duration.toMillis(settings.latencyGap), job.estimate.sdMs * GAP_PER_SD)

/**
 * How far apart the budget lets polls of `inWindow` jobs be, at
 * `spareCallsPerMs`: undefined when it cannot pay for one poll of each
 * per cap, where it binds and only the jobs most likely done are polled.
 */
export const affordableGapMs = (
  inWindow: number,
  spareCallsPerMs: number,
  settings: PollSettings
): number | undefined => {
  const gapMs = inWindow / spareCallsPerMs
  return gapMs <= Duration.toMillis(settings.cap) ? gapMs : undefined
}

/**
 * The calls a millisecond polls may spend on latency: their share of the
 * budget's spare slots and of those the scheduler's own polls hold (freed
 * to them a window on), so polling at a pace does not read as a budget
 * that binds.
 */
export const spareCallsPerMs = (
  spare: number,
  callsPerWindow: number,
  ownPollsInWindow: number,
  settings: PollSettings
): number => (LATENCY_SHARE * (spare * callsPerWindow + ownPollsInWindow)) / Duration.toMillis(settings.budgetWindow)

/**
 * A job past most of its window of likely ends (mean + 1 sd) is polled at least once per cap, whoever else
 * waits; so is the scout from its submission on, since a prior that is far too long must cost one early look.
 */
const capDueAtMs = (job: PollCandidate, settings: PollSettings) =>
  job.scouting === true
    ? job.lastPolledAtMs + Duration.toMillis(settings.cap)
    : Math.max(
      job.lastPolledAtMs + Duration.toMillis(settings.cap),
      job.submittedAtMs + job.estimate.meanMs + job.estimate.sdMs
    )

/**
 * With room in the budget (`affordableMs` defined): in its window and past
 * it, the job is due every latency gap, or as often as the budget affords
 * if that is wider; within floor and cap.
 */
const gapDueAtMs = (job: PollCandidate, affordableMs: number | undefined, settings: PollSettings) => {
  if (affordableMs === undefined) return Number.POSITIVE_INFINITY
  const gapMs = Math.min(
    Duration.toMillis(settings.cap),
    Math.max(Duration.toMillis(settings.floor), latencyGapMs(job, settings), affordableMs)
  )
  return Math.max(windowOpensAtMs(job), job.lastPolledAtMs + gapMs)
}

/**
 * When the job is worth a poll: when the chance it ended since last seen
 * reaches `threshold`, when the budget has room and the job has waited its
 * gap in its window (`affordableMs`: see `affordableGapMs`), or when the cap
 * says it has waited long enough; never sooner than the floor after its
 * last poll.
 */
export const pollDueAtMs = (
  job: PollCandidate,
  threshold: number,
  settings: PollSettings,
  affordableMs?: number | undefined
): number => {
  const before = seenCdf(job)
  const byChance = before >= SURE
    ? Number.NEGATIVE_INFINITY
    : job.submittedAtMs + job.estimate.meanMs +
      job.estimate.sdMs * normalQuantile(before + threshold * (1 - before))
  return Math.max(
    job.lastPolledAtMs + Duration.toMillis(settings.floor),
    Math.min(byChance, capDueAtMs(job, settings), gapDueAtMs(job, affordableMs, settings))
  )
}

/** How the scheduler paces polls now: the chance that makes a poll worth it, and the gap the budget affords (none: it binds). */
export interface PollPace {
  readonly threshold: number
  readonly affordableMs: number | undefined
}

const mostLikelyDone = (jobs: ReadonlyArray<PollCandidate>, nowMs: number) =>
  jobs.map((job) => ({ job, chance: doneSinceSeen(job, nowMs) })).reduce<
    { job: PollCandidate; chance: number } | undefined
  >(
    (best, next) =>
      best === undefined || next.chance > best.chance ||
        (next.chance === best.chance && next.job.submittedAtMs < best.job.submittedAtMs)
        ? next
        : best,
    undefined
  )?.job

/**
 * The job a granted slot goes to: one overdue by the cap first (the oldest
 * of them), else the one most likely to have ended since last seen; with
 * room in the budget, among the jobs due first, so each keeps its gap.
 */
export const pickJob = (
  jobs: ReadonlyArray<PollCandidate>,
  nowMs: number,
  settings: PollSettings,
  pace: PollPace = { threshold: THRESHOLD_TIGHT, affordableMs: undefined }
): PollCandidate | undefined => {
  const overdue = jobs.filter((job) => capDueAtMs(job, settings) <= nowMs)
  if (overdue.length > 0) return overdue.reduce((a, b) => (b.lastPolledAtMs < a.lastPolledAtMs ? b : a))
  const due = pace.affordableMs === undefined
    ? []
    : jobs.filter((job) => pollDueAtMs(job, pace.threshold, settings, pace.affordableMs) <= nowMs)
  return mostLikelyDone(due.length > 0 ? due : jobs, nowMs)
}

/**
 * The jobs a poll may go to. Until the run has measured a job, every job
 * scouts: with room in the budget each is polled from its submission, so
 * the wave's first end is seen within a gap however far off the prior is;
 * where the budget binds only the oldest, so no call goes to a guess.
 */
export const inPlay = (
  jobs: ReadonlyArray<PollCandidate>,
  pace: PollPace,
  oldestId: number | undefined
): ReadonlyArray<PollCandidate> =>
  pace.affordableMs === undefined && jobs.some((job) => job.scouting === true)
    ? jobs.filter((job) => job.id === oldestId)
    : jobs

/** What a job's turn saw: its status, an error (handed to the job), or a result URL answer that is no poll answer. */
type Seen = StatusAnswer["status"] | "error" | (OffRoute & { readonly failedTries: number })

/** A watched job: what the scheduler weighs, and its turn (the poll, its answer handed to the job). */
interface Watched {
  readonly id: number
  readonly params: SeedanceParams
  readonly submittedAtMs: number
  readonly seenRunningForMs: number
  readonly lastPolledAtMs: number
  readonly inFlight: boolean
  /** asks, hands the answer to the job (with `earlierTries` added), and says what it saw */
  readonly turn: (inSlot: InSlot, via: PollVia, earlierTries?: number) => Effect.Effect<Seen>
  readonly deadlineAtMs: number
  /** hands the job its end: a 429 holds every call past its deadline */
  readonly end: Effect.Effect<void>
  readonly rateLimitedFor: Duration.Duration
}

/** What the job gives the scheduler: when it was submitted, what drives its time, and its status call. */
export interface WatchRequest<E> {
  readonly params: SeedanceParams
  readonly submittedAtMs: number
  readonly ask: (inSlot: InSlot, via: PollVia) => Effect.Effect<Counted<PolledAnswer | OffRoute>, E>
  /** when the job must have ended, and its error when a 429 holds every call past then, for that long */
  readonly deadlineAtMs: number
  readonly late: (rateLimitedFor: Duration.Duration) => E
  /** how long a 429 without Retry-After closes the budget */
  readonly rateLimitedFor: Duration.Duration
}

/** Longest the scheduler sleeps without looking again, in floors: what jobs measure meanwhile moves the estimates. */
const IDLE_FLOORS = 4

/**
 * One poller for the run: it holds every job awaiting its end and, each time
 * the budget grants a poll slot, polls the job most likely to have just
 * ended under what the run has learned of generation times (jobs still
 * running count as censored samples). Until a first job has completed it
 * scouts: where the budget binds only the oldest job is polled; with room,
 * every job, each latency gap from its submission. With room, a job in its
 * window of likely ends is polled every latency gap; it never waits more
 * than the cap between polls once in that window.
 */
export class PollScheduler extends Context.Tag("shotlist/PollScheduler")<
  PollScheduler,
  {
    /** the job's status answers, each from a poll the scheduler chose, until COMPLETED (or an error) */
    readonly watch: <E>(request: WatchRequest<E>) => Stream.Stream<Counted<PolledAnswer>, E>
    /** which URL the run polled and why; none while nothing has been polled on the auto route */
    readonly route: Effect.Effect<PollRoute | undefined>
  }
>() {
  static readonly make = (settings: PollSettings) =>
    Effect.gen(function*() {
      const route = yield* makePollRoute(settings)
      const budget = yield* RequestBudget
      const gate = yield* RunGate
      const times = yield* GenerationTimes
      const scope = yield* Effect.scope
      // One Map changed in place, owned by this scheduler: a copy per update was a tenth of a run's allocations.
      const watched = new Map<number, Watched>()
      const nextId = yield* Ref.make(0)
      // When the scheduler's polls of the last budget window were granted: the slots they hold are polls' to spend again.
      const pollsGrantedAt = yield* Ref.make<ReadonlyArray<number>>([])
      const wake = yield* Queue.sliding<void>(1)
      const nudge = Queue.offer(wake, undefined)
      const update = (id: number, f: (job: Watched) => Watched) =>
        Effect.sync(() => {
          const job = watched.get(id)
          if (job !== undefined) watched.set(id, f(job))
        })
      const remove = (id: number) => Effect.sync(() => watched.delete(id)).pipe(Effect.zipRight(nudge))

      /** The jobs not being asked now, each with its class's estimate fitted to the run's measured and running jobs. */
      const candidates = Effect.gen(function*() {
        const jobs = [...watched.values()]
        const estimates = new Map<string, GenerationEstimate>()
        for (const job of jobs) {
          const key = classOf(job.params)
          if (estimates.has(key)) continue
          const running = jobs.filter((other) => classOf(other.params) === key && other.seenRunningForMs > 0)
          estimates.set(key, yield* times.fitted(job.params, running.map((other) => other.seenRunningForMs)))
        }
        const weighed = jobs.filter((job) => !job.inFlight).map((job): PollCandidate => ({
          id: job.id,
          submittedAtMs: job.submittedAtMs,
          seenRunningForMs: job.seenRunningForMs,
          lastPolledAtMs: job.lastPolledAtMs,
          estimate: estimates.get(classOf(job.params))!
        }))
        // Scouting, until one completes and says how long jobs take.
        return (yield* times.measured) > 0 ? weighed : weighed.map((job) => ({ ...job, scouting: true }))
      })

      /** The job watched longest, asked or not: the one scout where the budget binds. */
      const oldestId = Effect.sync(() => {
        const oldest = [...watched.values()].reduce<Watched | undefined>(
          (a, b) => (a === undefined || b.submittedAtMs < a.submittedAtMs ? b : a),
          undefined
        )
        return oldest?.id
      })

      /** The pace for `jobs` now: the threshold the budget's spare share sets, and the gap its spare calls afford. */
      const paceOf = (jobs: ReadonlyArray<PollCandidate>, nowMs: number) =>
        Effect.gen(function*() {
          const spare = yield* budget.spare
          const windowMs = Duration.toMillis(settings.budgetWindow)
          const recent = yield* Ref.updateAndGet(pollsGrantedAt, (times) => times.filter((at) => at > nowMs - windowMs))
          const inWindow = jobs.filter((job) => windowOpensAtMs(job) <= nowMs).length
          const affordableMs = affordableGapMs(
            inWindow,
            spareCallsPerMs(spare, budget.callsPerMinute, recent.length, settings),
            settings
          )
          return { threshold: pollThreshold(spare), affordableMs } satisfies PollPace
        })

      /** The first try in the slot the scheduler was granted; a retry waits in the poll line. */
      const grantedSlot = (rateLimitedFor: Duration.Duration) =>
        Effect.map(Ref.make(true), (first): InSlot => (call) =>
          Effect.flatMap(Ref.getAndSet(first, false), (granted) =>
            granted
              ? call.pipe(Effect.tapError((error) =>
                error instanceof RateLimited
                  ? budget.pause(Option.getOrElse(error.retryAfter, () =>
                    rateLimitedFor))
                  : Effect.void
              ))
              : call.pipe(withBudget(budget, rateLimitedFor, "poll"))))

      /** The chosen job asked, its first try in the slot being held; what it answered updates what the scheduler knows. */
      const pollOne = (entry: Watched, sentAtMs: number) =>
        Effect.gen(function*() {
          const inSlot = yield* grantedSlot(entry.rateLimitedFor)
          const via = yield* route.next
          const asked = yield* entry.turn(inSlot, via === "status" ? "status" : "result")
          yield* route.learn(via, asked)
          // Nothing is concluded from an odd result URL answer: the status URL, asked in the poll line, answers.
          const seen = typeof asked === "string" ? asked : yield* entry.turn(inSlot, "status", asked.failedTries)
          const running = seen === "QUEUED" || seen === "PROCESSING"
          yield* running
            ? update(entry.id, (w) => ({ ...w, inFlight: false, seenRunningForMs: sentAtMs - w.submittedAtMs }))
            : remove(entry.id)
          yield* nudge
        })

      /** Jobs a 429 holds past their deadline end now, not when a slot that comes too late is granted. */
      const endJobsHeldPastDeadline = Effect.gen(function*() {
        const resumeAtMs = yield* gate.callsResumeAtMs
        if (resumeAtMs <= (yield* Clock.currentTimeMillis)) {
          return
        }
        for (const job of [...watched.values()]) {
          if (!job.inFlight && job.deadlineAtMs < resumeAtMs) {
            yield* job.end
          }
        }
      })

      /**
       * In a granted poll slot, held until the call's answer: the job most
       * likely done is chosen then, marked, and asked. `marked` lets the
       * loop weigh the next poll once the choice is made.
       */
      const pollInSlot = (marked: Deferred.Deferred<void>) =>
        budget.withSlot("poll")(Effect.gen(function*() {
          const grantedAtMs = yield* Clock.currentTimeMillis
          const jobs = yield* candidates
          const pace = yield* paceOf(jobs, grantedAtMs)
          const chosen = pickJob(inPlay(jobs, pace, yield* oldestId), grantedAtMs, settings, pace)
          const entry = chosen === undefined ? undefined : watched.get(chosen.id)
          if (entry !== undefined) {
            yield* update(entry.id, (w) => ({ ...w, inFlight: true, lastPolledAtMs: grantedAtMs }))
            yield* Ref.update(pollsGrantedAt, (times) => [...times, grantedAtMs])
          }
          yield* Deferred.succeed(marked, undefined)
          if (entry !== undefined) {
            yield* pollOne(entry, grantedAtMs)
          }
        })).pipe(Effect.ensuring(Deferred.succeed(marked, undefined)))

      const step = Effect.gen(function*() {
        yield* endJobsHeldPastDeadline
        const now = yield* Clock.currentTimeMillis
        const jobs = yield* candidates
        const pace = yield* paceOf(jobs, now)
        const polled = inPlay(jobs, pace, yield* oldestId)
        const dueAt = Math.min(...polled.map((job) =>
          pollDueAtMs(job, pace.threshold, settings, pace.affordableMs)
        ))
        if (dueAt > now) {
          const idleMs = Duration.toMillis(settings.floor) * IDLE_FLOORS
          const sleepMs = Number.isFinite(dueAt) ? Math.min(dueAt - now, idleMs) : idleMs
          yield* Effect.raceFirst(Effect.sleep(Duration.millis(Math.ceil(sleepMs))), Queue.take(wake))
          return
        }
        const marked = yield* Deferred.make<void>()
        yield* Effect.forkIn(pollInSlot(marked), scope)
        // A 429 may close the budget while the slot is awaited: the jobs it holds past their deadline end meanwhile.
        const idle = Duration.times(settings.floor, IDLE_FLOORS)
        yield* Effect.raceFirst(
          Deferred.await(marked),
          Effect.forever(Effect.zipRight(Effect.sleep(idle), endJobsHeldPastDeadline))
        )
      })
      yield* Effect.forkScoped(Effect.forever(step))

      const watch = <E>(request: WatchRequest<E>): Stream.Stream<Counted<StatusAnswer>, E> =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const answers = yield* Queue.unbounded<Exit.Exit<Counted<PolledAnswer>, E>>()
          // An odd result URL answer is not the job's: the status URL's answer to the poll is handed over instead.
          const handOver = (earlierTries: number) => (exit: Exit.Exit<Counted<PolledAnswer | OffRoute>, E>) => {
            if (Exit.isFailure(exit)) {
              return Queue.offer(answers, Exit.failCause(exit.cause)).pipe(Effect.as<Seen>("error"))
            }
            const { failedTries, value } = exit.value
            const tries = failedTries + earlierTries
            if (isOffRoute(value)) {
              return Effect.succeed<Seen>({ ...value, failedTries: tries })
            }
            // A COMPLETED status begets a result fetch: its slot is kept before the job hears, so no poll takes it.
            return (owesResult(value) ? budget.reserveResult : Effect.void).pipe(
              Effect.zipRight(Queue.offer(answers, Exit.succeed({ failedTries: tries, value }))),
              Effect.as<Seen>(value.status)
            )
          }
          const turn = (inSlot: InSlot, via: PollVia, earlierTries = 0): Effect.Effect<Seen> =>
            Effect.flatMap(Effect.exit(request.ask(inSlot, via)), handOver(earlierTries))
          const id = yield* Ref.getAndUpdate(nextId, (n) => n + 1)
          // Out of the scheduler's weighing first, then its end: never polled after it.
          const end = Effect.gen(function*() {
            const late = yield* heldPastDeadline(request.deadlineAtMs, request.late)
            if (Option.isNone(late)) {
              return
            }
            yield* remove(id)
            yield* Queue.offer(answers, Exit.fail(late.value))
          }).pipe(Effect.provideService(RunGate, gate), Effect.uninterruptible)
          const entry: Watched = {
            id,
            params: request.params,
            submittedAtMs: request.submittedAtMs,
            seenRunningForMs: 0,
            lastPolledAtMs: request.submittedAtMs,
            inFlight: false,
            turn,
            deadlineAtMs: request.deadlineAtMs,
            end,
            rateLimitedFor: request.rateLimitedFor
          }
          yield* Effect.acquireRelease(
            Effect.sync(() => watched.set(id, entry)).pipe(Effect.zipRight(nudge)),
            () => remove(id)
          )
          return Stream.repeatEffect(Effect.flatten(Queue.take(answers))).pipe(
            Stream.takeUntil((answer) => answer.value.status === "COMPLETED")
          )
        }))

      return PollScheduler.of({ watch, route: route.polledVia })
    })

  /** One scheduler per run, with the learner of generation times it polls by. */
  static readonly layer = (settings: PollSettings) =>
    Layer.scoped(PollScheduler, PollScheduler.make(settings)).pipe(
      Layer.provideMerge(GenerationTimes.layer(settings))
    )
}
