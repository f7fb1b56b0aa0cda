import { Clock, Context, Effect, Layer, Option, Ref } from "effect"
import type { ErrorRecord } from "../domain/JobReport.js"
import { RunAborted, RunDeadlineReached } from "./PipelineErrors.js"

/**
 * Whether a run still lets jobs submit: the first fatal answer (or a disk
 * that refuses writes) closes the gate for good, and so does the run's
 * deadline (`--deadline`). Jobs already accepted by the API go on. It also
 * keeps when the API lets calls resume after a 429, so a job that would wait
 * past its deadline gives up at once instead of sleeping.
 */
export class RunGate extends Context.Tag("shotlist/RunGate")<
  RunGate,
  {
    /** fails when no job may submit any more */
    readonly check: Effect.Effect<void, RunAborted | RunDeadlineReached>
    /** closes the gate on a fatal answer; the first one is kept */
    readonly close: (stoppedBy: ErrorRecord) => Effect.Effect<void>
    /** the fatal answer that closed the gate, if any */
    readonly stoppedBy: Effect.Effect<Option.Option<ErrorRecord>>
    /** epoch ms after which no job is submitted and no poll goes on */
    readonly deadlineAtMs: number | undefined
    /** a 429 told every call to wait until `atMs` (its Retry-After): the latest such word is kept */
    readonly rateLimitedUntil: (atMs: number) => Effect.Effect<void>
    /** epoch ms before which the API takes no call, as far as the run has been told (0: no wait) */
    readonly callsResumeAtMs: Effect.Effect<number>
  }
>() {
  static readonly make = (deadlineAtMs: number | undefined) =>
    Effect.gen(function*() {
      const stopped = yield* Ref.make(Option.none<ErrorRecord>())
      const resumeAt = yield* Ref.make(0)
      const check = Effect.gen(function*() {
        const stoppedBy = yield* Ref.get(stopped)
        if (Option.isSome(stoppedBy)) return yield* new RunAborted({ stoppedBy: stoppedBy.value })
        if (deadlineAtMs !== undefined && (yield* Clock.currentTimeMillis) >= deadlineAtMs) {
          return yield* new RunDeadlineReached({})
        }
      })
      const close = (stoppedBy: ErrorRecord) =>
        Ref.update(stopped, (current) => (Option.isSome(current) ? current : Option.some(stoppedBy)))
      return RunGate.of({
        check,
        close,
        stoppedBy: Ref.get(stopped),
        deadlineAtMs,
        rateLimitedUntil: (atMs) => Ref.update(resumeAt, (known) => Math.max(known, atMs)),
        callsResumeAtMs: Ref.get(resumeAt)
      })
    })

  static readonly layer = (deadlineAtMs: number | undefined) => Layer.effect(RunGate, RunGate.make(deadlineAtMs))
}
