import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect, Either, type Option } from "effect"
import type { SegmindPlan } from "../domain/SegmindPlan.js"
import { DEFAULT_RETRY } from "../pipeline/RetryPolicy.js"
import { type Budget, budgetFlags } from "./Budget.js"
import { type NotifyTarget, notifyTarget } from "./Notify.js"
import { DEFAULT_CONCURRENCY_TEXT, DEFAULT_RPM_TEXT, planFlag } from "./RunSettings.js"

/** Flags every rendering command (`run`, `resume`, `replay`) takes. */
export const renderFlags = {
  concurrency: Options.integer("concurrency").pipe(
    Options.withDescription(
      `jobs in flight at once (default: the manifest's or the run's, else ${DEFAULT_CONCURRENCY_TEXT})`
    ),
    Options.optional
  ),
  rpm: Options.integer("rpm").pipe(
    Options.withDescription(
      `API calls per minute for the whole run, polls included, for a limit no plan names (Enterprise) (default: the manifest's or the run's, else ${DEFAULT_RPM_TEXT})`
    ),
    Options.optional
  ),
  // The account's plan sets the rpm where nothing more precise does.
  plan: planFlag,
  emulator: Options.boolean("emulator").pipe(
    Options.withDescription("render on the embedded Segmind emulator: no API key, no cost (off by default)")
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
      "how long one job may take from submission, with a unit: 90s, 15m, 2h (default 15m); past it the job is recorded as timed out with its request id"
    ),
    Options.optional
  ),
  deadline: Options.text("deadline").pipe(
    Options.withDescription(
      "deadline of the whole run, with a unit, e.g. 2h: later jobs are not submitted, running ones are recorded as timed out with their request ids (default: none)"
    ),
    Options.optional
  ),
  expect: Options.text("expect").pipe(
    Options.withDescription(
      "how long a job usually takes from submission to its end, with a unit, e.g. 100s: the first polls aim there, then the run learns from its completed jobs (default: the model's figure, ~100 s for 5 s of video)"
    ),
    Options.optional
  ),
  pollVia: Options.choice("poll-via", ["auto", "status"]).pipe(
    Options.withDescription(
      "which URL polls ask. auto (default): the run's first poll asks a running job's result URL; if it answers \"not yet\" (QUEUED or PROCESSING, no video), jobs are polled there and the answer that says COMPLETED carries the video: 2 API calls a job instead of 3. It is safe on any server: any other answer (404, 5xx, HTML, an unknown body, no video) is never taken as the request gone or failed; that poll is asked again at the status URL and the run keeps to status URLs from then on (the log and report.json's run.polledVia say which URL was used and why). status: status URLs only, the route Segmind documents"
    ),
    Options.withDefault("auto" as const)
  ),
  logFormat: Options.choice("log-format", ["text", "json"]).pipe(
    Options.withDescription(
      "how progress is logged on stderr: text (a live view on a terminal, else one line per change of a job's state) or json (one object per line, with job and phase fields); default: text"
    ),
    Options.withDefault("text" as const)
  ),
  junit: Options.file("junit").pipe(
    Options.withDescription(
      "also write the outcome as JUnit XML to this file (one test case per job), for CI dashboards (default: none)"
    ),
    Options.optional
  ),
  notify: Options.text("notify").pipe(
    Options.withPseudoName("URL"),
    Options.withDescription(
      "when the run ends (completed, failed, stopped early or interrupted), POST one JSON summary to this URL: counts, cost, the run folder, the resume command; chat webhooks (Slack, Mattermost, Discord) show its text. A webhook that fails or takes over 10 s is a warning, never the run's failure; only the URL's origin is ever printed (default: none)"
    ),
    Options.mapEffect((text) =>
      Either.match(notifyTarget(text), {
        onLeft: (why) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(why))),
        onRight: Effect.succeed
      })
    ),
    Options.optional
  ),
  ...budgetFlags
}

export interface RenderFlags extends Budget {
  readonly concurrency: Option.Option<number>
  readonly rpm: Option.Option<number>
  readonly plan: Option.Option<SegmindPlan>
  readonly emulator: boolean
  readonly baseUrl: Option.Option<string>
  readonly retries: Option.Option<number>
  readonly retryBase: Option.Option<number>
  readonly retryCap: Option.Option<number>
  readonly jobDeadline: Option.Option<string>
  readonly deadline: Option.Option<string>
  readonly expect: Option.Option<string>
  readonly pollVia: "auto" | "status"
  readonly logFormat: "text" | "json"
  readonly junit: Option.Option<string>
  readonly notify: Option.Option<NotifyTarget>
}
