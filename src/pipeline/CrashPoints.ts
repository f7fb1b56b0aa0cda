import { Config, Context, Effect, Layer, Option } from "effect"

/**
 * Places in a run where a crash loses the most if the journal is wrong. The
 * crash-safety tests make a real process kill itself there (SIGKILL: no
 * finalizer, no flush) and then resume it.
 */
export type CrashPoint =
  /** a job's `planned` line is written; the later jobs' are not */
  | "mid-plan"
  /** a job is about to send its submit */
  | "before-submit"
  /** the API accepted a submit; its request id is not yet in the journal */
  | "after-submit"
  /** the first bytes of a video are on disk, the rest are not */
  | "mid-download"
  /** a video is in `videos/`; the journal does not know it yet */
  | "after-download"
  /** every job ended; `report.json` is not written yet */
  | "before-report"

/** Reached at each `CrashPoint`; a no-op unless `SHOTLIST_CRASH_AT` is set. */
export class CrashPoints extends Context.Reference<CrashPoints>()("shotlist/CrashPoints", {
  defaultValue: () => ({ reach: (_point: CrashPoint): Effect.Effect<void> => Effect.void })
}) {
  /**
   * `SHOTLIST_CRASH_AT=POINT[:N]` kills this process with SIGKILL the N-th
   * time (default 1st) it reaches POINT. For crash tests only.
   */
  static readonly layerFromEnv = Layer.effect(
    CrashPoints,
    Effect.gen(function*() {
      const setting = yield* Config.option(Config.string("SHOTLIST_CRASH_AT")).pipe(
        Effect.orElseSucceed(() => Option.none())
      )
      if (Option.isNone(setting)) return CrashPoints.defaultValue()
      const [point, nth] = setting.value.split(":")
      const target = Number(nth ?? "1")
      let reached = 0
      return {
        reach: (at: CrashPoint) =>
          Effect.sync(() => {
            if (at !== point) return
            reached += 1
            if (reached === target) process.kill(process.pid, "SIGKILL")
          })
      }
    })
  )
}
