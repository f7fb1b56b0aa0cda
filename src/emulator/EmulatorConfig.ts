import { Duration } from "effect"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A fault the script puts on one call: the `call`-th (1-based) request to `endpoint`. */
export interface ScriptedFault {
  readonly endpoint: "submit" | "status" | "result" | "download" | "upload"
  readonly call: number
  /** "drop-after" / "502-after" / "504-after": the request is handled (a submit is accepted), then the answer is lost or a gateway error */
  readonly fault:
    | "500"
    | "502"
    | "503"
    | "504"
    | "429"
    | "drop"
    | "drop-after"
    | "502-after"
    | "504-after"
    | "slow"
    | "truncate"
}

/** Faults to inject: drawn from a PRNG seeded by `seed` so a run can be repeated, or scripted call by call. */
export interface FaultPlan {
  readonly script: ReadonlyArray<ScriptedFault>
  readonly seed: number
  /** probability that an answer is a 5xx (500, 502, 503 or 504), per endpoint */
  readonly serverErrorRate: {
    readonly submit: number
    readonly status: number
    readonly result: number
    readonly download: number
  }
  /** probability that the connection is dropped without an answer */
  readonly dropRate: number
  /** probability that an answer is delayed by `slowDelay` */
  readonly slowRate: number
  readonly slowDelay: Duration.Duration
  /** probability that a download sends the full Content-Length, then only half the bytes */
  readonly truncateRate: number
  /** probability that a generation ends FAILED */
  readonly failRate: number
  /** probability that a keyed call answers 429 with `Retry-After: retryAfterSeconds` (bursts) */
  readonly rateLimitedRate: number
  readonly retryAfterSeconds: number
  /** keyed requests allowed per sliding minute; past it, 429 with Retry-After */
  readonly rateLimitPerMinute: number | undefined
  /** submits accepted before the account runs out of credits (406) */
  readonly creditsAfterSubmissions: number | undefined
}

export const noFaults: FaultPlan = {
  script: [],
  seed: 1,
  serverErrorRate: { submit: 0, status: 0, result: 0, download: 0 },
  dropRate: 0,
  slowRate: 0,
  slowDelay: Duration.seconds(5),
  truncateRate: 0,
  failRate: 0,
  rateLimitedRate: 0,
  retryAfterSeconds: 1,
  rateLimitPerMinute: undefined,
  creditsAfterSubmissions: undefined
}

/**
 * How long each generation takes, replacing the default model (which scales
 * with duration, resolution and `timeScale`); times are absolute, `timeScale`
 * does not apply.
 */
export type GenerationTimeModel =
  /** normal draws, clamped at 10% of the mean; the n-th submission gets the n-th draw of `seed` */
  | { readonly kind: "normal"; readonly meanMs: number; readonly sdMs: number; readonly seed: number }
  | { readonly kind: "fixed"; readonly ms: number }

export interface EmulatorConfig {
  /** the only key accepted in `x-api-key` */
  readonly apiKey: string
  /** 0 picks a free port */
  readonly port: number
  /** the interface it listens on (default 127.0.0.1: this machine only) */
  readonly host?: string
  readonly workers: number
  /** multiplies every generation time: 1 is "a few seconds", 0.05 suits tests */
  readonly timeScale: number
  /** status and results are kept this long after submission, then 404 */
  readonly resultTtl: Duration.Duration
  readonly clipCacheDir: string
  readonly faults: FaultPlan
  /** when set, every completed job serves a valid MP4 of this many bytes: the real clip padded with a `free` box */
  readonly syntheticVideoBytes?: number
  /** when set, replaces the default generation time model */
  readonly generationTimeModel?: GenerationTimeModel
  /**
   * when true, every job of one size, duration and audio serves the same plain
   * clip (no stamp, no opening frame): for benchmarks, where rendering a clip
   * per job would dominate what they measure
   */
  readonly sharedClips?: boolean
  /** what the result URL answers before the job completes (see `ResultPending`; default "status") */
  readonly resultPending?: ResultPending
}

/**
 * What the result URL answers a request still running, which Segmind does not
 * document: "status", a 200 like the status URL's without `output`; "404", as
 * if the request were unknown; odd shapes a server might give instead: "500",
 * "html-200" (a proxy's page), "empty-200", "unknown-status" (a 200 saying
 * RUNNING), "completed-no-video" (a 200 saying COMPLETED with no output),
 * "redirect" (302 to the status URL); "switch-after-N": like "status" for the
 * first N such answers of the emulator, then 404.
 */
export type ResultPending =
  | "status"
  | "404"
  | "500"
  | "html-200"
  | "empty-200"
  | "unknown-status"
  | "completed-no-video"
  | "redirect"
  | `switch-after-${number}`

export const defaultEmulatorConfig: EmulatorConfig = {
  apiKey: "SG_0000000000000000",
  port: 0,
  workers: 2,
  timeScale: 1,
  resultTtl: Duration.hours(1),
  clipCacheDir: join(tmpdir(), "shotlist-emulator-clips"),
  faults: noFaults
}

const RESOLUTION_FACTOR: Record<string, number> = { "480p": 0.6, "720p": 1, "1080p": 1.8 }

/** How long the emulator "generates" a clip: 3 s for 5 s of 720p, scaled. */
export const generationTime = (config: EmulatorConfig, duration: number, resolution: string): Duration.Duration =>
  Duration.millis(3000 * (duration / 5) * (RESOLUTION_FACTOR[resolution] ?? 1) * config.timeScale)
