import { Options } from "@effect/cli"
import { Duration, Effect, Either, Option } from "effect"
import { SEEDANCE_DEFAULTS, type SeedanceParams } from "../domain/SeedanceParams.js"
import { DEFAULT_PLAN, PLAN_RPM, PLANS_TEXT, SEGMIND_PLANS, type SegmindPlan } from "../domain/SegmindPlan.js"
import { defaultEmulatorConfig, generationTime } from "../emulator/EmulatorConfig.js"
import { budgetConcurrency } from "../pipeline/BudgetConcurrency.js"
import { DEFAULT_POLL, type PollSettings } from "../pipeline/PollSchedule.js"
import { DEFAULT_RETRY, type RetrySettings } from "../pipeline/RetryPolicy.js"
import { durationProblemMessage, parseDurationText } from "./DurationText.js"
import type { RenderFlags } from "./RenderFlags.js"
import { usageError } from "./UsageErrors.js"

/** The job a default concurrency is sized for: the model's defaults, with no prompt or frames. */
const TYPICAL_JOB: SeedanceParams = { prompt: "", seed: 1, ...SEEDANCE_DEFAULTS }
/** What the help says of the default concurrency. */
export const DEFAULT_CONCURRENCY_TEXT =
  "enough to keep the request budget busy (rpm/3 x generation minutes x 1.2, at most 64)"

/** Where neither flag nor manifest sets it: the jobs in flight that keep `rpm` busy with typical jobs. */
export const defaultConcurrency = (rpm: number, prior: PollSettings["prior"] = DEFAULT_POLL.prior): number =>
  budgetConcurrency(rpm, prior(TYPICAL_JOB))
/** `--plan`, taken by `run`, `resume`, `replay` and `plan`. */
export const planFlag = Options.choice("plan", SEGMIND_PLANS).pipe(
  Options.withDescription(
    `the Segmind plan of the API key: its limit is the run's API calls per minute, ${PLANS_TEXT} (default: the manifest's plan:, else ${DEFAULT_PLAN}); --rpm (or the manifest's rpm:) sets a limit no plan names`
  ),
  Options.optional
)

/** What the help says of the default rpm. */
export const DEFAULT_RPM_TEXT = `the plan's limit (${DEFAULT_PLAN} unless told: ${PLAN_RPM[DEFAULT_PLAN]})`

/** The rpm a run spends: a flag over the manifest (or the resumed run), an explicit rpm over a plan; else `fallback`. */
export const resolveRpm = (
  flags: { readonly rpm: Option.Option<number>; readonly plan: Option.Option<SegmindPlan> },
  defaults: { readonly rpm?: number | undefined; readonly plan?: SegmindPlan | undefined },
  fallback: number
): number =>
  Option.getOrElse(
    Option.orElse(flags.rpm, () => Option.map(flags.plan, (plan) => PLAN_RPM[plan])),
    () => defaults.rpm ?? (defaults.plan === undefined ? fallback : PLAN_RPM[defaults.plan])
  )
/** Without `--max-jobs`, a run renders at most this many jobs: more is likely a sweep that multiplies by mistake. */
export const DEFAULT_MAX_JOBS = 1000
/** The embedded emulator has no plan limit; the budget then only keeps the demo polite. */
export const EMULATOR_RPM = 600
/** The emulator's clips take seconds, not Segmind's ~100 s: its own time model is the prior. */
export const EMULATOR_POLL: PollSettings = {
  ...DEFAULT_POLL,
  prior: (params) => generationTime(defaultEmulatorConfig, params.duration, params.resolution),
  floor: Duration.millis(250),
  cap: Duration.seconds(2)
}

const durationFlag = (name: string, text: Option.Option<string>) =>
  Option.match(text, {
    onNone: () => Effect.succeed(Option.none<Duration.Duration>()),
    onSome: (value) =>
      Either.match(parseDurationText(value), {
        onLeft: (problem) => usageError(durationProblemMessage(name, problem)),
        onRight: (duration) => Effect.succeed(Option.some(duration))
      })
  })

const positive = (name: string, value: Option.Option<number>) =>
  Option.isSome(value) && value.value < 1
    ? usageError(`--${name} must be at least 1 (got ${value.value})`)
    : Effect.void

/** What the manifest (or the resumed run) says, where the flags say nothing. */
export interface SettingsDefaults {
  readonly concurrency: number | undefined
  readonly rpm: number | undefined
  /** the manifest's plan: (a resumed run's rpm already says it) */
  readonly plan?: SegmindPlan | undefined
  readonly retry: { readonly tries?: number; readonly base?: number; readonly cap?: number } | undefined
}

/** How a run renders: resolved from the flags, then the manifest (or the resumed run), then the defaults. */
export interface RunSettings {
  readonly concurrency: number
  readonly rpm: number
  readonly poll: PollSettings
  readonly retry: RetrySettings
  readonly runDeadline: Duration.Duration | undefined
}

/** The flags that shape how a run renders. */
export type SettingsFlags = Pick<
  RenderFlags,
  | "concurrency"
  | "plan"
  | "rpm"
  | "retries"
  | "retryBase"
  | "retryCap"
  | "jobDeadline"
  | "deadline"
  | "expect"
  | "pollVia"
>

export const resolveRunSettings = (flags: SettingsFlags, defaults: SettingsDefaults, onEmulator: boolean) =>
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
    const rpm = resolveRpm(flags, defaults, onEmulator ? EMULATOR_RPM : PLAN_RPM[DEFAULT_PLAN])
    const poll: PollSettings = {
      ...pollDefaults,
      ...Option.match(expected, { onNone: () => ({}), onSome: (duration) => ({ prior: () => duration }) }),
      deadline: Option.getOrElse(jobDeadline, () => pollDefaults.deadline),
      pollVia: flags.pollVia
    }
    return {
      // Enough jobs in flight to keep the budget busy, unless told.
      concurrency: Option.getOrElse(
        flags.concurrency,
        () => defaults.concurrency ?? defaultConcurrency(rpm, poll.prior)
      ),
      rpm,
      poll,
      retry: {
        tries: Option.getOrElse(flags.retries, () => retry.tries ?? DEFAULT_RETRY.tries),
        base: seconds(flags.retryBase, retry.base, DEFAULT_RETRY.base),
        cap: seconds(flags.retryCap, retry.cap, DEFAULT_RETRY.cap)
      },
      runDeadline: Option.getOrUndefined(runDeadline)
    } satisfies RunSettings
  })
