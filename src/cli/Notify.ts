import { FileSystem, HttpClient, HttpClientRequest, Path } from "@effect/platform"
import { Cause, Duration, Effect, Either, Exit, Option, Redacted } from "effect"
import { TOOL_NAME, TOOL_VERSION } from "../domain/Tool.js"
import { formatDuration } from "../report/DurationFormat.js"
import type { Report } from "../report/Report.js"
import { decodeReport } from "../report/ReportFile.js"
import { formatUsd } from "../segmind/ModelCatalog.js"
import { runFiles } from "../store/RunDirectory.js"
import { ExitCode, exitCodeOf } from "./ExitCode.js"

/**
 * Where `--notify` posts a run's summary. Webhook URLs carry their token in
 * the path or query, so the URL stays redacted and only its origin is shown.
 */
export interface NotifyTarget {
  readonly url: Redacted.Redacted<string>
  readonly origin: string
}

/** `--notify`'s value as a target, or why it is refused: in words that do not repeat it, as it may hold a token. */
export const notifyTarget = (text: string): Either.Either<NotifyTarget, string> => {
  const url = URL.canParse(text) ? new URL(text) : undefined
  return url !== undefined && (url.protocol === "https:" || url.protocol === "http:")
    ? Either.right({ url: Redacted.make(url.href), origin: url.origin })
    : Either.left("--notify takes an http:// or https:// URL (the value given is not one, and is not repeated here)")
}

/** Past this a webhook is given up on: a summary is worth a warning at most, never a stuck cron job. */
export const NOTIFY_TIMEOUT = Duration.seconds(10)

/** How a run ended, as its summary tells it. */
export type RunEnding =
  | { readonly _tag: "Finished"; readonly report: Report }
  | { readonly _tag: "Interrupted"; readonly report: Report | undefined }
  | { readonly _tag: "Crashed"; readonly reason: string }

export type RunStatus = "completed" | "failed" | "stopped" | "interrupted" | "error"

/** The JSON a webhook gets: `text` (Slack, Mattermost) and `content` (Discord) say it in a line; the rest for scripts. */
export interface RunNotification {
  readonly text: string
  readonly content: string
  readonly tool: { readonly name: string; readonly version: string }
  readonly status: RunStatus
  readonly exitCode: number
  readonly run: {
    readonly id: string | undefined
    readonly name: string | undefined
    readonly directory: string
    readonly report: string
  }
  readonly summary: Report["summary"] | undefined
  readonly costUsd: number | undefined
  /** the command that carries the run on, where one would */
  readonly resume: string | undefined
  readonly failedJobs: ReadonlyArray<{ readonly id: string; readonly tag: string; readonly message: string }>
}

/** Discord refuses a `content` over 2000 characters. */
const TEXT_LIMIT = 1900

const statusOf = (ending: RunEnding): RunStatus => {
  switch (ending._tag) {
    case "Crashed":
      return "error"
    case "Interrupted":
      return "interrupted"
    case "Finished": {
      const code = exitCodeOf(ending.report)
      return code === ExitCode.Aborted ? "stopped" : code === ExitCode.Ok ? "completed" : "failed"
    }
  }
}

const costOf = ({ summary }: Report): string =>
  summary.cost !== undefined && summary.cost.usd > 0 ? `, cost ${formatUsd(summary.cost.usd)}` : ""

/** "4 completed, 2 failed, 0 skipped of 6 jobs in 1 min 3 s, cost $1.64" */
const counts = (report: Report): string => {
  const { summary } = report
  return [
    `${summary.completed} completed${(summary.reused ?? 0) > 0 ? ` (${summary.reused} reused)` : ""}`,
    `${summary.failed} failed`,
    `${summary.skipped} skipped`,
    ...((summary.running ?? 0) > 0 ? [`${summary.running} in flight`] : [])
  ].join(", ") + ` of ${summary.total} jobs in ${formatDuration(summary.wallMs, "exact")}${costOf(report)}`
}

/** "6 of 6 jobs (2 reused) in 1 min 3 s, cost $1.64." */
const completedCounts = (ending: RunEnding): string => {
  if (ending._tag === "Crashed" || ending.report === undefined) return ""
  const { summary } = ending.report
  return `${summary.completed} of ${summary.total} jobs${
    (summary.reused ?? 0) > 0 ? ` (${summary.reused} reused)` : ""
  } in ${formatDuration(summary.wallMs, "exact")}${costOf(ending.report)}.`
}

/** The summary of a run that ended, for a webhook; `runDirectory` is absolute, as the reader is elsewhere. */
export const runNotification = (ending: RunEnding, runDirectory: string, reportFile: string): RunNotification => {
  const status = statusOf(ending)
  const report = ending._tag === "Crashed" ? undefined : ending.report
  const label = report === undefined ? `the run in ${runDirectory}` : `${report.run.name ?? "run"} ${report.run.id}`
  const resume = status === "completed"
    ? undefined
    : `shotlist resume ${runDirectory}${status === "failed" ? " --retry-failed" : ""}`
  const said = report === undefined ? "" : ` ${counts(report)}.`
  const text = (() => {
    switch (status) {
      case "completed":
        return `${label} completed: ${completedCounts(ending)} Run folder: ${runDirectory}`
      case "failed":
        return `${label} finished with failures:${said} Report: ${reportFile}. Render the failed jobs again with: ${resume}`
      case "stopped":
        return `${label} stopped early on ${report?.run.aborted?.tag}: ${report?.run.aborted?.message}.${said} Once that is fixed, carry on with: ${resume}`
      case "interrupted":
        return `${label} was interrupted.${said} Carry on with: ${resume}`
      case "error":
        return `${label} ended with an error: ${
          ending._tag === "Crashed" ? ending.reason : ""
        }. Carry on with: ${resume}`
    }
  })()
  const line = `${TOOL_NAME}: ${text}`.slice(0, TEXT_LIMIT)
  return {
    text: line,
    content: line,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    status,
    exitCode: ending._tag === "Finished" ? exitCodeOf(ending.report) : ending._tag === "Interrupted"
      ? ExitCode.Interrupted
      : ExitCode.JobsFailed,
    run: { id: report?.run.id, name: report?.run.name, directory: runDirectory, report: reportFile },
    summary: report?.summary,
    costUsd: report?.summary.cost?.usd,
    resume,
    failedJobs: (report?.jobs ?? []).flatMap((job) =>
      job.status === "failed" && job.error !== undefined
        ? [{ id: job.id, tag: job.error.tag, message: job.error.message }]
        : []
    ).slice(0, 50)
  }
}

/**
 * POSTs the summary once. Whatever goes wrong (refused, an error status, no
 * answer in 10 s) is one warning naming only the URL's origin: it never fails
 * the run nor changes its exit code.
 */
export const postNotification = (target: NotifyTarget, notification: RunNotification) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const url = new URL(Redacted.value(target.url))
    // Credentials in the URL (https://user:pass@host/…) become Basic auth: the client sends a URL's origin and path only.
    const credentials = url.username === "" && url.password === ""
      ? undefined
      : [decodeURIComponent(url.username), decodeURIComponent(url.password)] as const
    url.username = ""
    url.password = ""
    const post = HttpClientRequest.post(url.href).pipe(HttpClientRequest.bodyUnsafeJson(notification))
    const request = credentials === undefined
      ? post
      : HttpClientRequest.basicAuth(post, Redacted.make(credentials[0]), Redacted.make(credentials[1]))
    const outcome = yield* http.execute(request).pipe(
      Effect.map((response) => response.status),
      Effect.scoped,
      // It runs as a finalizer of the run, where nothing is interruptible: the timeout must be able to cut it off.
      Effect.interruptible,
      Effect.timeout(NOTIFY_TIMEOUT),
      Effect.either
    )
    if (Either.isRight(outcome) && outcome.right >= 200 && outcome.right < 300) {
      return yield* Effect.logInfo(`summary sent to ${target.origin} (--notify)`)
    }
    const why = Either.isRight(outcome)
      ? `it answered HTTP ${outcome.right}`
      : outcome.left._tag === "TimeoutException"
      ? `no answer within ${Duration.format(NOTIFY_TIMEOUT)}`
      : "it could not be reached"
    yield* Effect.logWarning(
      `--notify: ${target.origin} did not take the run's summary (${why}); the run's outcome is unchanged`
    )
  }).pipe(
    Effect.catchAllCause(() => Effect.logWarning(`--notify: could not send the run's summary to ${target.origin}`))
  )

const reasonOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

/** The report an interrupted run wrote on its way out, if it got to write one. */
const reportOnDisk = (reportFile: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(reportFile)).pipe(
    Effect.flatMap(decodeReport),
    Effect.option,
    Effect.map(Option.getOrUndefined)
  )

/**
 * `run`, followed by one summary POSTed to `--notify`'s target however it
 * ends: with its report, interrupted (the report it wrote on the way out),
 * or failed outright. Without a target, `run` unchanged.
 */
export const notifyingRunEnd = (target: Option.Option<NotifyTarget>, runDirectory: string) =>
<E, R>(
  run: Effect.Effect<Report, E, R>
): Effect.Effect<Report, E, R | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
  Option.match(target, {
    onNone: () => run,
    onSome: (to) =>
      Effect.flatMap(Path.Path, (path) => {
        const directory = path.resolve(runDirectory)
        const reportFile = runFiles(path, directory).report
        const send = (ending: RunEnding) => postNotification(to, runNotification(ending, directory, reportFile))
        return Effect.onExit(run, (exit) =>
          Exit.match(exit, {
            onSuccess: (report) => send({ _tag: "Finished", report }),
            onFailure: (cause) =>
              Cause.isInterruptedOnly(cause)
                ? Effect.flatMap(reportOnDisk(reportFile), (report) => send({ _tag: "Interrupted", report }))
                : send({ _tag: "Crashed", reason: reasonOf(cause) })
          }))
      })
  })
