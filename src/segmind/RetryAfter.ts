import type { Headers } from "@effect/platform"
import { Duration, Option } from "effect"

const fromSeconds = (text: string): Option.Option<Duration.Duration> =>
  /^\s*\d+(\.\d+)?\s*$/.test(text) ? Option.some(Duration.seconds(Number(text))) : Option.none()

const untilDate = (text: string, nowMs: number): Option.Option<Duration.Duration> => {
  const trimmed = text.trim()
  // Epoch numbers: seconds when small, milliseconds when large.
  const at = /^\d+$/.test(trimmed)
    ? (Number(trimmed) < 1e12 ? Number(trimmed) * 1000 : Number(trimmed))
    : Date.parse(trimmed)
  return Number.isFinite(at) ? Option.some(Duration.millis(Math.max(0, at - nowMs))) : Option.none()
}

/**
 * How long a 429 asks us to wait: `Retry-After` (seconds or an HTTP date),
 * else `x-rate-limit-reset-at-utc` (an instant), else nothing known.
 */
export const retryAfterFrom = (headers: Headers.Headers, nowMs: number): Option.Option<Duration.Duration> => {
  const retryAfter = headers["retry-after"]
  if (retryAfter !== undefined) {
    return fromSeconds(retryAfter).pipe(Option.orElse(() => untilDate(retryAfter, nowMs)))
  }
  const resetAt = headers["x-rate-limit-reset-at-utc"]
  return resetAt === undefined ? Option.none() : untilDate(resetAt, nowMs)
}
