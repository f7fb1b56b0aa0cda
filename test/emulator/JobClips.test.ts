import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Effect, Option } from "effect"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { makeClipRenderer } from "../../src/emulator/ClipRenderer.js"
import { inspectMp4 } from "../../src/store/Mp4Inspection.js"
import { nodeContext, testEmulator } from "../support/TestRun.js"
import { pollUntilEnded, submitWith, uploadImage } from "./EmulatorCalls.js"

/** The mean colour (r, g, b) of the top three quarters of the clip's picture at `seconds`: the band below is left out. */
const meanColour = (clip: string, seconds: number): ReadonlyArray<number> => [
  ...execFileSync(ffmpegInstaller.path, [
    "-hide_banner",
    "-loglevel",
    "error",
    "-ss",
    String(seconds),
    "-i",
    clip,
    "-frames:v",
    "1",
    "-vf",
    "crop=iw:ih*3/4:0:0,scale=1:1:flags=area",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "-"
  ])
]

/** Submits each body, waits for all, and answers each served clip. */
const servedClips = (params: ReadonlyArray<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const emulator = yield* testEmulator()
    const accepted = yield* Effect.forEach(params, (p) => submitWith(emulator.baseUrl, p))
    for (const a of accepted) expect((yield* pollUntilEnded(a.status_url)).json["status"]).toBe("COMPLETED")
    return yield* Effect.forEach(accepted, (a) => Effect.map(emulator.servedFile(a.request_id), Option.getOrThrow))
  })

describe("each job gets its own clip", () => {
  it.scopedLive("two jobs with another seed or prompt get different videos, each with the asked duration, size and audio", () =>
    Effect.gen(function*() {
      const clips = yield* servedClips([
        { seed: 5 },
        { seed: 6 },
        { seed: 5, prompt: "A harbour at night" },
        { seed: 5 }
      ])
      expect(new Set(clips.map((clip) => clip.sha256)).size).toBe(3)
      // The same request again serves the same clip: it is cached by what it depends on.
      expect(clips[3]).toEqual(clips[0])
      for (const clip of clips) {
        const info = yield* inspectMp4(clip.path)
        expect(info.durationSeconds).toBeCloseTo(4, 0)
        expect(Option.getOrThrow(info.video)).toMatchObject({ width: 752, height: 560 })
        expect(Option.isSome(info.audio)).toBe(true)
      }
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a first frame opens the clip: its first second shows the frame, then the test pattern", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const red = yield* uploadImage(
        emulator.baseUrl,
        new Uint8Array(readFileSync("test/fixtures/frames/red-640x360.png"))
      )
      const [withFrame, without] = yield* servedClips([
        { first_frame_url: red, aspect_ratio: "16:9", seed: 77 },
        { aspect_ratio: "16:9", seed: 77 }
      ])
      expect(withFrame!.sha256).not.toBe(without!.sha256)
      const [r, g, b] = meanColour(withFrame!.path, 0.2)
      expect(r).toBeGreaterThan(200)
      expect(g! + b!).toBeLessThan(60)
      expect(meanColour(withFrame!.path, 2)).not.toEqual(meanColour(withFrame!.path, 0.2))
      const info = yield* inspectMp4(withFrame!.path)
      expect(info.durationSeconds).toBeCloseTo(4, 0)
      expect(Option.getOrThrow(info.video)).toMatchObject({ width: 864, height: 496 })
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("without a usable font the clips still differ per job: a colour band and the seed in binary", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-fontless-" })
      const render = yield* makeClipRenderer(directory, { fontFiles: [] })
      const spec = { width: 320, height: 240, durationSeconds: 4, audio: false }
      const [five, six] = yield* Effect.all([
        render({ ...spec, stamp: { seed: 5, words: "A lighthouse at dusk" } }),
        render({ ...spec, stamp: { seed: 6, words: "A lighthouse at dusk" } })
      ])
      expect(five!.sha256).not.toBe(six!.sha256)
      const info = yield* inspectMp4(five!.path)
      expect(Option.getOrThrow(info.video)).toMatchObject({ width: 320, height: 240 })
      expect(info.durationSeconds).toBeCloseTo(4, 0)
    }).pipe(Effect.provide(nodeContext)))
})
