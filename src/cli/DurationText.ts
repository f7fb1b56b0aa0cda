import { Duration, Option } from "effect"

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** "90s", "15m", "2h", "1.5h" (a bare number is seconds). */
export const parseDurationText = (text: string): Option.Option<Duration.Duration> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (match === null) return Option.none()
  const millis = Number(match[1]) * (UNITS[match[2] ?? "s"] ?? 1000)
  return millis > 0 ? Option.some(Duration.millis(millis)) : Option.none()
}
