import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Job } from "../../src/domain/Job.js"
import { type JobReport, jobReportBase } from "../../src/domain/JobReport.js"
import { REQUEST_TTL, resumeStartOf } from "../../src/pipeline/ResumePlan.js"
import type { JournalEvent } from "../../src/store/Journal.js"
import { journaledRun } from "../../src/store/JournalReader.js"
import { nodeContext } from "../support/TestRun.js"
import { jobOf } from "./JobHarness.js"

/** What a resume decides for one job, from the journal's own lines: the fold and the decision together. */
const job: Job = jobOf("pier", "A pier")
const startMs = Date.parse("2026-11-25T10:00:00Z")
const at = (minutes: number) => new Date(startMs + minutes * 60_000).toISOString()
const VIDEO_URL = "http://files.test/req-1.mp4"

const line = {
  planned: (): JournalEvent => ({ _tag: "planned", at: at(0), job }),
  resumed: (minute: number): JournalEvent => ({ _tag: "resumed", at: at(minute), pid: 1 }),
  submitting: (
    minute: number,
    attempt = 1,
    resubmitted?: { reason: string; previousRequestId?: string }
  ): JournalEvent =>
    ({
      _tag: "submitting",
      at: at(minute),
      jobId: "pier",
      attempt,
      ...(resubmitted === undefined ? {} : { resubmitted })
    }) as JournalEvent,
  submitted: (minute: number, requestId = "req-1"): JournalEvent => ({
    _tag: "submitted",
    at: at(minute),
    jobId: "pier",
    requestId,
    statusUrl: `http://api.test/v2/requests/${requestId}/status`,
    responseUrl: `http://api.test/v2/requests/${requestId}`,
    params: job.params
  }),
  status: (minute: number, status: string): JournalEvent => ({
    _tag: "status",
    at: at(minute),
    jobId: "pier",
    requestId: "req-1",
    status
  }),
  result: (minute: number): JournalEvent =>
    ({
      _tag: "result",
      at: at(minute),
      jobId: "pier",
      requestId: "req-1",
      videoUrl: VIDEO_URL,
      metrics: { inference_time: 30 }
    }) as JournalEvent,
  failed: (minute: number, tag: string, requestId?: string): JournalEvent => ({
    _tag: "failed",
    at: at(minute),
    jobId: "pier",
    ...(requestId === undefined ? {} : { requestId }),
    error: { tag, message: `${tag} happened` }
  }),
  finished: (minute: number, report: Partial<JobReport> & Pick<JobReport, "status">): JournalEvent => ({
    _tag: "finished",
    at: at(minute),
    jobId: "pier",
    report: { ...jobReportBase(job), attempts: 1, ...report }
  })
}

const failure = (minute: number, tag: string, requestId?: string) => [
  line.failed(minute, tag, requestId),
  line.finished(minute, {
    status: "failed",
    ...(requestId === undefined ? {} : { requestId }),
    error: { tag, message: `${tag} happened` }
  })
]

const decide = (
  events: ReadonlyArray<JournalEvent>,
  minute: number,
  options: { readonly retryFailed?: boolean; readonly resendUncertain?: boolean } = {}
) =>
  resumeStartOf(journaledRun(events).jobs.get("pier")!, "/nonexistent", startMs + minute * 60_000, {
    retryFailed: options.retryFailed ?? false,
    resendUncertain: options.resendUncertain ?? false,
    requestTtl: REQUEST_TTL
  }).pipe(Effect.provide(nodeContext))

const heldUncertain = { _tag: "Keep", report: { status: "failed", error: { tag: "SubmitUncertain" } } }

describe("a submit whose outcome is unknown, across resumes", () => {
  it.effect("a submit answered 504 stays held on a plain resume; --resend-uncertain sends it, named as maybe billed twice", () =>
    Effect.gen(function*() {
      const journal = [line.planned(), line.submitting(1), ...failure(1, "SubmitUncertain")]
      expect(yield* decide(journal, 5)).toMatchObject(heldUncertain)
      const resend = yield* decide(journal, 5, { resendUncertain: true })
      expect(resend).toMatchObject({ _tag: "Submit", resubmitted: { reason: expect.stringContaining("billed twice") } })
      // --retry-failed is for failed jobs; an uncertain submit needs its own word.
      expect(yield* decide(journal, 5, { retryFailed: true })).toMatchObject(heldUncertain)
    }))

  it.effect("a submit on the wire when the process died is held like one answered 504", () =>
    Effect.gen(function*() {
      const journal = [line.planned(), line.submitting(1)]
      expect(yield* decide(journal, 5)).toMatchObject(heldUncertain)
      expect(yield* decide([...journal, line.resumed(3)], 5)).toMatchObject(heldUncertain)
      expect(yield* decide(journal, 5, { resendUncertain: true })).toMatchObject({
        _tag: "Submit",
        resubmitted: { reason: expect.stringContaining("billed twice") }
      })
    }))

  it.effect("the mark survives a resume whose resend the API refused (a bad key), and one that stopped before sending it", () =>
    Effect.gen(function*() {
      const refused = [
        line.planned(),
        line.submitting(1),
        ...failure(1, "SubmitUncertain"),
        line.resumed(3),
        line.submitting(3, 2),
        line.finished(3, { status: "skipped", error: { tag: "Unauthorized", message: "bad key" } })
      ]
      expect(yield* decide(refused, 5)).toMatchObject(heldUncertain)
      expect(yield* decide(refused, 5, { resendUncertain: true })).toMatchObject({
        _tag: "Submit",
        resubmitted: { reason: expect.stringContaining("billed twice") }
      })

      const notReached = [
        line.planned(),
        line.submitting(1),
        line.resumed(3),
        line.finished(3, { status: "skipped", error: { tag: "RunAborted", message: "the run stopped" } })
      ]
      expect(yield* decide(notReached, 5)).toMatchObject(heldUncertain)
    }))

  it.effect("a resubmit the API refused (a bad key) is named again when the job is finally sent", () =>
    Effect.gen(function*() {
      const resubmitted = { reason: "request req-1 was no longer known to the API", previousRequestId: "req-1" }
      const journal = [
        line.planned(),
        line.submitting(1),
        line.submitted(1),
        line.resumed(90),
        line.submitting(90, 2, resubmitted),
        line.finished(90, { status: "skipped", error: { tag: "Unauthorized", message: "bad key" } })
      ]
      expect(yield* decide(journal, 95)).toEqual({ _tag: "Submit", resubmitted })
    }))

  it.effect("the mark goes once the job is really sent again and accepted: then its new request is polled", () =>
    Effect.gen(function*() {
      const journal = [
        line.planned(),
        line.submitting(1),
        ...failure(1, "SubmitUncertain"),
        line.resumed(3),
        line.submitting(3, 2),
        line.submitted(3, "req-2")
      ]
      expect(yield* decide(journal, 5)).toMatchObject({ _tag: "Poll", submission: { requestId: "req-2" } })
    }))
})

describe("a paid job whose video URL or request id the journal holds", () => {
  it.effect("a result journaled before a crash mid-download is downloaded from its URL, hours later, before anything is paid again", () =>
    Effect.gen(function*() {
      const journal = [
        line.planned(),
        line.submitting(1),
        line.submitted(1),
        line.status(3, "COMPLETED"),
        line.result(3)
      ]
      for (const minute of [10, 120, 24 * 60]) {
        expect(yield* decide(journal, minute), `${minute} min later`).toMatchObject({
          _tag: "Download",
          videoUrl: VIDEO_URL,
          submission: { requestId: "req-1" }
        })
      }
    }))

  it.effect("a request older than the API's hour is asked once at its status URL, not sent again by the clock alone", () =>
    Effect.gen(function*() {
      const journal = [line.planned(), line.submitting(1), line.submitted(1), line.status(3, "PROCESSING")]
      const late = yield* decide(journal, 90)
      expect(late).toMatchObject({ _tag: "Poll", submission: { requestId: "req-1" } })
      // Sent again only if the API answers that it no longer knows the request, and then named.
      expect(late._tag === "Poll" && late.ifForgotten?.reason).toContain("older than 1h")
    }))

  it.effect("a recorded video that is missing is downloaded again from its source URL, even past the API's hour", () =>
    Effect.gen(function*() {
      const downloaded: JournalEvent = {
        _tag: "downloaded",
        at: at(4),
        jobId: "pier",
        requestId: "req-1",
        output: { path: "videos/pier.mp4", bytes: 10, sha256: "0".repeat(64), sourceUrl: VIDEO_URL },
        paramsKey: "k"
      }
      const journal = [line.planned(), line.submitting(1), line.submitted(1), downloaded]
      expect(yield* decide(journal, 180)).toMatchObject({ _tag: "Download", videoUrl: VIDEO_URL })
    }))

  it.effect("a plain resume polls or downloads every paid job whose failure was not the generation's; asking again costs nothing", () =>
    Effect.gen(function*() {
      const accepted = [line.planned(), line.submitting(1), line.submitted(1)]
      for (
        const tag of [
          "Unauthorized",
          "UnexpectedResponse",
          "ResultExpired",
          "ServerError",
          "TransportError",
          "RateLimited",
          "NoVideoUrl"
        ]
      ) {
        const start = yield* decide([...accepted, ...failure(2, tag, "req-1")], 10)
        expect(start, tag).toMatchObject({ _tag: "Poll", submission: { requestId: "req-1" } })
        // A plain resume never pays: if the API has forgotten the request, the job stays failed.
        expect(start._tag === "Poll" && start.ifForgotten, tag).toBeUndefined()
        const retried = yield* decide([...accepted, ...failure(2, tag, "req-1")], 10, { retryFailed: true })
        expect(retried._tag === "Poll" && retried.ifForgotten?.reason, tag).toEqual(expect.any(String))
      }
      // A job that ran out of time had not ended: like one in flight at a crash, it is sent again if the API forgot it.
      const timedOut = yield* decide([...accepted, ...failure(2, "PollDeadlineExceeded", "req-1")], 10)
      expect(timedOut._tag === "Poll" && timedOut.ifForgotten?.previousRequestId).toBe("req-1")
      const withVideo = [...accepted, line.status(3, "COMPLETED"), line.result(3)]
      for (const tag of ["DownloadInvalid", "RateLimited", "ServerError", "ResultExpired"]) {
        expect(yield* decide([...withVideo, ...failure(4, tag, "req-1")], 10), tag).toMatchObject({
          _tag: "Download",
          videoUrl: VIDEO_URL
        })
      }
    }))

  it.effect("a failed generation (422) or a video that is not what was asked stays failed; --retry-failed renders it anew, named", () =>
    Effect.gen(function*() {
      const accepted = [line.planned(), line.submitting(1), line.submitted(1)]
      for (const tag of ["GenerationFailed", "VideoMismatch"]) {
        const journal = [...accepted, line.result(3), ...failure(4, tag, "req-1")]
        expect(yield* decide(journal, 10), tag).toMatchObject({ _tag: "Keep", report: { status: "failed" } })
        expect(yield* decide(journal, 10, { retryFailed: true }), tag).toMatchObject({
          _tag: "Submit",
          resubmitted: { previousRequestId: "req-1", reason: expect.stringContaining("--retry-failed") }
        })
      }
    }))
})
