import { Clock, Context, Duration, Effect, Layer, Option, SynchronizedRef } from "effect"
import { RateLimited } from "../segmind/SegmindErrors.js"

/** The most of the request budget that status polls may take together. */
export const POLL_SHARE = 0.8

/**
 * One budget of API calls per minute for the whole run: submit, status,
 * result and upload all take a slot, so polling never starves submissions
 * and the run never earns its own 429s. A 429 closes the gate for everyone.
 */
export class RequestBudget extends Context.Tag("shotlist/RequestBudget")<
  RequestBudget,
  {
    /** waits for the next free slot (and for a closed gate to open) */
    readonly take: Effect.Effect<void>
    /**
     * A status poll's slot: polls of all jobs together get at most
     * `POLL_SHARE` of the budget, so a submit, a result or an upload always
     * finds room, however many jobs are in flight.
     */
    readonly takePoll: Effect.Effect<void>
    /** no call of any job starts before `duration` has passed */
    readonly pause: (duration: Duration.Duration) => Effect.Effect<void>
    readonly callsPerMinute: number
  }
>() {
  /** Calls are spaced evenly at 60 s / rpm, which never exceeds rpm in any 60 s window. */
  static readonly make = (callsPerMinute: number) =>
    Effect.gen(function*() {
      const intervalMs = 60_000 / callsPerMinute
      const state = yield* SynchronizedRef.make({ nextSlotMs: 0, closedUntilMs: 0 })
      const pollIntervalMs = intervalMs / POLL_SHARE
      const nextPollSlot = yield* SynchronizedRef.make(0)

      const reserve = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        return yield* SynchronizedRef.modify(state, (s) => {
          const slot = Math.max(now, s.nextSlotMs, s.closedUntilMs)
          return [slot - now, { ...s, nextSlotMs: slot + intervalMs }] as const
        })
      })

      // A 429 can arrive while a fiber already sleeps towards its slot: it checks the gate again on waking.
      const take: Effect.Effect<void> = Effect.gen(function*() {
        for (;;) {
          const waitMs = yield* reserve
          if (waitMs > 0) yield* Effect.sleep(Duration.millis(waitMs))
          const now = yield* Clock.currentTimeMillis
          const { closedUntilMs } = yield* SynchronizedRef.get(state)
          if (now >= closedUntilMs) return
        }
      })

      const pause = (duration: Duration.Duration) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const until = now + Duration.toMillis(duration)
          yield* SynchronizedRef.update(state, (s) => ({
            closedUntilMs: Math.max(s.closedUntilMs, until),
            nextSlotMs: Math.max(s.nextSlotMs, until)
          }))
        })

      // Polls queue among themselves first, at POLL_SHARE of the rate; only then for a slot of the whole budget.
      const takePoll = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const waitMs = yield* SynchronizedRef.modify(nextPollSlot, (next) => {
          const slot = Math.max(now, next)
          return [slot - now, slot + pollIntervalMs] as const
        })
        if (waitMs > 0) yield* Effect.sleep(Duration.millis(waitMs))
        yield* take
      })

      return RequestBudget.of({ take, takePoll, pause, callsPerMinute })
    })

  static readonly layer = (callsPerMinute: number) => Layer.effect(RequestBudget, RequestBudget.make(callsPerMinute))
}

/**
 * An API call drawn from the budget; a 429 closes the gate for every job, for
 * its Retry-After or else `fallback`.
 */
export const withBudget =
  (budget: RequestBudget["Type"], fallback: Duration.Duration, kind: "call" | "poll" = "call") =>
  <A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    (kind === "poll" ? budget.takePoll : budget.take).pipe(
      Effect.zipRight(call),
      Effect.tapError((error) =>
        error instanceof RateLimited ? budget.pause(Option.getOrElse(error.retryAfter, () => fallback)) : Effect.void
      )
    )
