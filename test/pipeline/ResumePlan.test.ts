import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Job } from "../../src/domain/Job.js"
import { jobReportBase } from "../../src/domain/JobReport.js"
import { REQUEST_TTL, resumeStartOf } from "../../src/pipeline/ResumePlan.js"
import { type JournaledJob, plannedJob } from "../../src/store/JournalReader.js"
import { nodeContext } from "../support/TestRun.js"
import { jobOf } from "./JobHarness.js"

const job: Job = jobOf("pier", "A pier")
const submittedAt = Date.parse("2026-11-25T10:00:00Z")
const submitted = {
  _tag: "submitted" as const,
  at: new Date(submittedAt).toISOString(),
  jobId: "pier",
  requestId: "req-1",
  statusUrl: "http://api/v2/requests/req-1/status",
  responseUrl: "http://api/v2/requests/req-1",
  params: job.params,
  resubmitted: undefined
}
const state = (fields: Partial<JournaledJob>): JournaledJob => ({ ...plannedJob(job), ...fields })
const failedWith = (tag: string) => ({
  ...jobReportBase(job),
  status: "failed" as const,
  attempts: 1,
  requestId: "req-1",
  error: { tag, message: tag }
})
const decide = (journaled: JournaledJob, minutesLater: number, retryFailed = false, resendUncertain = false) =>
  resumeStartOf(journaled, "/nonexistent", submittedAt + minutesLater * 60_000, {
    retryFailed,
    resendUncertain,
    requestTtl: REQUEST_TTL
  })

describe("what a resume does with each job", () => {
  it.effect("a job the API accepted is polled again at any age; past the API's hour, the reason it would be sent again says so", () =>
    Effect.gen(function*() {
      const accepted = state({ submitAttempts: 1, submitted })
      const fresh = yield* decide(accepted, 59)
      expect(fresh).toMatchObject({ _tag: "Poll", submission: { requestId: "req-1" } })
      expect(fresh._tag === "Poll" && fresh.ifForgotten?.reason).toContain("no longer known to the API")
      const late = yield* decide(accepted, 61)
      expect(late).toMatchObject({ _tag: "Poll", ifForgotten: { previousRequestId: "req-1" } })
      expect(late._tag === "Poll" && late.ifForgotten?.reason).toContain("older than 1h")
    }).pipe(Effect.provide(nodeContext)))

  it.effect("a submit whose answer was never recorded is held, and sent again only with --resend-uncertain, named as possibly billed; a job never sent is just sent", () =>
    Effect.gen(function*() {
      const uncertain = { at: submitted.at, message: "the run stopped while its submit was on the wire" }
      const lost = state({ submitAttempts: 1, uncertain })
      expect(yield* decide(lost, 1)).toMatchObject({
        _tag: "Keep",
        report: { status: "failed", error: { tag: "SubmitUncertain", message: uncertain.message } }
      })
      const resent = yield* decide(lost, 1, false, true)
      expect(resent._tag === "Submit" && resent.resubmitted?.reason).toContain("may have been billed")
      expect(yield* decide(state({}), 1)).toEqual({ _tag: "Submit" })
      expect(yield* decide(state({ finished: { ...failedWith("RunAborted"), status: "skipped" } }), 1)).toEqual({
        _tag: "Submit"
      })
    }).pipe(Effect.provide(nodeContext)))

  it.effect("a failed generation stays failed unless --retry-failed, which renders it anew; a timed-out or broken download is fetched again", () =>
    Effect.gen(function*() {
      const generationFailed = state({ submitAttempts: 1, submitted, finished: failedWith("GenerationFailed") })
      expect(yield* decide(generationFailed, 5)).toMatchObject({ _tag: "Keep", report: { status: "failed" } })
      expect(yield* decide(generationFailed, 5, true)).toMatchObject({
        _tag: "Submit",
        resubmitted: { previousRequestId: "req-1" }
      })

      const timedOut = state({ submitAttempts: 1, submitted, finished: failedWith("PollDeadlineExceeded") })
      expect(yield* decide(timedOut, 20)).toMatchObject({ _tag: "Poll" })

      // Fetching a paid request again is free: a plain resume does it; only --retry-failed may pay if it is gone.
      const downloadBroke = state({ submitAttempts: 1, submitted, finished: failedWith("DownloadInvalid") })
      expect(yield* decide(downloadBroke, 5)).toMatchObject({ _tag: "Poll", ifForgotten: undefined })
      expect(yield* decide(downloadBroke, 5, true)).toMatchObject({
        _tag: "Poll",
        ifForgotten: { previousRequestId: "req-1" }
      })
      expect(yield* decide(downloadBroke, 90, true)).toMatchObject({
        _tag: "Poll",
        ifForgotten: { reason: expect.stringContaining("older than 1h") }
      })
    }).pipe(Effect.provide(nodeContext)))

  it.effect("a recorded video that is missing is downloaded again from its source URL", () =>
    Effect.gen(function*() {
      const downloaded = {
        _tag: "downloaded" as const,
        at: submitted.at,
        jobId: "pier",
        requestId: "req-1",
        output: { path: "videos/pier.mp4", bytes: 10, sha256: "0".repeat(64), sourceUrl: "http://files/pier.mp4" },
        paramsKey: "k",
        reusedFrom: undefined
      }
      expect(yield* decide(state({ submitAttempts: 1, submitted, downloaded }), 10)).toMatchObject({
        _tag: "Download",
        videoUrl: "http://files/pier.mp4",
        submission: { requestId: "req-1" }
      })
    }).pipe(Effect.provide(nodeContext)))
})
