import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { createHash } from "node:crypto"
import { makeClipRenderer } from "../../src/emulator/ClipRenderer.js"
import { noFaults } from "../../src/emulator/Emulator.js"
import { freeBoxHeader, makeClipPadder } from "../../src/emulator/SyntheticVideo.js"
import { inspectMp4 } from "../../src/store/Mp4Inspection.js"
import { nodeContext, TEST_CLIP_CACHE, testEmulator } from "../support/TestRun.js"
import { getJson, pollUntilCompleted, streamDownload, submit } from "./EmulatorCalls.js"

describe("served videos: streamed from disk, optionally padded to a large size", () => {
  it.scopedLive("a synthetic large video is a valid MP4 of exactly the asked size, with the clip's tracks and duration, streamed with its Content-Length", () =>
    Effect.gen(function*() {
      const size = 24 * 1024 * 1024 + 5
      const emulator = yield* testEmulator({
        syntheticVideoBytes: size,
        generationTimeModel: { kind: "fixed", ms: 50 }
      })
      const accepted = yield* submit(emulator.baseUrl)
      yield* pollUntilCompleted(accepted.status_url)
      const result = yield* getJson(accepted.response_url)
      expect((result.json["video"] as { file_size: number }).file_size).toBe(size)

      const served = Option.getOrThrow(yield* emulator.servedFile(accepted.request_id))
      expect(served.bytes).toBe(size)
      const info = yield* inspectMp4(served.path)
      expect(info.durationSeconds).toBeCloseTo(4, 0)
      expect(Option.getOrThrow(info.video)).toMatchObject({ width: 752, height: 560 })
      expect(Option.isSome(info.audio)).toBe(true)

      const download = yield* streamDownload(result.json["output"] as string)
      expect(download).toMatchObject({
        status: 200,
        contentLength: size,
        received: size,
        sha256: served.sha256,
        cutOff: false
      })
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a padded file is written once and reused: the same path and hash for every job of one size", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const render = yield* makeClipRenderer(TEST_CLIP_CACHE)
      // A fresh directory, so the padded file is written by this test, not found from an earlier run.
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-padded-" })
      const pad = yield* makeClipPadder(directory)
      const clip = yield* render({ width: 320, height: 240, durationSeconds: 4, audio: false })
      const [first, second] = yield* Effect.all(
        [pad(clip, clip.bytes + 1_000_000), pad(clip, clip.bytes + 1_000_000)],
        {
          concurrency: 2
        }
      )
      expect(second).toEqual(first)
      const bytes = yield* fs.readFile(first!.path)
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(first!.sha256)
      // The clip, then one free box of zeros up to the end.
      expect(Buffer.from(bytes.subarray(clip.bytes + 4, clip.bytes + 8)).toString("latin1")).toBe("free")
      expect(Buffer.from(bytes.subarray(clip.bytes, clip.bytes + 4)).readUInt32BE(0)).toBe(1_000_000)
      expect(bytes.subarray(clip.bytes + 8).every((b) => b === 0)).toBe(true)
      expect(yield* pad(clip, clip.bytes + 3)).toEqual(clip)
      // One padded file and its sidecar, no temporary file left behind.
      expect((yield* fs.readDirectory(directory)).length).toBe(2)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a padding that failed is not remembered: the next request for the same file tries again", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-padded-" })
      const pad = yield* makeClipPadder(directory)
      const clip = { path: `${directory}/not-yet.mp4`, bytes: 100, sha256: "0".repeat(64) }
      const failed = yield* Effect.flip(pad(clip, 1_000))
      expect(failed).toMatchObject({ _tag: "ClipPadFailed", clip: clip.path })
      expect(failed.message).toContain(`could not pad ${clip.path}: `)
      yield* fs.writeFile(clip.path, new Uint8Array(100))
      const padded = yield* pad(clip, 1_000)
      expect((yield* fs.stat(padded.path)).size).toBe(BigInt(1_000))
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("padding of 4 GiB or more uses a 64-bit largesize, and the file still parses as the clip", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const render = yield* makeClipRenderer(TEST_CLIP_CACHE)
      const clip = yield* render({ width: 320, height: 240, durationSeconds: 4, audio: false })
      const padding = 2 ** 32 + 100
      const header = freeBoxHeader(padding)
      expect([...header.subarray(0, 8)]).toEqual([0, 0, 0, 1, 0x66, 0x72, 0x65, 0x65])
      expect(Buffer.from(header).readBigUInt64BE(8)).toBe(BigInt(padding))
      // A sparse file: the zeros are not written, only the length is set.
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-largesize-" })
      const file = `${directory}/large.mp4`
      yield* fs.writeFile(file, new Uint8Array([...(yield* fs.readFile(clip.path)), ...header]))
      yield* fs.truncate(file, clip.bytes + padding)
      const info = yield* inspectMp4(file)
      expect(info.durationSeconds).toBeCloseTo(4, 0)
      expect(Option.isSome(info.video)).toBe(true)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a truncating fault on a streamed file promises the whole length and sends half", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({
        generationTimeModel: { kind: "fixed", ms: 50 },
        faults: { ...noFaults, script: [{ endpoint: "download", call: 1, fault: "truncate" }] }
      })
      const accepted = yield* submit(emulator.baseUrl)
      yield* pollUntilCompleted(accepted.status_url)
      const url = (yield* getJson(accepted.response_url)).json["output"] as string
      const served = Option.getOrThrow(yield* emulator.servedFile(accepted.request_id))
      const cut = yield* streamDownload(url).pipe(
        Effect.orElseSucceed(() => ({ received: -1, contentLength: served.bytes, cutOff: true }))
      )
      expect(cut.contentLength).toBe(served.bytes)
      expect(cut.received).toBeLessThan(served.bytes)
      const whole = yield* streamDownload(url)
      expect(whole).toMatchObject({ received: served.bytes, sha256: served.sha256 })
    }).pipe(Effect.provide(nodeContext)))
})
