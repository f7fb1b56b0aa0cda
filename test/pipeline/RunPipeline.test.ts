import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Schedule, Schema } from "effect"
import { exitCodeOf } from "../../src/cli/ExitCode.js"
import { noFaults } from "../../src/emulator/Emulator.js"
import { decodeReport } from "../../src/report/ReportFile.js"
import { JournalEvent } from "../../src/store/Journal.js"
import { nodeContext, renderManifest, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX_JOBS = "test/fixtures/runs/six-jobs.yaml"
const ONE_BLOCKED = "test/fixtures/runs/one-blocked.yaml"
const decodeEvent = Schema.decodeUnknownSync(Schema.parseJson(JournalEvent))

describe("a run against the emulator", () => {
  it.scopedLive("renders six jobs at concurrency 2: every video whole, byte-identical to what was served, never more than 2 in flight", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const emulator = yield* testEmulator({ workers: 4 })
      const { report, runDirectory } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 2 })

      expect(report.summary).toMatchObject({ total: 6, completed: 6, failed: 0, skipped: 0 })
      expect(exitCodeOf(report)).toBe(0)
      expect(report.jobs.map((job) => job.id)).toEqual([
        "pier",
        "lanterns~seed=11",
        "lanterns~seed=22",
        "street~take=1",
        "street~take=2",
        "street~take=3"
      ])
      const stats = yield* emulator.stats
      expect(stats.submissions).toBe(6)
      expect(stats.maxInFlight).toBeLessThanOrEqual(2)
      expect(stats.maxInFlight).toBe(2)

      for (const job of report.jobs) {
        const served = Option.getOrThrow(yield* emulator.servedFile(job.requestId!))
        const written = yield* fs.readFile(`${runDirectory}/${job.output!.path}`)
        expect(Buffer.compare(Buffer.from(written), Buffer.from(yield* fs.readFile(served.path)))).toBe(0)
        expect(job.output).toMatchObject({ bytes: served.bytes, sha256: served.sha256, path: `videos/${job.id}.mp4` })
        expect(job.output!.sourceUrl).toBe(`${emulator.baseUrl}/files/${job.requestId}.mp4`)
        expect(job.output!.durationSeconds).toBeCloseTo(4, 0)
        expect(job.output!.hasAudio).toBe(job.params.generate_audio)
        // The exact body the emulator received is the one the report records.
        expect(stats.submitted.find((s) => s.requestId === job.requestId)?.body).toEqual(job.params)
        expect(job.seed).toBe(job.params.seed)
        expect(job.attempts).toBe(1)
        expect(job.submittedAt).toBeDefined()
        expect(job.completedAt).toBeDefined()
        expect(job.inferenceTime).toBeGreaterThan(0)
      }
      expect(report.jobs.find((job) => job.id === "lanterns~seed=22")).toMatchObject({
        sweep: { seed: 22 },
        seedDrawn: false
      })
      expect(report.jobs.find((job) => job.id === "street~take=2")).toMatchObject({ take: 2, seedDrawn: true })
      expect(report.jobs.find((job) => job.id === "lanterns~seed=11")?.output).toMatchObject({
        width: 640,
        height: 640
      })

      // A file under videos/ is always whole: no temporary files are left anywhere.
      expect((yield* fs.readDirectory(`${runDirectory}/videos`)).sort()).toEqual(
        report.jobs.map((job) => `${job.id}.mp4`).sort()
      )
      expect(yield* fs.exists(`${runDirectory}/.partial`)).toBe(false)
      expect(yield* fs.readFileString(`${runDirectory}/manifest.yaml`)).toBe(yield* fs.readFileString(SIX_JOBS))

      // Every job's seed and body are journaled before the first submission.
      const events = (yield* fs.readFileString(`${runDirectory}/journal.jsonl`)).trimEnd().split("\n").map((line) =>
        decodeEvent(line)
      )
      const firstSubmit = events.findIndex((event) => event._tag === "submitting")
      expect(events.slice(0, firstSubmit).filter((event) => event._tag === "planned")).toHaveLength(6)
      expect(events.filter((event) => event._tag === "downloaded")).toHaveLength(6)

      // The key is a secret: it is written nowhere.
      for (const file of ["report.json", "journal.jsonl"]) {
        expect(yield* fs.readFileString(`${runDirectory}/${file}`)).not.toContain(TEST_KEY)
      }
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a job the server fails (422) is reported with its cause while the others complete: exit 1", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const { report } = yield* renderManifest(ONE_BLOCKED, emulator.baseUrl, { concurrency: 3 })
      expect(report.summary).toMatchObject({ total: 3, completed: 2, failed: 1 })
      const blocked = report.jobs.find((job) => job.id === "blocked")!
      expect(blocked.status).toBe("failed")
      expect(blocked.error).toMatchObject({
        tag: "GenerationFailed",
        httpStatus: 422,
        message: "The request was blocked by content moderation"
      })
      expect(blocked.requestId).toBeDefined()
      expect(blocked.output).toBeUndefined()
      expect(exitCodeOf(report)).toBe(1)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("truncated downloads and 5xx answers are retried until the video is whole, and the report counts the tries", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const emulator = yield* testEmulator({
        faults: {
          ...noFaults,
          seed: 7,
          truncateRate: 0.4,
          // A submit is sent again only after an answer that proves it was not taken (503, 429): those are scripted.
          serverErrorRate: { submit: 0, status: 0.2, result: 0.2, download: 0 },
          // Drawn faults depend on the order requests arrive in; these always happen.
          script: [
            { endpoint: "download", call: 1, fault: "truncate" },
            { endpoint: "submit", call: 1, fault: "503" },
            { endpoint: "submit", call: 3, fault: "503" },
            { endpoint: "submit", call: 5, fault: "429" }
          ]
        }
      })
      const { report, runDirectory } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 3 })
      expect(report.summary.completed).toBe(6)
      const stats = yield* emulator.stats
      // A submit answered 503 or 429 was not accepted, so resending it never pays twice.
      expect(stats.submissions).toBe(6)
      expect(report.jobs.some((job) => job.attempts > 1)).toBe(true)
      for (const job of report.jobs) {
        const served = Option.getOrThrow(yield* emulator.servedFile(job.requestId!))
        expect(job.output!.sha256).toBe(served.sha256)
        expect((yield* fs.stat(`${runDirectory}/${job.output!.path}`)).size).toBe(BigInt(served.bytes))
      }
      expect(stats.requests.some((request) => request.status >= 500)).toBe(true)
      // Some downloads were cut short and fetched again.
      expect(stats.requestsByEndpoint["download"]).toBeGreaterThan(6)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a 429 with Retry-After holds back every job, not only the one that saw it, then all complete", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({
        faults: {
          ...noFaults,
          seed: 3,
          rateLimitedRate: 0.1,
          retryAfterSeconds: 1,
          // At least one 429 whatever order the drawn ones fall in.
          script: [{ endpoint: "status", call: 2, fault: "429" }]
        }
      })
      // Status URLs polled, where the 429 is scripted.
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, {
        concurrency: 6,
        poll: { pollVia: "status" }
      })
      expect(report.summary.completed).toBe(6)
      const stats = yield* emulator.stats
      const keyed = stats.requests.filter((request) => request.path.startsWith("/v2/"))
      const first429 = keyed.find((request) => request.status === 429)
      expect(first429).toBeDefined()
      // Calls already on the wire may land just after it; none is sent later within the second it asked for.
      const during = keyed.filter((request) => request.at > first429!.at + 150 && request.at < first429!.at + 950)
      expect(during).toEqual([])
      expect(stats.submissions).toBe(6)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a local frame shared by two shots is uploaded once and its URL sent with both", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const { report } = yield* renderManifest("test/fixtures/runs/local-frames.yaml", emulator.baseUrl)
      expect(report.summary.completed).toBe(2)
      const stats = yield* emulator.stats
      expect(stats.requestsByEndpoint["upload"]).toBe(1)
      const sent = stats.submitted.map((s) => (s.body as { first_frame_url?: string }).first_frame_url)
      expect(sent[0]).toMatch(new RegExp(`^${emulator.baseUrl}/assets/[0-9a-f]{64}\\.png$`))
      expect(sent[1]).toBe(sent[0])
      for (const job of report.jobs) {
        expect(job.frames).toEqual([
          {
            role: "first_frame",
            source: "frames/start.png",
            url: sent[0],
            sha256: expect.stringMatching(/^[0-9a-f]{64}$/)
          }
        ])
        // The report's params are the body that was sent, uploaded URL included.
        expect(job.params.first_frame_url).toBe(sent[0])
      }
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("an interrupted run still writes its report, naming the request ids in flight", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator({ timeScale: 2 })
      const fiber = yield* Effect.fork(renderManifest(SIX_JOBS, emulator.baseUrl, { concurrency: 2, runDirectory }))
      yield* Effect.repeat(emulator.stats, {
        until: (stats) => stats.submissions >= 2,
        schedule: Schedule.spaced("50 millis")
      })
      yield* Fiber.interrupt(fiber)
      const report = yield* decodeReport(yield* fs.readFileString(`${runDirectory}/report.json`))
      const submitted = (yield* emulator.stats).submitted.map((s) => s.requestId)
      const known = report.jobs.filter((job) => job.requestId !== undefined)
      const onTheWire = report.jobs.filter((job) => job.error?.message.includes("on the wire"))
      // Each submission the server took is named: by its request id, or as a submit whose answer never came back.
      expect(known.length + onTheWire.length).toBe(submitted.length)
      for (const job of known) expect(submitted).toContain(job.requestId)
      expect(report.jobs.filter((job) => job.status === "skipped").every((job) => job.error?.tag === "Interrupted"))
        .toBe(true)
      expect(report.jobs).toHaveLength(6)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("credits that run out after 5 of 12 submissions: exit 3, exactly 5 submitted and downloaded, the 7 others named as not submitted", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ workers: 4, faults: { ...noFaults, creditsAfterSubmissions: 5 } })
      const { report } = yield* renderManifest("test/fixtures/runs/twelve-takes.yaml", emulator.baseUrl, {
        concurrency: 4
      })
      expect(exitCodeOf(report)).toBe(3)
      expect(report.run.aborted).toMatchObject({ tag: "InsufficientCredits", httpStatus: 406 })
      expect((yield* emulator.stats).submissions).toBe(5)
      // What was paid for is still polled and downloaded after the fatal answer.
      expect(report.jobs.filter((job) => job.status === "completed")).toHaveLength(5)
      const notSubmitted = report.jobs.filter((job) => job.status === "skipped")
      expect(notSubmitted).toHaveLength(7)
      expect(notSubmitted.every((job) => job.requestId === undefined)).toBe(true)
      expect(new Set(notSubmitted.map((job) => job.error?.tag))).toEqual(new Set(["InsufficientCredits", "RunAborted"]))
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive(
    "chaos: 30 jobs at concurrency 8 through 5xx, dropped connections, 429 bursts and truncated downloads: each completes once, or is recorded as an uncertain submit and never re-sent",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        const seeds = Array.from({ length: 30 }, (_, i) => i + 1)
        yield* fs.writeFileString(
          `${dir}/thirty.yaml`,
          `version: 1\nshots:\n  - id: rain\n    prompt: Rain on a tin roof.\n    duration: 4\n    resolution: 480p\n    sweep:\n      seed: [${
            seeds.join(", ")
          }]\n`
        )
        const emulator = yield* testEmulator({
          workers: 8,
          faults: {
            ...noFaults,
            seed: 2026,
            serverErrorRate: { submit: 0.1, status: 0.1, result: 0.1, download: 0.1 },
            dropRate: 0.03,
            rateLimitedRate: 0.03,
            retryAfterSeconds: 1,
            truncateRate: 0.05
          }
        })
        const { report, runDirectory } = yield* renderManifest(`${dir}/thirty.yaml`, emulator.baseUrl, {
          concurrency: 8
        })
        const stats = yield* emulator.stats
        const submissionsOf = (seed: number) =>
          stats.submitted.filter((s) => (s.body as { seed: number }).seed === seed).length
        for (const job of report.jobs) {
          if (job.status === "completed") {
            // Never paid twice: one submission per completed job, whatever failed on the way.
            expect(submissionsOf(job.seed)).toBe(1)
            const served = Option.getOrThrow(yield* emulator.servedFile(job.requestId!))
            expect(job.output!.sha256).toBe(served.sha256)
            expect((yield* fs.stat(`${runDirectory}/${job.output!.path}`)).size).toBe(BigInt(served.bytes))
          } else {
            // The only way not to finish: a submit whose connection dropped, recorded and not re-sent.
            expect(job.error?.tag).toBe("SubmitUncertain")
            expect(submissionsOf(job.seed)).toBeLessThanOrEqual(1)
          }
        }
        expect(report.summary.completed).toBeGreaterThan(20)
        expect(report.jobs.some((job) => job.attempts > 1)).toBe(true)
      }).pipe(Effect.provide(nodeContext)),
    180_000
  )

  it.scopedLive("a run deadline stops new submissions and records jobs in flight as timed out with their request ids", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ workers: 2, timeScale: 1 })
      const { report } = yield* renderManifest("test/fixtures/runs/twelve-takes.yaml", emulator.baseUrl, {
        concurrency: 2,
        runDeadline: Duration.millis(2500)
      })
      const stats = yield* emulator.stats
      const timedOut = report.jobs.filter((job) => job.error?.tag === "PollDeadlineExceeded")
      const notSent = report.jobs.filter((job) => job.error?.tag === "RunDeadlineReached")
      expect(notSent.length).toBeGreaterThan(0)
      expect(notSent.every((job) => job.status === "skipped" && job.requestId === undefined)).toBe(true)
      expect(timedOut.every((job) => job.status === "failed" && job.requestId !== undefined)).toBe(true)
      expect(report.summary.completed + timedOut.length + notSent.length).toBe(12)
      expect(stats.submissions).toBe(report.summary.completed + timedOut.length)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("scripted faults: a submit answer lost after the server took it is recorded as uncertain and never re-sent; a 503 and a cut download are retried", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({
        faults: {
          ...noFaults,
          script: [
            { endpoint: "submit", call: 2, fault: "drop-after" },
            { endpoint: "status", call: 1, fault: "503" },
            { endpoint: "download", call: 1, fault: "truncate" }
          ]
        }
      })
      // Status URLs polled, where the 503 is scripted.
      const { report } = yield* renderManifest(SIX_JOBS, emulator.baseUrl, {
        concurrency: 1,
        poll: { pollVia: "status" }
      })
      const stats = yield* emulator.stats
      const lost = report.jobs[1]!
      expect(lost.id).toBe("lanterns~seed=11")
      expect(lost).toMatchObject({ status: "failed", error: { tag: "SubmitUncertain" } })
      expect(lost.error?.message).toContain("not re-sent, to avoid paying twice")
      // The server took it once; shotlist did not send it again.
      expect(stats.submitted.filter((s) => (s.body as { seed: number }).seed === 11)).toHaveLength(1)
      expect(stats.submissions).toBe(6)
      expect(report.summary).toMatchObject({ completed: 5, failed: 1 })
      expect(exitCodeOf(report)).toBe(1)
      expect(report.jobs[0]!.attempts).toBeGreaterThanOrEqual(3)
    }).pipe(Effect.provide(nodeContext)))
})
