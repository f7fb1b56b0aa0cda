import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { sha256Hex } from "../../src/store/FileDigest.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const LOCAL_FRAMES = "test/fixtures/runs/local-frames.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "2", "--expect", "0.3s"]

describe("replay of a run with local frames", () => {
  it.scopedLive(
    "uploads the run's own copy of each frame to the new server and records it; a copy missing or changed is refused with exit 2",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-replay-frames-" })
        const frameSha = sha256Hex(yield* fs.readFile("test/fixtures/runs/frames/start.png"))
        // The source run's server is gone by the time of the replay, and its upload URLs with it.
        yield* Effect.scoped(Effect.gen(function*() {
          const first = yield* testEmulator()
          const run = yield* runCli(
            ["run", LOCAL_FRAMES, "--base-url", first.baseUrl, "--out", `${root}/a`, ...fast],
            env
          )
          expect(run.exitCode, run.stderr).toBe(0)
          expect((yield* first.stats).requestsByEndpoint["upload"]).toBe(1)
        }))
        const source = yield* readReport(`${root}/a/report.json`)
        expect(source.jobs[0]?.frames?.[0]?.sha256).toBe(frameSha)

        const fresh = yield* testEmulator()
        const replay = yield* runCli(
          ["replay", `${root}/a/report.json`, "--base-url", fresh.baseUrl, "--out", `${root}/b`, ...fast],
          env
        )
        expect(replay.exitCode, replay.stderr).toBe(0)
        // One upload: the two jobs share the frame's bytes.
        expect((yield* fresh.stats).requestsByEndpoint["upload"]).toBe(1)
        const report = yield* readReport(`${root}/b/report.json`)
        expect(report.summary).toMatchObject({ total: 2, completed: 2 })
        for (const job of report.jobs) {
          expect(job.frames).toEqual([{
            role: "first_frame",
            source: "frames/start.png",
            sha256: frameSha,
            url: expect.stringMatching(new RegExp(`^${fresh.baseUrl}/`))
          }])
          expect(job.params.first_frame_url).toBe(job.frames?.[0]?.url)
        }
        expect(sha256Hex(yield* fs.readFile(`${root}/b/frames/${frameSha}.png`))).toBe(frameSha)

        // A copy edited since: nothing is sent, and the frame is named.
        yield* fs.writeFileString(`${root}/a/frames/${frameSha}.png`, "not the frame")
        const sentBefore = (yield* fresh.stats).requests.length
        const refused = yield* runCli(
          ["replay", `${root}/a/report.json`, "--base-url", fresh.baseUrl, "--out", `${root}/c`, ...fast],
          env
        )
        expect(refused.exitCode).toBe(2)
        expect(refused.stderr).toContain("frames/start.png")
        expect(refused.stderr).toContain(`${root}/a/frames/${frameSha}.png`)
        yield* fs.remove(`${root}/a/frames/${frameSha}.png`)
        const missing = yield* runCli(
          ["replay", `${root}/a/report.json`, "--base-url", fresh.baseUrl, "--out", `${root}/d`, ...fast],
          env
        )
        expect(missing.exitCode).toBe(2)
        expect(missing.stderr).toContain("frames/start.png")
        expect((yield* fresh.stats).requests.length).toBe(sentBefore)
      }).pipe(Effect.provide(nodeContext)),
    120_000
  )
})
