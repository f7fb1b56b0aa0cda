import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { SEEDANCE_MODEL } from "../../src/domain/SeedanceParams.js"
import { makeClipRenderer } from "../../src/emulator/ClipRenderer.js"
import { JobStart } from "../../src/pipeline/JobStart.js"
import { paramsKeyOf, type ReuseIndex } from "../../src/pipeline/ReuseCache.js"
import { sha256Hex } from "../../src/store/FileDigest.js"
import { TEST_CLIP_CACHE, testEmulator } from "../support/TestRun.js"
import { emulated, isSubmit, jobOf, renderJob, stubApi, withScript } from "./JobHarness.js"

describe("one job, phase by phase", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped("a submit the API refuses (400) fails the job with no request id, and is not sent again", () =>
      Effect.gen(function*() {
        const submits: Array<string> = []
        const api = stubApi((url) => {
          if (!isSubmit(url)) return undefined
          submits.push(url)
          return { status: 400, body: { error: "duration must be 4 to 12" } }
        })
        const { journal, report, tags, told } = yield* renderJob(api, jobOf("refused"))
        expect(report).toMatchObject({
          status: "failed",
          attempts: 1,
          error: { tag: "BadRequest", httpStatus: 400, message: "duration must be 4 to 12" }
        })
        expect(report.requestId).toBeUndefined()
        expect(tags).toEqual(["submitting", "failed", "finished"])
        expect(journal[1]).not.toHaveProperty("requestId")
        expect(submits).toHaveLength(1)
        expect(told.at(-1)).toMatchObject({ phase: "failed", message: "failed: BadRequest: duration must be 4 to 12" })
      }))

    it.scoped("a submit whose answer is lost after the API took it is SubmitUncertain: failed, and never sent again", () =>
      Effect.gen(function*() {
        const emulator = yield* withScript({ endpoint: "submit", call: 1, fault: "drop-after" })
        const { report, tags } = yield* renderJob(emulated(emulator), jobOf("lost"))
        expect(report).toMatchObject({ status: "failed", attempts: 1, error: { tag: "SubmitUncertain" } })
        expect(report.error?.message).toContain("not re-sent, to avoid paying twice")
        expect(report.requestId).toBeUndefined()
        expect((yield* emulator.stats).submissions).toBe(1)
        expect(tags).toEqual(["submitting", "failed", "finished"])
      }))

    it.scoped("a generation the API ends FAILED fails the job with its request id and the API's reason", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const { journal, report } = yield* renderJob(emulated(emulator), jobOf("blocked", "A forbidden scene."))
        const requestId = (yield* emulator.stats).submitted[0]!.requestId
        expect(report).toMatchObject({
          status: "failed",
          requestId,
          error: {
            tag: "GenerationFailed",
            httpStatus: 422,
            message: "The request was blocked by content moderation",
            detail: `request ${requestId}`
          }
        })
        expect(journal.find((event) => event._tag === "failed")).toMatchObject({ requestId })
        expect(report.output).toBeUndefined()
      }))

    it.scoped("a completed result that names no video URL fails the job with NoVideoUrl", () =>
      Effect.gen(function*() {
        const api = stubApi((url) =>
          url === "https://api.test/v2/requests/req-1" ? { status: 200, body: { status: "COMPLETED" } } : undefined
        )
        const { report, tags } = yield* renderJob(api, jobOf("no-video"))
        expect(report).toMatchObject({
          status: "failed",
          requestId: "req-1",
          attempts: 1,
          error: { tag: "NoVideoUrl", detail: "request req-1" }
        })
        expect(report.error?.message).toContain("names no video URL")
        expect(tags).toEqual(["submitting", "submitted", "status", "failed", "finished"])
      }))

    it.scoped("a download cut short is fetched again: completed, and the report counts the tries of every phase", () =>
      Effect.gen(function*() {
        const emulator = yield* withScript(
          { endpoint: "submit", call: 1, fault: "503" },
          { endpoint: "status", call: 1, fault: "503" },
          { endpoint: "download", call: 1, fault: "truncate" }
        )
        // Status URLs polled, where the 503 is scripted.
        const { journal, report, runDirectory, told } = yield* renderJob(emulated(emulator), jobOf("cut"), {
          poll: { pollVia: "status" }
        })
        const stats = yield* emulator.stats
        const served = Option.getOrThrow(yield* emulator.servedFile(report.requestId!))
        expect(report).toMatchObject({ status: "completed", attempts: 4, output: { path: "videos/cut.mp4" } })
        expect(report.output!.sha256).toBe(served.sha256)
        const fs = yield* FileSystem.FileSystem
        expect(sha256Hex(yield* fs.readFile(`${runDirectory}/videos/cut.mp4`))).toBe(served.sha256)
        expect(stats.submissions).toBe(1)
        expect(stats.requestsByEndpoint["download"]).toBe(2)
        expect(report.statusPolls).toBeGreaterThanOrEqual(1)
        // The second submit says it is the second attempt, before it is sent.
        expect(journal.filter((event) => event._tag === "submitting").map((event) => event.attempt)).toEqual([1, 2])
        expect(told.map((event) => event.phase)).toEqual(expect.arrayContaining(["submitted", "downloading"]))
        expect(told.at(-1)).toMatchObject({ phase: "completed", message: expect.stringMatching(/^completed: videos/) })
      }))

    it.scoped("once a fatal answer has closed the run's gate, a job is skipped without being sent", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const { report, tags, told } = yield* renderJob(emulated(emulator), jobOf("late"), {
          stoppedBy: { tag: "InsufficientCredits", message: "no credits left", httpStatus: 406 }
        })
        expect(report).toMatchObject({
          status: "skipped",
          attempts: 1,
          error: { tag: "RunAborted", message: "not submitted: the run stopped on InsufficientCredits" }
        })
        expect((yield* emulator.stats).requests).toEqual([])
        expect(tags).toEqual(["finished"])
        expect(told.map((event) => event.phase)).toEqual(["skipped"])
      }))

    it.scoped("a job with the same model and body as a verified earlier video takes that video: reused, nothing sent", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const emulator = yield* testEmulator()
        const earlier = yield* fs.makeTempDirectoryScoped()
        // A real video of what the job asks for (4 s, no audio): a reused file is checked as an MP4.
        const clip = yield* Effect.flatMap(
          makeClipRenderer(TEST_CLIP_CACHE),
          (render) => render({ width: 864, height: 496, durationSeconds: 4, audio: false })
        )
        const bytes = yield* fs.readFile(clip.path)
        yield* fs.writeFile(`${earlier}/video.mp4`, bytes)
        const job = jobOf("again")
        const key = paramsKeyOf(SEEDANCE_MODEL, job, {})
        const candidate = {
          runId: "run-a",
          runDirectory: earlier,
          jobId: "first",
          file: `${earlier}/video.mp4`,
          output: { path: "videos/first.mp4", bytes: bytes.length, sha256: sha256Hex(bytes), sourceUrl: "x" }
        }
        const reuse: ReuseIndex = { find: (wanted) => (wanted === key ? candidate : undefined), size: 1 }
        const { journal, report, runDirectory, told } = yield* renderJob(emulated(emulator), job, { reuse })
        expect(report).toMatchObject({
          status: "completed",
          attempts: 0,
          reusedFrom: { run: "run-a", job: "first" },
          output: { path: "videos/again.mp4", sha256: sha256Hex(bytes) }
        })
        expect(sha256Hex(yield* fs.readFile(`${runDirectory}/videos/again.mp4`))).toBe(sha256Hex(bytes))
        expect(journal.map((event) => event._tag)).toEqual(["downloaded", "finished"])
        expect(journal[0]).toMatchObject({ paramsKey: key, reusedFrom: { run: "run-a", job: "first" } })
        expect((yield* emulator.stats).requests).toEqual([])
        expect(told.at(-1)?.message).toBe("completed: reused run-a/first (same model, params and seed)")
      }))

    it.scoped("a job still running at its deadline fails with PollDeadlineExceeded, its request id kept for resume", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator({ timeScale: 2 })
        const { report, tags } = yield* renderJob(emulated(emulator), jobOf("slow"), {
          poll: { deadline: Duration.millis(300) }
        })
        const requestId = (yield* emulator.stats).submitted[0]!.requestId
        expect(report).toMatchObject({ status: "failed", requestId, error: { tag: "PollDeadlineExceeded" } })
        expect(report.error?.message).toBe(
          `no end within 300ms of submission; request ${requestId} can still be resumed`
        )
        expect(tags.at(-2)).toBe("failed")
      }))

    it.scoped("the deadline also cuts short the wait for a job's first poll", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const started = Date.now()
        const { report } = yield* renderJob(emulated(emulator), jobOf("patient"), {
          // The first poll would come 10 s after the submit (the scout's, by the cap or, with room, the latency gap).
          poll: {
            prior: () => Duration.seconds(20),
            cap: Duration.seconds(10),
            latencyGap: Duration.seconds(10),
            deadline: Duration.millis(300)
          }
        })
        expect(report).toMatchObject({ status: "failed", error: { tag: "PollDeadlineExceeded" } })
        expect(Date.now() - started).toBeLessThan(5000)
        expect((yield* emulator.stats).requestsByEndpoint["status"] ?? 0).toBe(0)
      }))

    it.scoped("a resumed job whose request the API has forgotten (404) is submitted again, and says why", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const job = jobOf("forgotten")
        const start = JobStart.Poll({
          submission: {
            requestId: "gone",
            statusUrl: `${emulator.baseUrl}/v2/requests/gone/status`,
            responseUrl: `${emulator.baseUrl}/v2/requests/gone`
          },
          submittedAtMs: Date.now(),
          params: job.params,
          frames: undefined,
          submitAttempts: 2,
          resubmitted: undefined,
          ifForgotten: {
            reason: "request gone was no longer known to the API: submitted again",
            previousRequestId: "gone"
          }
        })
        const { journal, report } = yield* renderJob(emulated(emulator), job, { start })
        expect(report).toMatchObject({
          status: "completed",
          attempts: 2,
          resubmitted: { previousRequestId: "gone", reason: expect.stringContaining("no longer known to the API") }
        })
        expect(report.requestId).toBe((yield* emulator.stats).submitted[0]!.requestId)
        expect(journal.find((event) => event._tag === "submitted")).toMatchObject({
          resubmitted: { previousRequestId: "gone" }
        })
      }))
  })
})
