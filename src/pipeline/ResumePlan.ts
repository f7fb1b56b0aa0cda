import { type FileSystem, Path } from "@effect/platform"
import { Duration, Effect } from "effect"
import { type JobReport, jobReportBase } from "../domain/JobReport.js"
import { fileMatches } from "../store/FileDigest.js"
import type { JournaledJob } from "../store/JournalReader.js"
import { JobStart } from "./JobStart.js"

/** How long Segmind keeps a request's status and result (segmind-v2-api.md): past it, a request id is worth nothing. */
export const REQUEST_TTL = Duration.hours(1)

export interface ResumeOptions {
  /** send failed jobs again (`--retry-failed`) */
  readonly retryFailed: boolean
  readonly requestTtl: Duration.Duration
}

/** A job a resume keeps as it ended, or where it carries it on. */
export type ResumeStart = { readonly _tag: "Keep"; readonly report: JobReport } | JobStart

/** Errors after which polling the same request again cannot help: a retry must render anew. */
const RENDER_AGAIN = new Set([
  "GenerationFailed",
  "BadRequest",
  "SubmitUncertain",
  "ResultExpired",
  "ModelNotFound",
  "VideoMismatch"
])

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

/**
 * Decides how a resumed run carries one job on, from what the journal
 * recorded: a verified video is kept; a request the API still knows is polled
 * again, never submitted again; only a request it cannot know any more (or a
 * submit whose id was never recorded) is sent again, and the report says so.
 */
export const resumeStartOf = (
  state: JournaledJob,
  runDirectory: string,
  nowMs: number,
  options: ResumeOptions
): Effect.Effect<ResumeStart, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const { submitted } = state
    const requestFresh = submitted !== undefined &&
      nowMs - Date.parse(submitted.at) < Duration.toMillis(options.requestTtl)
    const poll: JobStart | undefined = submitted !== undefined && requestFresh
      ? JobStart.Poll({
        submission: {
          requestId: submitted.requestId,
          statusUrl: submitted.statusUrl,
          responseUrl: submitted.responseUrl
        },
        submittedAtMs: Date.parse(submitted.at),
        params: submitted.params,
        frames: submitted.frames,
        submitAttempts: Math.max(1, state.submitAttempts),
        resubmitted: submitted.resubmitted
      })
      : undefined
    const submitAgain = (reason: string): JobStart =>
      JobStart.Submit({
        resubmitted: { reason, ...(submitted === undefined ? {} : { previousRequestId: submitted.requestId }) }
      })
    const expired = (what: string) =>
      submitAgain(
        `${what}, and request ${submitted?.requestId ?? "?"} is older than ${
          Duration.format(options.requestTtl)
        }, past which the API no longer keeps it: submitted again`
      )

    if (state.downloaded !== undefined) {
      const { output } = state.downloaded
      if (yield* fileMatches(path.join(runDirectory, output.path), output.sha256)) {
        return {
          _tag: "Keep",
          report: state.finished?.status === "completed"
            ? state.finished
            : rebuiltReport(state, {
              status: "completed",
              output,
              ...(state.downloaded.reusedFrom === undefined ? {} : { reusedFrom: state.downloaded.reusedFrom })
            })
        }
      }
      if (poll !== undefined) return poll
      if (submitted === undefined) return JobStart.Submit({})
      return expired(`its video ${output.path} is missing or changed`)
    }

    const failure = state.finished ??
      (state.failed === undefined ? undefined : rebuiltReport(state, { status: "failed", error: state.failed.error }))
    if (failure !== undefined && failure.status !== "skipped") {
      const tag = failure.error?.tag ?? ""
      // A job that ran out of time was never lost: its request can still end.
      if (tag === "PollDeadlineExceeded" && poll !== undefined) return poll
      if (!options.retryFailed) return { _tag: "Keep", report: failure }
      if (poll !== undefined && !RENDER_AGAIN.has(tag)) return poll
      return submitAgain(`--retry-failed: it had failed with ${tag}`)
    }
    if (failure !== undefined) return JobStart.Submit({})

    if (submitted !== undefined) return poll ?? expired("it had not ended")
    if (state.submitUnanswered) {
      return submitAgain(
        "its earlier submit was sent but the run stopped before the answer was recorded: sent again; that earlier submit may have been billed too"
      )
    }
    return JobStart.Submit({})
  })
