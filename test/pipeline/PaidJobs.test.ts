import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { noFaults } from "../../src/emulator/Emulator.js"
import { JobStart } from "../../src/pipeline/JobStart.js"
import { journaledRun, readJournal } from "../../src/store/JournalReader.js"
import { runChildCli } from "../support/ChildCli.js"
import { FAST_RUN, nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"
import { emulated, interceptedEmulator, jobOf, renderJob } from "./JobHarness.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }

/** What a resume knows of a request the API accepted earlier. */
const acceptedBy = (baseUrl: string, requestId: string) => ({
  submission: {
    requestId,
    statusUrl: `${baseUrl}/v2/requests/${requestId}/status`,
    responseUrl: `${baseUrl}/v2/requests/${requestId}`
  },
  submittedAtMs: Date.now(),
  params: jobOf("paid").params,
  frames: undefined,
  submitAttempts: 1,
  resubmitted: undefined
})

describe("a paid job carried on without paying again", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped("a journaled video URL is downloaded from, with no API call at all", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const { report: first } = yield* renderJob(emulated(emulator), jobOf("paid"))
        const requestId = first.requestId!
        const callsBefore = (yield* emulator.stats).requests.length
        const start = JobStart.Download({
          ...acceptedBy(emulator.baseUrl, requestId),
          ifForgotten: undefined,
          videoUrl: `${emulator.baseUrl}/files/${requestId}.mp4`,
          metrics: { inference_time: 1 },
          endedAtMs: Date.now()
        })
        const { journal, report } = yield* renderJob(emulated(emulator), jobOf("paid"), { start })
        expect(report).toMatchObject({ status: "completed", requestId, output: { sha256: first.output!.sha256 } })
        const calls = (yield* emulator.stats).requests.slice(callsBefore)
        expect(calls.map((call) => call.path)).toEqual([`/files/${requestId}.mp4`])
        expect(journal.map((event) => event._tag)).toEqual(["downloaded", "finished"])
      }))

    it.scoped("a video URL the storage host no longer serves: the request is asked for its result again, still nothing sent", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const { report: first } = yield* renderJob(emulated(emulator), jobOf("paid"))
        const start = JobStart.Download({
          ...acceptedBy(emulator.baseUrl, first.requestId!),
          ifForgotten: undefined,
          videoUrl: `${emulator.baseUrl}/files/gone.mp4`,
          metrics: {},
          endedAtMs: Date.now()
        })
        const { report } = yield* renderJob(emulated(emulator), jobOf("paid"), { start })
        expect(report).toMatchObject({ status: "completed", requestId: first.requestId })
        expect((yield* emulator.stats).submissions).toBe(1)
      }))

    it.scoped("a failed job polled again on a plain resume is never sent again: if the API forgot it, it stays failed", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const start = JobStart.Poll({ ...acceptedBy(emulator.baseUrl, "gone"), ifForgotten: undefined })
        const { report } = yield* renderJob(emulated(emulator), jobOf("paid"), { start })
        expect(report).toMatchObject({ status: "failed", requestId: "gone", error: { tag: "ResultExpired" } })
        expect((yield* emulator.stats).submissions).toBe(0)
      }))

    it.scoped("one unreadable 2xx status page (a proxy's) is asked again, not a failure", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        let statusCalls = 0
        const api = interceptedEmulator(emulator, (url) => {
          if (!url.endsWith("/status")) return undefined
          statusCalls += 1
          return statusCalls === 1
            ? { status: 200, body: "<html><body>Checking your browser…</body></html>" }
            : undefined
        })
        const { report } = yield* renderJob(api, jobOf("proxied"), { poll: { pollVia: "status" } })
        expect(report).toMatchObject({ status: "completed" })
        expect(report.attempts).toBeGreaterThanOrEqual(2)
        expect((yield* emulator.stats).submissions).toBe(1)
      }))

    it.scoped("a 404 in the first minute after the submit is asked again a few times, not taken as the request's end", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        let statusCalls = 0
        const api = interceptedEmulator(emulator, (url) => {
          if (!url.endsWith("/status")) return undefined
          statusCalls += 1
          return statusCalls === 1 ? { status: 404, body: { error: "Request not found" } } : undefined
        })
        const { report } = yield* renderJob(api, jobOf("early"), { poll: { pollVia: "status" } })
        expect(report).toMatchObject({ status: "completed" })
        expect((yield* emulator.stats).submissions).toBe(1)
      }))

    it.scoped("a request the API forgot, asked long after its hour, is submitted again and named with its age", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const start = JobStart.Poll({
          ...acceptedBy(emulator.baseUrl, "old"),
          submittedAtMs: Date.now() - Duration.toMillis(Duration.hours(3)),
          ifForgotten: { reason: "request old is older than 1h", previousRequestId: "old" }
        })
        const { report } = yield* renderJob(emulated(emulator), jobOf("paid"), { start })
        expect(report).toMatchObject({
          status: "completed",
          resubmitted: { previousRequestId: "old", reason: expect.stringContaining("older than 1h") }
        })
        expect((yield* emulator.stats).submissions).toBe(1)
        // One status call decided it.
        expect((yield* emulator.stats).requests.filter((call) => call.path.endsWith("/old/status"))).toHaveLength(1)
      }))
  })
})

describe("resume of paid jobs, end to end", () => {
  it.scopedLive("a crash mid-download, resumed after the API forgot the request: the video comes from its journaled URL, nothing is paid again", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const emulator = yield* testEmulator({ resultTtl: Duration.seconds(2) })
      const out = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-paid-" }), "run")
      // One job in flight: at the kill, only the one downloading was ever submitted.
      const common = ["--base-url", emulator.baseUrl, "--concurrency", "1", ...FAST_RUN]
      const crashed = yield* runChildCli(["run", SIX, "--out", out, ...common], {
        ...env,
        SHOTLIST_CRASH_AT: "mid-download:1"
      })
      expect(crashed.signal, crashed.stderr).toBe("SIGKILL")
      const journal = journaledRun((yield* readJournal(path.join(out, "journal.jsonl"))).events)
      const cut = [...journal.jobs.values()].filter((job) => job.result !== undefined && job.downloaded === undefined)
      expect(cut).toHaveLength(1)
      expect((yield* emulator.stats).submissions).toBe(1)

      // Past the emulator's retention: the API answers 404 for every earlier request now.
      yield* Effect.sleep(Duration.millis(2500))
      const resumed = yield* runChildCli(["resume", out, ...common], env)
      expect(resumed.code, resumed.stderr).toBe(0)
      const report = yield* readReport(path.join(out, "report.json"))
      expect(report.summary.completed).toBe(6)
      for (const job of cut) {
        const after = report.jobs.find((entry) => entry.id === job.job.id)!
        expect(after.resubmitted, job.job.id).toBeUndefined()
        expect(after.requestId).toBe(job.submitted?.requestId)
      }
      // Jobs never submitted before the crash are the only new submissions.
      expect((yield* emulator.stats).submissions).toBe(6)
      expect(report.jobs.filter((job) => job.resubmitted !== undefined)).toEqual([])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a paid job failed by answers that can change (here: status 503s past its tries) is polled again by a plain resume and completes", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator({
        faults: {
          ...noFaults,
          script: [1, 2].map((call) => ({ endpoint: "status" as const, call, fault: "503" as const }))
        }
      })
      const fast = [
        "--rpm",
        "6000",
        "--concurrency",
        "1",
        "--expect",
        "0.3s",
        "--retries",
        "2",
        "--retry-base",
        "0.05",
        "--poll-via",
        "status"
      ]
      const first = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env)
      expect(first.exitCode).toBe(1)
      const failed = (yield* readReport(`${out}/report.json`)).jobs.find((job) => job.status === "failed")!
      expect(failed).toMatchObject({ id: "pier", error: { tag: "ServerError" }, requestId: expect.any(String) })

      const resumed = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(resumed.exitCode).toBe(0)
      const pier = (yield* readReport(`${out}/report.json`)).jobs.find((job) => job.id === "pier")!
      expect(pier).toMatchObject({ status: "completed", requestId: failed.requestId })
      expect(pier.resubmitted).toBeUndefined()
      expect((yield* emulator.stats).submissions).toBe(6)
      expect(Option.isSome(yield* emulator.servedFile(failed.requestId!))).toBe(true)
    }).pipe(Effect.provide(nodeContext)))
})
