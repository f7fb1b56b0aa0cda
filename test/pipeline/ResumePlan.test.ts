import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Job } from "../../src/domain/Job.js"
import { jobReportBase } from "../../src/domain/JobReport.js"
import { REQUEST_TTL, resumeStartOf } from "../../src/pipeline/ResumePlan.js"
import { type JournaledJob, plannedJob } from "../../src/store/JournalReader.js"
import { nodeContext } from "../support/TestRun.js"

const job: Job = {
  id: "pier",
  shot: "pier",
  seed: 7,
  seedDrawn: false,
  params: {
    prompt: "A pier",
    duration: 4,
    resolution: "480p",
    aspect_ratio: "16:9",
    seed: 7,
    camera_fixed: false,
    generate_audio: false,
    skip_moderation: false
  }
}
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
const decide = (journaled: JournaledJob, minutesLater: number, retryFailed = false) =>
  resumeStartOf(journaled, "/nonexistent", submittedAt + minutesLater * 60_000, {
    retryFailed,
    requestTtl: REQUEST_TTL
  })

describe("what a resume does with each job", () => {
  it.effect("a job the API accepted is polled again while the API keeps it, and sent again (said why) after an hour", () =>
    Effect.gen(function*() {
      const accepted = state({ submitAttempts: 1, submitted })
      expect(yield* decide(accepted, 59)).toMatchObject({ _tag: "Poll", submission: { requestId: "req-1" } })
      const late = yield* decide(accepted, 61)
      expect(late).toMatchObject({ _tag: "Submit", resubmitted: { previousRequestId: "req-1" } })
      expect(late._tag === "Submit" && late.resubmitted?.reason).toContain("older than 1h")
    }).pipe(Effect.provide(nodeContext)))

  it.effect("a submit whose answer was never recorded is sent again and named as possibly billed; a job never sent is just sent", () =>
    Effect.gen(function*() {
      const lost = yield* decide(state({ submitAttempts: 1, submitUnanswered: true }), 1)
      expect(lost._tag === "Submit" && lost.resubmitted?.reason).toContain("may have been billed")
      expect(yield* decide(state({}), 1)).toEqual({ _tag: "Submit" })
      expect(yield* decide(state({ finished: { ...failedWith("RunAborted"), status: "skipped" } }), 1)).toEqual({
        _tag: "Submit"
      })
    }).pipe(Effect.provide(nodeContext)))

  it.effect("failed jobs stay failed unless --retry-failed; a timed-out request is polled again, a FAILED generation is rendered anew", () =>
    Effect.gen(function*() {
      const generationFailed = state({ submitAttempts: 1, submitted, finished: failedWith("GenerationFailed") })
      expect(yield* decide(generationFailed, 5)).toMatchObject({ _tag: "Keep", report: { status: "failed" } })
      expect(yield* decide(generationFailed, 5, true)).toMatchObject({
        _tag: "Submit",
        resubmitted: { previousRequestId: "req-1" }
      })

      const timedOut = state({ submitAttempts: 1, submitted, finished: failedWith("PollDeadlineExceeded") })
      expect(yield* decide(timedOut, 20)).toMatchObject({ _tag: "Poll" })

      const downloadBroke = state({ submitAttempts: 1, submitted, finished: failedWith("DownloadInvalid") })
      expect(yield* decide(downloadBroke, 5)).toMatchObject({ _tag: "Keep" })
      expect(yield* decide(downloadBroke, 5, true)).toMatchObject({ _tag: "Poll" })
      expect(yield* decide(downloadBroke, 90, true)).toMatchObject({ _tag: "Submit" })
    }).pipe(Effect.provide(nodeContext)))

  it.effect("a recorded video that is missing is downloaded again from the request while it is known", () =>
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
      expect(yield* decide(state({ submitAttempts: 1, submitted, downloaded }), 10)).toMatchObject({ _tag: "Poll" })
    }).pipe(Effect.provide(nodeContext)))
})
