import { type FileSystem, Path } from "@effect/platform"
import { Duration, Effect } from "effect"
import { type JobReport, jobReportBase, type Resubmitted } from "../domain/JobReport.js"
import { fileMatches } from "../store/FileDigest.js"
import type { JournaledJob, UncertainSubmit } from "../store/JournalReader.js"
import { JobStart } from "./JobStart.js"

/** How long Segmind keeps a request's status and result (segmind-v2-api.md): past it, a 404 is what to expect. */
export const REQUEST_TTL = Duration.hours(1)

export interface ResumeOptions {
  /** render failed jobs again, paying for them (`--retry-failed`) */
  readonly retryFailed: boolean
  /** send again the submits whose outcome is unknown, each of which may then be billed twice (`--resend-uncertain`) */
  readonly resendUncertain: boolean
  readonly requestTtl: Duration.Duration
}

/** A job a resume keeps as it ended, or where it carries it on. */
export type ResumeStart = { readonly _tag: "Keep"; readonly report: JobReport } | JobStart

/** Failures of the generation itself: asking the API again cannot change them, only a new (paid) render can. */
const GENERATION_FAILED = new Set(["GenerationFailed", "VideoMismatch"])

/** Failures after which the request may still end: the job was never lost, so a forgotten request is sent again. */
const NOT_ENDED = new Set(["PollDeadlineExceeded"])

/** The report a journal can rebuild for a job whose `finished` line a crash cut off. */
const rebuiltReport = (state: JournaledJob, fields: Pick<JobReport, "status"> & Partial<JobReport>): JobReport => ({
  ...jobReportBase(state.job),
  ...(state.submitted === undefined
    ? {}
    : {
      params: state.submitted.params,
      ...(state.submitted.frames === undefined ? {} : { frames: state.submitted.frames }),
      requestId: state.submitted.requestId,
      submittedAt: state.submitted.at,
      ...(state.submitted.resubmitted === undefined ? {} : { resubmitted: state.submitted.resubmitted })
    }),
  attempts: Math.max(1, state.submitAttempts),
  ...fields
})

const keep = (report: JobReport): ResumeStart => ({ _tag: "Keep", report })

/** Held, or sent again when the user said so: never sent again silently. */
const uncertainStart = (state: JournaledJob, uncertain: UncertainSubmit, options: ResumeOptions): ResumeStart => {
  if (options.resendUncertain) {
    return JobStart.Submit({
      resubmitted: {
        reason:
          `--resend-uncertain: its earlier submit (${uncertain.at}) may have been billed though no request id came back; sent again, it may be billed twice`
      }
    })
  }
  return keep(
    state.finished?.error?.tag === "SubmitUncertain"
      ? state.finished
      : rebuiltReport(state, { status: "failed", error: { tag: "SubmitUncertain", message: uncertain.message } })
  )
}

/** How the job ended before, unless it was never sent (skipped). */
const failureOf = (state: JournaledJob): JobReport | undefined => {
  const ended = state.finished ??
    (state.failed === undefined ? undefined : rebuiltReport(state, { status: "failed", error: state.failed.error }))
  return ended?.status === "skipped" ? undefined : ended
}

/** What the report says if the API no longer knows the request and the job is sent again. */
const forgotten = (
  submitted: NonNullable<JournaledJob["submitted"]>,
  nowMs: number,
  ttl: Duration.Duration
): Resubmitted => ({
  reason: nowMs - Date.parse(submitted.at) >= Duration.toMillis(ttl)
    ? `request ${submitted.requestId} is older than ${
      Duration.format(ttl)
    }, past which the API no longer keeps it, and the API no longer knew it: submitted again`
    : `request ${submitted.requestId} was no longer known to the API: submitted again`,
  previousRequestId: submitted.requestId
})

/**
 * Decides how a resumed run carries one job on, from what the journal
 * recorded. A verified video is kept. Whatever can be fetched again for free
 * is: a journaled video URL is downloaded, a request id is asked at its status
 * URL (at any age: the API says whether it still knows it). A job is sent
 * again, and the report says why, only when nothing can be fetched: a request
 * the API forgot, a submit never sent, a failed generation with
 * `--retry-failed`, or an uncertain submit with `--resend-uncertain`.
 */
export const resumeStartOf = (
  state: JournaledJob,
  runDirectory: string,
  nowMs: number,
  options: ResumeOptions
): Effect.Effect<ResumeStart, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const { downloaded, submitted } = state
    if (
      downloaded !== undefined &&
      (yield* fileMatches(path.join(runDirectory, downloaded.output.path), downloaded.output.sha256))
    ) {
      return keep(
        state.finished?.status === "completed"
          ? state.finished
          : rebuiltReport(state, {
            status: "completed",
            output: downloaded.output,
            ...(downloaded.reusedFrom === undefined ? {} : { reusedFrom: downloaded.reusedFrom })
          })
      )
    }
    if (state.uncertain !== undefined) return uncertainStart(state, state.uncertain, options)

    const failure = failureOf(state)
    const tag = failure?.error?.tag ?? ""
    const retried: Resubmitted = {
      reason: `--retry-failed: it had failed with ${tag}`,
      ...(submitted === undefined ? {} : { previousRequestId: submitted.requestId })
    }
    if (submitted === undefined) {
      // A resubmit that never got a request id (refused, or stopped before it was sent) keeps its reason.
      if (failure === undefined) {
        return JobStart.Submit(state.resubmitting === undefined ? {} : { resubmitted: state.resubmitting })
      }
      return options.retryFailed ? JobStart.Submit({ resubmitted: retried }) : keep(failure)
    }
    if (failure !== undefined && GENERATION_FAILED.has(tag)) {
      return options.retryFailed ? JobStart.Submit({ resubmitted: retried }) : keep(failure)
    }

    // A failed job is fetched again for free; it is paid for again only with --retry-failed.
    const mayResubmit = failure === undefined || NOT_ENDED.has(tag) || options.retryFailed
    const accepted = {
      submission: {
        requestId: submitted.requestId,
        statusUrl: submitted.statusUrl,
        responseUrl: submitted.responseUrl
      },
      submittedAtMs: Date.parse(submitted.at),
      params: submitted.params,
      frames: submitted.frames,
      submitAttempts: Math.max(1, state.submitAttempts),
      resubmitted: submitted.resubmitted,
      ifForgotten: mayResubmit ? forgotten(submitted, nowMs, options.requestTtl) : undefined
    }
    if (state.result !== undefined) {
      const { at, metrics, videoUrl } = state.result
      return JobStart.Download({ ...accepted, videoUrl, metrics, endedAtMs: Date.parse(at) })
    }
    if (downloaded !== undefined && downloaded.reusedFrom === undefined) {
      return JobStart.Download({
        ...accepted,
        videoUrl: downloaded.output.sourceUrl,
        metrics: {},
        endedAtMs: Date.parse(downloaded.at)
      })
    }
    return JobStart.Poll(accepted)
  })
