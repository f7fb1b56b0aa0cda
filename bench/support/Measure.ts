import { Duration, Effect, Fiber, Schedule } from "effect"

/** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export const mean = (values: ReadonlyArray<number>): number =>
  values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length

/** Megabytes (10^6 bytes), as the targets are stated. */
export const mb = (bytes: number): number => bytes / 1e6

/** Rounds for a table: `digits` after the point. */
export const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : "n/a")

export interface Measured<A> {
  readonly value: A
  readonly wallMs: number
  /** user + system CPU of this process while it ran */
  readonly cpuMs: number
  readonly rssBeforeBytes: number
  readonly peakRssBytes: number
  /** V8 heap in use: what the program itself holds, without the runtime's code and buffers */
  readonly heapUsedBeforeBytes: number
  readonly peakHeapUsedBytes: number
  readonly samples: number
}

/**
 * Runs `effect` while sampling this process's RSS and V8 heap every
 * `everyMs` (and once at each end); also wall time and CPU time.
 */
export const measured = <A, E, R>(effect: Effect.Effect<A, E, R>, everyMs = 50): Effect.Effect<Measured<A>, E, R> =>
  Effect.gen(function*() {
    const before = process.memoryUsage()
    let peakRssBytes = before.rss
    let peakHeapUsedBytes = before.heapUsed
    let samples = 0
    const sample = Effect.sync(() => {
      const now = process.memoryUsage()
      peakRssBytes = Math.max(peakRssBytes, now.rss)
      peakHeapUsedBytes = Math.max(peakHeapUsedBytes, now.heapUsed)
      samples++
    })
    const sampler = yield* Effect.fork(Effect.repeat(sample, Schedule.spaced(Duration.millis(everyMs))))
    const cpuBefore = process.cpuUsage()
    const startedMs = performance.now()
    const value = yield* effect.pipe(Effect.ensuring(Fiber.interrupt(sampler)))
    const wallMs = performance.now() - startedMs
    const cpu = process.cpuUsage(cpuBefore)
    yield* sample
    return {
      value,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssBeforeBytes: before.rss,
      peakRssBytes,
      heapUsedBeforeBytes: before.heapUsed,
      peakHeapUsedBytes,
      samples
    }
  })
