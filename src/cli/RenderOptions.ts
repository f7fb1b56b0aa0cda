import { Options } from "@effect/cli"
import { ConfigError, Duration, Effect, Logger, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { defaultEmulatorConfig, Emulator } from "../emulator/Emulator.js"
import { generationTime } from "../emulator/EmulatorConfig.js"
import { DEFAULT_POLL, type PollSettings } from "../pipeline/PollSchedule.js"
import { DEFAULT_RETRY, type RetrySettings } from "../pipeline/RetryPolicy.js"
import { apiKeyConfig, baseUrlConfig, uploadUrlConfig } from "../segmind/SegmindConfig.js"
import { parseDurationText } from "./DurationText.js"
import { stderrLogger } from "./Logging.js"
import { jsonStderrLogger } from "./ProgressView.js"
import { usageError } from "./UsageErrors.js"

export const DEFAULT_CONCURRENCY = 4
export const DEFAULT_RPM = 45
/** The embedded emulator has no plan limit; the budget then only keeps the demo polite. */
export const EMULATOR_RPM = 600
/** The emulator's clips take seconds, not Segmind's ~100 s: its own time model is the prior. */
export const EMULATOR_POLL: PollSettings = {
  ...DEFAULT_POLL,
  prior: (params) => generationTime(defaultEmulatorConfig, params.duration, params.resolution),
  floor: Duration.millis(250),
  cap: Duration.seconds(2)
}

/** Flags every rendering command (`run`, `resume`, `replay`) takes. */
export const renderOptions = {
  concurrency: Options.integer("concurrency").pipe(
    Options.withDescription(
      `jobs in flight at once (default: the manifest's or the run's, else ${DEFAULT_CONCURRENCY})`
    ),
    Options.optional
  ),
  rpm: Options.integer("rpm").pipe(
    Options.withDescription(
      `API calls per minute for the whole run, polls included (default: the manifest's or the run's, else ${DEFAULT_RPM}; Segmind allows 5 on Free, 50 on Pro)`
    ),
    Options.optional
  ),
  emulator: Options.boolean("emulator").pipe(
    Options.withDescription("render on the embedded Segmind emulator (no API key, no cost)")
  ),
  baseUrl: Options.text("base-url").pipe(
    Options.withDescription(
      "another server speaking Segmind's v2 API (default: $SEGMIND_BASE_URL, else https://api.segmind.com)"
    ),
    Options.optional
  ),
  retries: Options.integer("retries").pipe(
    Options.withDescription(
      `tries of a call that fails transiently, the first included (default: the manifest's retry.tries, else ${DEFAULT_RETRY.tries})`
    ),
    Options.optional
  ),
  retryBase: Options.float("retry-base").pipe(
    Options.withDescription(
      "seconds of the first backoff, doubling each try, with full jitter (default: retry.base, else 1)"
    ),
    Options.optional
  ),
  retryCap: Options.float("retry-cap").pipe(
    Options.withDescription("longest backoff in seconds (default: retry.cap, else 30)"),
    Options.optional
  ),
  jobDeadline: Options.text("job-deadline").pipe(
    Options.withDescription(
      "how long one job may take from submission, e.g. 15m (default 15m); past it the job is recorded as timed out with its request id"
    ),
    Options.optional
  ),
  deadline: Options.text("deadline").pipe(
    Options.withDescription(
      "deadline of the whole run, e.g. 2h: later jobs are not submitted, running ones are recorded as timed out with their request ids"
    ),
    Options.optional
  ),
  expect: Options.text("expect").pipe(
    Options.withDescription(
      "how long a job usually takes from submission to its end, e.g. 100s: the first polls aim there, then the run learns from its completed jobs (default: the model's figure, ~100 s for 5 s of video)"
    ),
    Options.optional
  ),
  logFormat: Options.choice("log-format", ["text", "json"]).pipe(
    Options.withDescription(
      "how progress is logged on stderr: text (a live view on a terminal, else one line per change of a job's state) or json (one object per line, with job and phase fields)"
    ),
    Options.withDefault("text" as const)
  ),
  junit: Options.file("junit").pipe(
    Options.withDescription(
      "also write the outcome as JUnit XML to this file (one test case per job), for CI dashboards"
    ),
    Options.optional
  )
}

export interface RenderFlags {
  readonly concurrency: Option.Option<number>
  readonly rpm: Option.Option<number>
  readonly emulator: boolean
  readonly baseUrl: Option.Option<string>
  readonly retries: Option.Option<number>
  readonly retryBase: Option.Option<number>
  readonly retryCap: Option.Option<number>
  readonly jobDeadline: Option.Option<string>
  readonly deadline: Option.Option<string>
  readonly expect: Option.Option<string>
  readonly logFormat: "text" | "json"
  readonly junit: Option.Option<string>
}

const durationFlag = (name: string, text: Option.Option<string>) =>
  Option.match(text, {
    onNone: () => Effect.succeed(Option.none<Duration.Duration>()),
    onSome: (value) =>
      Option.match(parseDurationText(value), {
        onNone: () => usageError(`--${name} takes a duration like 90s, 15m or 2h (got ${JSON.stringify(value)})`),
        onSome: (duration) => Effect.succeed(Option.some(duration))
      })
  })

const positive = (name: string, value: Option.Option<number>) =>
  Option.isSome(value) && value.value < 1
    ? usageError(`--${name} must be at least 1 (got ${value.value})`)
    : Effect.void

/** What the flags, then the manifest (or the resumed run), then the defaults say. */
export interface RenderDefaults {
  readonly concurrency: number | undefined
  readonly rpm: number | undefined
  readonly retry: { readonly tries?: number; readonly base?: number; readonly cap?: number } | undefined
}

export interface RenderSettings {
  readonly concurrency: number
  readonly rpm: number
  readonly poll: PollSettings
  readonly retry: RetrySettings
  readonly runDeadline: Duration.Duration | undefined
}

export const renderSettings = (flags: RenderFlags, defaults: RenderDefaults, onEmulator: boolean) =>
  Effect.gen(function*() {
    yield* positive("concurrency", flags.concurrency)
    yield* positive("rpm", flags.rpm)
    yield* positive("retries", flags.retries)
    const jobDeadline = yield* durationFlag("job-deadline", flags.jobDeadline)
    const runDeadline = yield* durationFlag("deadline", flags.deadline)
    const expected = yield* durationFlag("expect", flags.expect)
    const retry = defaults.retry ?? {}
    const seconds = (flag: Option.Option<number>, fromDefaults: number | undefined, fallback: Duration.Duration) =>
      Option.match(flag, {
        onSome: Duration.seconds,
        onNone: () => (fromDefaults === undefined ? fallback : Duration.seconds(fromDefaults))
      })
    const pollDefaults = onEmulator ? EMULATOR_POLL : DEFAULT_POLL
    return {
      concurrency: Option.getOrElse(flags.concurrency, () => defaults.concurrency ?? DEFAULT_CONCURRENCY),
      rpm: Option.getOrElse(flags.rpm, () => defaults.rpm ?? (onEmulator ? EMULATOR_RPM : DEFAULT_RPM)),
      poll: {
        ...pollDefaults,
        ...Option.match(expected, { onNone: () => ({}), onSome: (duration) => ({ prior: () => duration }) }),
        deadline: Option.getOrElse(jobDeadline, () => pollDefaults.deadline)
      },
      retry: {
        tries: Option.getOrElse(flags.retries, () => retry.tries ?? DEFAULT_RETRY.tries),
        base: seconds(flags.retryBase, retry.base, DEFAULT_RETRY.base),
        cap: seconds(flags.retryCap, retry.cap, DEFAULT_RETRY.cap)
      },
      runDeadline: Option.getOrUndefined(runDeadline)
    } satisfies RenderSettings
  })

/** The API to talk to: the embedded emulator for the life of the command, or Segmind (or --base-url) with the key. */
export const apiTarget = (useEmulator: boolean, baseUrlFlag: Option.Option<string>) =>
  Effect.gen(function*() {
    if (useEmulator) {
      const apiKey = `SG_${randomBytes(8).toString("hex")}`
      const emulator = yield* Emulator.start({ ...defaultEmulatorConfig, apiKey, port: 0 })
      yield* Effect.logInfo(`emulator serving on ${emulator.baseUrl}`)
      return {
        baseUrl: emulator.baseUrl,
        apiKey: Redacted.make(apiKey),
        uploadUrl: undefined,
        isEmulator: true
      } as const
    }
    const baseUrl = yield* baseUrlConfig(baseUrlFlag)
    const apiKey = yield* apiKeyConfig.pipe(
      Effect.catchIf(ConfigError.isMissingDataOnly, () =>
        usageError(
          "SEGMIND_API_KEY is not set. Export your key (SEGMIND_API_KEY=SG_… shotlist run …) or render on the local emulator with --emulator."
        ))
    )
    const uploadUrl = Option.getOrUndefined(yield* uploadUrlConfig)
    return { baseUrl, apiKey, uploadUrl, isEmulator: false } as const
  })

export type ApiTarget = Effect.Effect.Success<ReturnType<typeof apiTarget>>

/** `--log-format json` swaps the logger for the whole command; text keeps the plain stderr lines. */
export const withLogFormat =
  (format: "text" | "json") => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    format === "json" ? Effect.provide(effect, Logger.replace(stderrLogger, jsonStderrLogger)) : effect
