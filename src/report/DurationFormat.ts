/**
 * How a duration reads: `clock` for the live view (`1h05m`, `3m07s`, `12s`),
 * `exact` for a run's wall time (`1 h 2 min 5 s`, `12.3 s`), `rough` for
 * estimates (`1.5 h`, `12 min`, `45 s`).
 */
export type DurationStyle = "clock" | "exact" | "rough"

const twoDigits = (n: number) => String(n).padStart(2, "0")

/** The one duration formatter of the command line and the reports. */
export const formatDuration = (ms: number, style: DurationStyle): string => {
  const whole = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(whole / 3600)
  const m = Math.floor((whole % 3600) / 60)
  const s = whole % 60
  switch (style) {
    case "clock":
      return h > 0 ? `${h}h${twoDigits(m)}m` : m > 0 ? `${m}m${twoDigits(s)}s` : `${s}s`
    case "exact":
      return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : h > 0 ? `${h} h ${m} min ${s} s` : `${m} min ${s} s`
    case "rough":
      return ms < 60_000
        ? `${ms / 1000} s`
        : ms < 3_600_000
        ? `${Math.round(ms / 60_000)} min`
        : `${(ms / 3_600_000).toFixed(1)} h`
  }
}
