import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { noFaults } from "../../src/emulator/Emulator.js"
import { readJournal } from "../../src/store/JournalReader.js"
import { runChildCli } from "../support/ChildCli.js"
import { FAST_RUN, nodeContext, readReport, renderManifest, TEST_KEY, testEmulator } from "../support/TestRun.js"

const MANIFEST = "test/fixtures/runs/six-jobs.yaml"

const jsonLines = (text: string): ReadonlyArray<Record<string, unknown>> =>
  text.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>)

describe("retries are visible", () => {
  it.scopedLive(
    "a 503 on submit and a cut download each log one retry line with job, requestId, attempt and error, and journal a retry event",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const emulator = yield* testEmulator({
          faults: {
            ...noFaults,
            script: [
              { endpoint: "submit", call: 1, fault: "503" },
              { endpoint: "download", call: 1, fault: "truncate" }
            ]
          }
        })
        const runDirectory = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-retries-" }), "run")
        const outcome = yield* runChildCli([
          "run",
          MANIFEST,
          "--only",
          "pier",
          "--base-url",
          emulator.baseUrl,
          "--out",
          runDirectory,
          ...FAST_RUN,
          "--retry-base",
          "0.05",
          "--retry-cap",
          "0.2",
          "--log-format",
          "json"
        ], { SEGMIND_API_KEY: TEST_KEY })
        expect(outcome.code, outcome.stderr).toBe(0)
        const report = yield* readReport(path.join(runDirectory, "report.json"))
        const [job] = report.jobs
        expect(job).toMatchObject({ id: "pier", status: "completed", attempts: 3 })
        const requestId = job!.requestId!

        const retries = jsonLines(outcome.stderr).filter((line) => line["attempt"] !== undefined)
        expect(retries).toHaveLength(2)
        const [submit, download] = retries
        expect(submit).toMatchObject({ job: "pier", attempt: 1, error: expect.stringMatching(/^ServerError/) })
        expect(submit!["requestId"]).toBeUndefined()
        expect(submit!["message"]).toMatch(
          /^pier: submit failed on attempt 1 of 8 \(ServerError: .*\); trying again in \d+\.\d+ s$/
        )
        expect(download).toMatchObject({ job: "pier", requestId, attempt: 1, error: expect.any(String) })
        expect(download!["message"]).toMatch(
          /^pier: download failed on attempt 1 of 8 \(.+\); trying again in \d+\.\d+ s$/
        )

        const journal = (yield* fs.readFileString(path.join(runDirectory, "journal.jsonl"))).split("\n")
          .filter((line) => line.length > 0).map((line) => JSON.parse(line) as Record<string, unknown>)
        const events = journal.filter((event) => event["_tag"] === "retry")
        expect(events).toHaveLength(2)
        expect(events[0]).toMatchObject({
          jobId: "pier",
          call: "submit",
          attempt: 1,
          error: { tag: "ServerError", httpStatus: 503 },
          waitMs: expect.any(Number)
        })
        expect(events[0]!["requestId"]).toBeUndefined()
        expect(events[1]).toMatchObject({
          jobId: "pier",
          requestId,
          call: "download",
          attempt: 1,
          waitMs: expect.any(Number)
        })
        for (const event of events) expect(event["waitMs"] as number).toBeLessThanOrEqual(200)
      }).pipe(Effect.provide(nodeContext)),
    120_000
  )

  it.scopedLive("a failed frame upload is journaled as a retry of the job that needed the frame", () =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const emulator = yield* testEmulator({
        faults: { ...noFaults, script: [{ endpoint: "upload", call: 1, fault: "503" }] }
      })
      const { report, runDirectory } = yield* renderManifest("test/fixtures/runs/local-frames.yaml", emulator.baseUrl)
      expect(report.summary.completed).toBe(2)
      const events = (yield* readJournal(path.join(runDirectory, "journal.jsonl"))).events
      const retries = events.filter((event) => event._tag === "retry")
      expect(retries).toHaveLength(1)
      expect(retries[0]).toMatchObject({ call: "upload", attempt: 1, error: { tag: "ServerError", httpStatus: 503 } })
      expect(report.jobs.map((job) => job.id)).toContain(retries[0]?.jobId)
    }).pipe(Effect.provide(nodeContext)))
})
