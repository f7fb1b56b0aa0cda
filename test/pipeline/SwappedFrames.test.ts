import { FileSystem, Path } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Logger, LogLevel, Redacted } from "effect"
import { spawnSync } from "node:child_process"
import { expandJobs } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { makeRunPlan, runPipeline, runServices } from "../../src/pipeline/RunPipeline.js"
import { fastPoll, fastRetry, nodeContext, TEST_KEY, testEmulator } from "../support/TestRun.js"

/** What takes the frame's place between planning and rendering (a resume reads frames again). */
type Swap = "symlink to /dev/zero" | "FIFO" | "directory"

const swapIn = (file: string, swap: Swap) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.remove(file)
    if (swap === "symlink to /dev/zero") yield* fs.symlink("/dev/zero", file)
    if (swap === "directory") yield* fs.makeDirectory(file)
    if (swap === "FIFO") expect(spawnSync("mkfifo", [file]).status).toBe(0)
  })

/**
 * The local-frames manifest planned (frames checked at load), then its frame
 * swapped, then rendered: every read of the frame must refuse it, not spin.
 */
const renderWithSwappedFrame = (swap: Swap) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-frames-" })
    yield* fs.makeDirectory(`${root}/frames`)
    yield* fs.copyFile("test/fixtures/runs/local-frames.yaml", `${root}/board.yaml`)
    yield* fs.copyFile("test/fixtures/runs/frames/start.png", `${root}/frames/start.png`)
    const loaded = yield* loadManifest(`${root}/board.yaml`)
    const jobs = yield* expandJobs(loaded)
    yield* swapIn(`${root}/frames/start.png`, swap)

    const emulator = yield* testEmulator()
    const runDirectory = path.join(root, "run")
    const report = yield* runPipeline(makeRunPlan({
      runId: "swapped",
      runDirectory,
      manifest: { path: loaded.absolutePath, sha256: loaded.sha256, text: loaded.text },
      jobs,
      model: loaded.manifest.model,
      baseUrl: emulator.baseUrl,
      concurrency: 2,
      rpm: 6000,
      poll: fastPoll,
      retry: fastRetry
    })).pipe(
      Effect.provide(runServices({ baseUrl: emulator.baseUrl, apiKey: Redacted.make(TEST_KEY) }, 6000)),
      Effect.provide(NodeHttpClient.layerUndici),
      Logger.withMinimumLogLevel(LogLevel.None),
      Effect.timeoutFail({ duration: Duration.seconds(30), onTimeout: () => `still reading a ${swap}` })
    )
    return { report, stats: yield* emulator.stats, runDirectory }
  })

describe("a frame swapped after planning", () => {
  for (const swap of ["symlink to /dev/zero", "FIFO", "directory"] as const) {
    it.scopedLive(`a ${swap} in a frame's place is refused before any read: the jobs fail naming it, nothing is sent`, () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const { report, runDirectory, stats } = yield* renderWithSwappedFrame(swap)
        expect(report.summary).toMatchObject({ total: 2, failed: 2 })
        for (const job of report.jobs) {
          expect(job.error).toMatchObject({ tag: "UploadFailed" })
          expect(job.error?.message).toMatch(/frames\/start\.png.*not a regular file/)
        }
        expect(stats.requests).toEqual([])
        // The contact sheet's frame copy refuses it too.
        expect(yield* fs.exists(`${runDirectory}/frames`)).toBe(false)
      }).pipe(Effect.provide(nodeContext)))
  }
})
