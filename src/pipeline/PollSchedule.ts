import { Duration, Schedule } from "effect"

export interface PollSettings {
  /** wait before the first status call: no video is ever ready at once */
  readonly firstPoll: Duration.Duration
  /** first gap between polls, growing by `factor` up to `cap` */
  readonly base: Duration.Duration
  readonly factor: number
  readonly cap: Duration.Duration
  /** a job not ended by then is recorded as timed out, with its request id */
  readonly deadline: Duration.Duration
}

/** For Segmind (videos take ~100 s): ~11 status calls for a typical job. */
export const DEFAULT_POLL: PollSettings = {
  firstPoll: Duration.seconds(2),
  base: Duration.seconds(2),
  factor: 1.5,
  cap: Duration.seconds(15),
  deadline: Duration.minutes(15)
}

/** Gaps between status calls: growing geometrically from `base`, never above `cap`. */
export const pollSchedule = (settings: PollSettings) =>
  Schedule.exponential(settings.base, settings.factor).pipe(Schedule.union(Schedule.spaced(settings.cap)))
