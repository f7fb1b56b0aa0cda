import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, renderManifest, testEmulator } from "../support/TestRun.js"

describe("a sweep over prompts and first frames on the emulator", () => {
  it.scopedLive(
    "each variant renders once: its text and frame sent, its name in the report's sweep",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        yield* fs.copyFile("test/fixtures/frames/red-640x360.png", `${dir}/red.png`)
        yield* fs.copyFile("test/fixtures/frames/blue-480x640.jpg", `${dir}/blue.jpg`)
        yield* fs.writeFileString(
          `${dir}/sweep.yaml`,
          `version: 1
defaults:
  duration: 4
  resolution: 480p
shots:
  - id: sea
    sweep:
      prompt:
        calm: A calm sea at dawn.
        storm: A storm over the sea.
      first_frame: [red.png, blue.jpg]
`
        )
        const emulator = yield* testEmulator()
        const { report } = yield* renderManifest(`${dir}/sweep.yaml`, emulator.baseUrl)
        expect(report.summary.completed).toBe(4)
        const stats = yield* emulator.stats
        expect(stats.requestsByEndpoint["upload"]).toBe(2)
        const byId = new Map(report.jobs.map((job) => [job.id, job]))
        expect([...byId.keys()]).toEqual([
          "sea~prompt=calm~first_frame=red",
          "sea~prompt=calm~first_frame=blue",
          "sea~prompt=storm~first_frame=red",
          "sea~prompt=storm~first_frame=blue"
        ])
        const storm = byId.get("sea~prompt=storm~first_frame=blue")!
        expect(storm.sweep).toEqual({ prompt: "storm", first_frame: "blue.jpg" })
        expect(storm.params.prompt).toBe("A storm over the sea.")
        expect(storm.frames?.map((frame) => frame.source)).toEqual(["blue.jpg"])
        const sent = stats.submitted.find((s) => s.requestId === storm.requestId)?.body as {
          prompt: string
          first_frame_url: string
        }
        expect(sent.prompt).toBe("A storm over the sea.")
        expect(sent.first_frame_url).toBe(storm.frames?.[0]?.url)
        expect(byId.get("sea~prompt=storm~first_frame=red")?.frames?.[0]?.url).not.toBe(sent.first_frame_url)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )
})
