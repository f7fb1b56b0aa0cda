import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { extractLastFrame } from "../../src/pipeline/ShotChain.js"
import { sha256Hex } from "../../src/store/FileDigest.js"
import { runChildCli } from "../support/ChildCli.js"
import { nodeContext, readReport, renderManifest, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

/** A → B → C, each opening on the last frame of the one before; `first` is A's prompt. */
const storyboard = (first: string) =>
  `version: 1
defaults:
  duration: 4
  resolution: 480p
shots:
  - id: C
    prompt: Through the door into the light.
    first_frame: {from: B}
  - id: A
    prompt: ${first}
  - id: B
    prompt: The door opens.
    first_frame: {from: A}
`

const writeStoryboard = (first: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    yield* fs.writeFileString(`${dir}/chain.yaml`, storyboard(first))
    return { dir, file: `${dir}/chain.yaml` }
  })

const seedOf = (body: unknown) => (body as { readonly seed: number }).seed

describe("shots that follow one another", () => {
  it.scopedLive(
    "B opens on A's last frame and C on B's, even with C written first; each frame uploaded once",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const { dir, file } = yield* writeStoryboard("A closed door.")
        const emulator = yield* testEmulator()
        // One job at a time: C comes first in the storyboard and must not take the only slot before A and B.
        const { report, runDirectory } = yield* renderManifest(file, emulator.baseUrl, { concurrency: 1 })
        expect(report.summary).toMatchObject({ completed: 3, failed: 0, skipped: 0 })
        expect(report.jobs.map((job) => job.id)).toEqual(["C", "A", "B"])
        const [c, a, b] = report.jobs
        const stats = yield* emulator.stats
        expect(stats.requestsByEndpoint["upload"]).toBe(2)
        expect(stats.submitted.map((s) => seedOf(s.body))).toEqual([a!.seed, b!.seed, c!.seed])
        // The frame B was sent is A's last frame, as ffmpeg takes it from A's video on its own.
        const aLast = yield* extractLastFrame(path.join(runDirectory, a!.output!.path), `${dir}/a-last.png`)
        const aLastSha = sha256Hex(yield* fs.readFile(aLast))
        expect(b!.frames).toEqual([{
          role: "first_frame",
          source: "from:A",
          fromJob: "A",
          sha256: aLastSha,
          url: expect.stringMatching(new RegExp(`^${emulator.baseUrl}/assets/${aLastSha}\\.png$`))
        }])
        const sentToB = stats.submitted.find((s) => s.requestId === b!.requestId)?.body as { first_frame_url: string }
        expect(sentToB.first_frame_url).toBe(b!.frames![0]!.url)
        expect(c!.frames?.[0]).toMatchObject({ source: "from:B" })
        expect(c!.frames?.[0]?.sha256).not.toBe(aLastSha)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive(
    "a source that fails skips its followers with the reason; the run exits 1",
    () =>
      Effect.gen(function*() {
        const { dir, file } = yield* writeStoryboard("A forbidden door.")
        const emulator = yield* testEmulator()
        const outcome = yield* runChildCli(
          ["run", file, "--out", `${dir}/run`, "--base-url", emulator.baseUrl, "--rpm", "6000", "--expect", "0.6s"],
          { SEGMIND_API_KEY: TEST_KEY }
        )
        expect(outcome.code, outcome.stderr).toBe(1)
        const report = yield* readReport(`${dir}/run/report.json`)
        const byId = new Map(report.jobs.map((job) => [job.id, job]))
        expect(byId.get("A")?.status).toBe("failed")
        for (const [id, source] of [["B", "A"], ["C", "B"]] as const) {
          expect(byId.get(id)?.status).toBe("skipped")
          expect(byId.get(id)?.error?.tag).toBe("SourceUnavailable")
          expect(byId.get(id)?.error?.message).toContain(`the last frame of shot ${source} (${source}), which `)
        }
        expect(byId.get("B")?.error?.message).toMatch(/which failed \(.*moderation/)
        expect((yield* emulator.stats).submissions).toBe(1)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive(
    "a follower selected without its source is skipped with the reason, not left waiting",
    () =>
      Effect.gen(function*() {
        const { dir, file } = yield* writeStoryboard("A closed door.")
        const emulator = yield* testEmulator()
        const outcome = yield* runCli(
          ["run", file, "--only", "B", "--out", `${dir}/run`, "--base-url", emulator.baseUrl, "--rpm", "6000"],
          { SEGMIND_API_KEY: TEST_KEY }
        )
        expect(outcome.exitCode, outcome.stderr).toBe(1)
        const report = yield* readReport(`${dir}/run/report.json`)
        expect(report.jobs.map((job) => [job.id, job.status, job.error?.message])).toEqual([
          [
            "B",
            "skipped",
            "its first frame is the last frame of shot A (A), which is not part of this run: select it too"
          ]
        ])
        expect((yield* emulator.stats).submissions).toBe(0)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive("killed after A completes, the resume renders B and C and never A again", () =>
    Effect.gen(function*() {
      const { dir, file } = yield* writeStoryboard("A closed door.")
      const emulator = yield* testEmulator()
      const runDirectory = `${dir}/run`
      const common = ["--base-url", emulator.baseUrl, "--rpm", "6000", "--concurrency", "1", "--expect", "0.6s"]
      const env = { SEGMIND_API_KEY: TEST_KEY }
      // The second submit is B's: A is rendered, downloaded and journaled by then.
      const killed = yield* runChildCli(["run", file, "--out", runDirectory, ...common], {
        ...env,
        SHOTLIST_CRASH_AT: "before-submit:2"
      })
      expect(killed.signal, killed.stderr).toBe("SIGKILL")
      expect((yield* emulator.stats).submissions).toBe(1)
      const resumed = yield* runChildCli(["resume", runDirectory, ...common], env)
      expect(resumed.code, resumed.stderr).toBe(0)
      const report = yield* readReport(`${runDirectory}/report.json`)
      expect(report.summary).toMatchObject({ completed: 3, failed: 0, skipped: 0 })
      const submitted = (yield* emulator.stats).submitted.map((s) => seedOf(s.body))
      const seeds = new Map(report.jobs.map((job) => [job.id, job.seed]))
      expect(submitted).toEqual([seeds.get("A"), seeds.get("B"), seeds.get("C")])
      expect(report.jobs.find((job) => job.id === "B")?.frames?.[0]?.source).toBe("from:A")
    }).pipe(Effect.provide(nodeContext)), 90_000)
})
