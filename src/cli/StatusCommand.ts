import { Args, Command, Options } from "@effect/cli"
import { Console, Duration, Effect } from "effect"
import { REQUEST_TTL } from "../pipeline/ResumePlan.js"
import { formatDuration } from "../report/DurationFormat.js"
import { formatUsd } from "../segmind/ModelCatalog.js"
import { JOB_STATES, type JobState } from "../store/RunIndex.js"
import { type LockStatus, type RunStatus, runStatus } from "./RunStatus.js"
import { reportUsageError, usageError } from "./UsageErrors.js"

const STATE_LABELS: Readonly<Record<JobState, string>> = {
  planned: "planned",
  uncertain: "submitting/uncertain",
  inFlight: "in flight",
  completed: "completed",
  reused: "reused",
  failed: "failed",
  skipped: "skipped"
}

const lockLine = (lock: LockStatus): string => {
  switch (lock.state) {
    case "free":
      return "free: no process works in the run"
    case "unreadable":
      return "a lock file that does not read as a lock: the next resume takes it over"
    case "held":
      return `held by pid ${lock.pid} on ${lock.host} since ${lock.since}: the run is going on now`
    case "stale":
      return `left by pid ${lock.pid} on ${lock.host} (since ${lock.since}), which is no longer running: a resume takes it over`
  }
}

const padded = (texts: ReadonlyArray<string>) => {
  const width = Math.max(0, ...texts.map((text) => text.length))
  return (text: string) => text.padEnd(width)
}

/** `shotlist status RUN_DIR`, as text. */
export const renderRunStatus = (status: RunStatus): string => {
  const lines: Array<string> = []
  const ttl = Duration.format(REQUEST_TTL)
  lines.push(`run ${status.runId} of ${status.name} (${status.runDirectory})`)
  if (status.manifest !== undefined) lines.push(`  manifest  ${status.manifest.path}`)
  if (status.baseUrl !== undefined) {
    lines.push(
      `  target    ${
        status.emulator === true ? `the embedded emulator (${status.baseUrl})` : status.baseUrl
      }, model ${status.model}`
    )
  }
  const resumed = status.resumedAt.length === 0
    ? ""
    : `; resumed ${status.resumedAt.length}×, last at ${status.resumedAt.at(-1)}`
  lines.push(`  started   ${status.startedAt ?? "?"}${resumed}`)
  lines.push(
    `  last line ${status.lastActivityAt ?? "?"}${status.tornLine ? " (a torn line after it: a crash mid-write)" : ""}`
  )
  lines.push(`  lock      ${lockLine(status.lock)}`)
  lines.push(
    `jobs (${status.jobs.total}): ${
      JOB_STATES.map((state) => `${status.jobs[state]} ${STATE_LABELS[state]}`).join(", ")
    }`
  )
  lines.push(`cost so far: ${formatUsd(status.costUsd)} (the API's figures for the jobs that ended)`)

  if (status.inFlight.length > 0) {
    lines.push(`in flight (the API keeps a request for ${ttl}):`)
    const job = padded(status.inFlight.map((request) => request.job))
    const id = padded(status.inFlight.map((request) => request.requestId))
    for (const request of status.inFlight) {
      const age = `submitted ${formatDuration(request.ageMs, "clock")} ago`
      const where = request.pastRetention
        ? `past ${ttl}: the API no longer keeps it, a resume submits the job again`
        : request.lastStatus ?? "no status seen yet"
      lines.push(`  ${job(request.job)}  ${id(request.requestId)}  ${age}, ${where}`)
    }
  }
  if (status.uncertain.length > 0) {
    lines.push("submitting/uncertain (no request id recorded):")
    for (const entry of status.uncertain) lines.push(`  ${entry.job}: ${entry.why}`)
  }
  if (status.failed.length > 0) {
    lines.push("failed:")
    for (const entry of status.failed) lines.push(`  ${entry.job}: ${entry.tag}: ${entry.message}`)
  }

  const { resume } = status
  lines.push(
    `resume would: poll ${resume.poll} (already paid for), download ${resume.download} (finished, from its URL), submit ${resume.submit}, resubmit ${resume.resubmit}, keep ${resume.keep}${
      resume.failedKept > 0 ? ` (${resume.failedKept} of them failed; --retry-failed renders those again)` : ""
    }`
  )
  lines.push(resume.command === undefined ? `  not now: ${resume.note}` : `  ${resume.command}`)
  return lines.join("\n")
}

export const statusCommand = Command.make(
  "status",
  {
    runDirectory: Args.directory({ name: "RUN_DIR" }).pipe(
      Args.withDescription("a run directory (it holds journal.jsonl), running, finished or crashed")
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription(
        "print one JSON document on stdout: jobs by state, cost, requests in flight, the lock, and what a resume would do (default: text)"
      )
    )
  },
  (args) =>
    runStatus(args.runDirectory).pipe(
      Effect.catchTags({
        JournalCorrupt: (corrupt) =>
          usageError(`${corrupt.file}:${corrupt.line}: ${corrupt.message}; the journal was damaged or edited`),
        SystemError: (error) =>
          error.reason === "NotFound"
            ? usageError(`${args.runDirectory} holds no journal.jsonl: it is no run directory`)
            : Effect.fail(error)
      }),
      Effect.flatMap((status) => Console.log(args.json ? JSON.stringify(status, null, 2) : renderRunStatus(status))),
      Effect.catchTag("UsageError", reportUsageError)
    )
).pipe(
  Command.withDescription(
    "What a run did or is doing, read from its journal alone (safe beside a live run and after a crash; takes no lock, writes nothing): jobs by state, the cost so far, requests in flight and their age against the API's 1 h retention, whether a process holds the run now, and what `shotlist resume` would do, with the command."
  )
)
