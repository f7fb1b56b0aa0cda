import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Effect, Either, Option } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { checkVideo, inspectMp4 } from "../../src/store/Mp4Inspection.js"

let dir = ""
const clip = (name: string) => join(dir, name)

const render = (name: string, options: { audio: boolean; faststart: boolean }) =>
  execFileSync(ffmpegInstaller.path, [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=864x496:rate=24:duration=2",
    ...(options.audio ? ["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", "-shortest"] : []),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    ...(options.faststart ? ["-movflags", "+faststart"] : []),
    clip(name)
  ])

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "shotlist-mp4-"))
  render("audio.mp4", { audio: true, faststart: true })
  render("silent.mp4", { audio: false, faststart: true })
  render("moov-last.mp4", { audio: true, faststart: false })
  const whole = readFileSync(clip("audio.mp4"))
  writeFileSync(clip("truncated.mp4"), whole.subarray(0, Math.floor(whole.length / 2)))
  writeFileSync(clip("error.html"), "<html><body>502 Bad Gateway</body></html>")
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const inspect = (name: string) => inspectMp4(clip(name)).pipe(Effect.provide(NodeContext.layer))

describe("inspectMp4", () => {
  it.effect("reads size, duration and the audio track of a faststart MP4", () =>
    Effect.gen(function*() {
      const info = yield* inspect("audio.mp4")
      expect(Option.getOrThrow(info.video)).toMatchObject({ width: 864, height: 496 })
      expect(info.durationSeconds).toBeCloseTo(2, 1)
      expect(Option.isSome(info.audio)).toBe(true)
      expect(info.tracks).toBe(2)
    }))

  it.effect("finds no audio track in a silent video", () =>
    Effect.gen(function*() {
      const info = yield* inspect("silent.mp4")
      expect(Option.isNone(info.audio)).toBe(true)
      expect(Option.getOrThrow(info.video).durationSeconds).toBeCloseTo(2, 1)
    }))

  it.effect("reads an MP4 whose moov box comes after the media data", () =>
    Effect.gen(function*() {
      const info = yield* inspect("moov-last.mp4")
      expect(Option.getOrThrow(info.video)).toMatchObject({ width: 864, height: 496 })
    }))

  it.effect("rejects a download cut in half", () =>
    Effect.gen(function*() {
      const result = yield* Effect.either(inspect("truncated.mp4"))
      expect(Either.isLeft(result) && result.left.reason).toMatch(/truncated|incomplete|cut off/)
    }))

  it.effect("rejects an HTML error page saved as a video", () =>
    Effect.gen(function*() {
      const result = yield* Effect.either(inspect("error.html"))
      expect(Either.isLeft(result) && result.left.reason).toMatch(/not an MP4/)
    }))
})

describe("checkVideo", () => {
  it.effect("accepts the requested duration and audio, names what differs otherwise", () =>
    Effect.gen(function*() {
      const withAudio = yield* inspect("audio.mp4")
      const silent = yield* inspect("silent.mp4")
      expect(Either.isRight(checkVideo(withAudio, { durationSeconds: 2, audio: true }))).toBe(true)
      expect(Either.isRight(checkVideo(silent, { durationSeconds: 2, audio: false }))).toBe(true)
      const missingAudio = checkVideo(silent, { durationSeconds: 2, audio: true })
      expect(Either.isLeft(missingAudio) && missingAudio.left.reason).toBe("no audio track, generate_audio was true")
      const tooShort = checkVideo(withAudio, { durationSeconds: 5, audio: true })
      expect(Either.isLeft(tooShort) && tooShort.left.reason).toMatch(/^video lasts 2\.\d+ s, 5 s were requested$/)
    }))
})
