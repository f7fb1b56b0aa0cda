import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readFileSync } from "node:fs"
import { inspectMp4 } from "../../src/store/Mp4Inspection.js"
import { nodeContext, testEmulator } from "../support/TestRun.js"
import { getJson, pollUntilEnded, submitWith, uploadImage } from "./EmulatorCalls.js"

const frame = (name: string) => new Uint8Array(readFileSync(`test/fixtures/frames/${name}`))

describe("the emulator checks frames against the API's limits, as the API does", () => {
  it.scopedLive.each(
    [
      [
        "first_frame_url",
        "tiny-100x100.png",
        "first_frame_url is 100×100 (aspect 1.00): each side must be from 300 to 6000 px"
      ],
      ["first_frame_url", "text-named.png", "first_frame_url is not an image: its bytes are not JPEG, PNG or WebP"],
      [
        "last_frame_url",
        "strip-3000x300.png",
        "last_frame_url is 3000×300 (aspect 10.0): aspect must be between 0.4 and 2.5"
      ]
    ] as const
  )(
    "an uploaded %s of %s is accepted at submit, then FAILS with the reason: 422 on status and result",
    ([field, name, error]) =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const good = yield* uploadImage(emulator.baseUrl, frame("red-640x360.png"))
        const bad = yield* uploadImage(emulator.baseUrl, frame(name))
        const frames = field === "first_frame_url"
          ? { first_frame_url: bad }
          : { first_frame_url: good, last_frame_url: bad }
        const accepted = yield* submitWith(emulator.baseUrl, frames)
        expect(accepted.status).toBe("QUEUED")
        const failed = yield* pollUntilEnded(accepted.status_url)
        expect(failed).toMatchObject({ status: 422, json: { status: "FAILED", error } })
        expect(yield* getJson(accepted.response_url)).toMatchObject({ status: 422, json: { status: "FAILED", error } })
      }).pipe(Effect.provide(nodeContext))
  )

  it.scopedLive("a frame URL it cannot fetch fails the job: an upload it never stored, a loopback port that refuses", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const never = yield* submitWith(emulator.baseUrl, {
        first_frame_url: `${emulator.baseUrl}/assets/${"0".repeat(64)}.png`
      })
      const refused = yield* submitWith(emulator.baseUrl, { first_frame_url: "http://127.0.0.1:1/frame.png" })
      expect(yield* pollUntilEnded(never.status_url)).toMatchObject({
        status: 422,
        json: { status: "FAILED", error: "first_frame_url could not be fetched: 404" }
      })
      const failed = yield* pollUntilEnded(refused.status_url)
      expect(failed.status).toBe(422)
      expect(failed.json["error"]).toMatch(/^first_frame_url could not be fetched: /)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a frame on another loopback server is fetched and checked like an upload", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const elsewhere = yield* testEmulator()
      const strip = yield* uploadImage(elsewhere.baseUrl, frame("strip-3000x300.png"))
      const portrait = yield* uploadImage(elsewhere.baseUrl, frame("blue-480x640.jpg"), "image/jpeg")
      const bad = yield* submitWith(emulator.baseUrl, { first_frame_url: strip })
      const good = yield* submitWith(emulator.baseUrl, { first_frame_url: portrait, aspect_ratio: "adaptive" })
      expect((yield* pollUntilEnded(bad.status_url)).json["error"]).toBe(
        "first_frame_url is 3000×300 (aspect 10.0): aspect must be between 0.4 and 2.5"
      )
      expect((yield* pollUntilEnded(good.status_url)).json["status"]).toBe("COMPLETED")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive.each(
    [
      ["blue-480x640.jpg", "image/jpeg", { width: 560, height: 752 }],
      ["green-600x600.webp", "image/webp", { width: 640, height: 640 }]
    ] as const
  )(
    "an `adaptive` job takes its shape from its first frame: %s gives a clip of the nearest ratio",
    ([name, type, size]) =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const url = yield* uploadImage(emulator.baseUrl, frame(name), type)
        const accepted = yield* submitWith(emulator.baseUrl, { first_frame_url: url, aspect_ratio: "adaptive" })
        expect((yield* pollUntilEnded(accepted.status_url)).json["status"]).toBe("COMPLETED")
        const served = Option.getOrThrow(yield* emulator.servedFile(accepted.request_id))
        expect(Option.getOrThrow((yield* inspectMp4(served.path)).video)).toMatchObject(size)
      }).pipe(Effect.provide(nodeContext))
  )

  it.scopedLive("a frame on a remote host is not fetched (the emulator stays offline): the job completes", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const accepted = yield* submitWith(emulator.baseUrl, { first_frame_url: "https://frames.example.test/a.png" })
      expect((yield* pollUntilEnded(accepted.status_url)).json["status"]).toBe("COMPLETED")
    }).pipe(Effect.provide(nodeContext)))
})
