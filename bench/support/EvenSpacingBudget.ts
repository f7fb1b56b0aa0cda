/**
 * The request budget as it was before priority lines (commit a317c91), kept
 * for comparison only: every call on one queue spaced evenly at window / rpm,
 * polls first queued among themselves at 80 % of that rate; a 429 closes the
 * gate until its Retry-After. The window is a parameter so a time-scaled
 * benchmark can shrink it.
 */
import { Clock, Duration, Effect, Layer, SynchronizedRef } from "effect"
import { type CallPriority, RequestBudget } from "../../src/pipeline/RequestBudget.js"

const POLL_SHARE = 0.8

export const evenSpacingBudget = (callsPerMinute: number, window: Duration.Duration) =>
  Effect.gen(function*() {
    const intervalMs = Duration.toMillis(window) / callsPerMinute
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

    const takePoll = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const waitMs = yield* SynchronizedRef.modify(nextPollSlot, (next) => {
        const slot = Math.max(now, next)
        return [slot - now, slot + pollIntervalMs] as const
      })
      if (waitMs > 0) yield* Effect.sleep(Duration.millis(waitMs))
      yield* take
    })

    const takeSlot = (priority: CallPriority) => (priority === "poll" ? takePoll : take)
    return RequestBudget.of({
      withSlot: (priority) => (call) => Effect.zipRight(takeSlot(priority), call),
      takeSlot,
      take,
      takePoll,
      // The old budget kept no slot for results: they queued with everyone else.
      reserveResult: Effect.void,
      pause,
      // The old budget knew no spare: polls always spent as if it were tight.
      spare: Effect.succeed(0),
      callsPerMinute
    })
  })

export const evenSpacingBudgetLayer = (callsPerMinute: number, window: Duration.Duration) =>
  Layer.effect(RequestBudget, evenSpacingBudget(callsPerMinute, window))
