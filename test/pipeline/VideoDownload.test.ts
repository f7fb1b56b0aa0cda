import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import type { ServerResponse } from "node:http"
import { classify } from "../../src/pipeline/FailureClass.js"
import { downloadVideo } from "../../src/pipeline/VideoDownload.js"
import type { VideoExpectation } from "../../src/store/Mp4Inspection.js"
import { fakeSegmindApi, oneShotManifest, undiciClient } from "../support/FakeSegmindApi.js"
import { loopbackServer, type SentCount, streamBody } from "../support/LoopbackServer.js"
import { nodeContext, renderManifest, TEST_KEY } from "../support/TestRun.js"
import { tinyMp4 } from "../support/TinyMp4.js"

const MB = 1024 * 1024
const HUGE = 50 * MB

const ERROR_PAGE = Buffer.from("<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>\n")

/** An error page where the video should be, followed by 50 MB more of it, streamed. */
const serveErrorPage = (response: ServerResponse, sent: SentCount) => {
  response.writeHead(200, { "content-type": "video/mp4" })
  streamBody(response, { head: ERROR_PAGE, total: HUGE, fill: 0x20 }, sent)
}

/** A valid MP4 whose `free` box makes it `total` bytes, streamed. */
const serveLargeMp4 = (response: ServerResponse, total: number, declared: boolean, sent: SentCount) => {
  const head = tinyMp4({ durationSeconds: 4, audio: false, bytes: total }).subarray(0, 2048)
  response.writeHead(200, { "content-type": "video/mp4", ...(declared ? { "content-length": String(total) } : {}) })
  streamBody(response, { head, total, fill: 0 }, sent)
}

/** `downloadVideo` through the real client into a fresh directory; what it left behind is listed. */
const download = (url: string, expect: Partial<VideoExpectation & { readonly maxBytes: number }> = {}) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-download-" })
    yield* fs.makeDirectory(`${directory}/.partial`)
    yield* fs.makeDirectory(`${directory}/videos`)
    const result = yield* Effect.either(
      downloadVideo(
        url,
        `${directory}/videos/a.mp4`,
        { partial: `${directory}/.partial`, rejected: `${directory}/rejected` },
        { durationSeconds: 4, audio: false, ...expect }
      )
    )
    return { result, leftBehind: yield* fs.readDirectory(`${directory}/.partial`) }
  }).pipe(Effect.provide(undiciClient({ baseUrl: "http://127.0.0.1:1", apiKey: Redacted.make(TEST_KEY) })))

describe("a video download is bounded", () => {
  it.scopedLive("an HTML page served as the video is rejected from its first bytes, for good, without reading the rest", () =>
    Effect.gen(function*() {
      const sent = { bytes: 0 }
      const storage = yield* loopbackServer((_request, response) => serveErrorPage(response, sent))
      const started = Date.now()
      const { leftBehind, result } = yield* download(`${storage.url}/files/a.mp4`)
      yield* Effect.sleep("300 millis")
      expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "UnexpectedResponse", httpStatus: 200 })
      expect(Either.isLeft(result) && result.left.message).toMatch(/not an MP4.*<!DOCTYPE html>/)
      expect(Either.isLeft(result) && classify(result.left)).toBe("job")
      expect(sent.bytes).toBeLessThan(12 * MB)
      expect(Date.now() - started).toBeLessThan(5000)
      expect(leftBehind).toEqual([])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a job whose video URL serves an error page fails after one download, not eight", () =>
    Effect.gen(function*() {
      const api = yield* fakeSegmindApi({
        durationSeconds: 4,
        audio: false,
        serveFile: (_request, response) => {
          response.writeHead(200, { "content-type": "text/html", "content-length": String(ERROR_PAGE.length) })
          response.end(ERROR_PAGE)
        }
      })
      const { report } = yield* renderManifest(yield* oneShotManifest, api.url)
      expect(report.summary).toMatchObject({ total: 1, completed: 0, failed: 1 })
      expect(report.jobs[0]?.error).toMatchObject({ tag: "UnexpectedResponse" })
      expect(api.seen.filter((request) => request.path.startsWith("/files/"))).toHaveLength(1)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a video streamed past the size cap is cut off there, for good", () =>
    Effect.gen(function*() {
      const sent = { bytes: 0 }
      const storage = yield* loopbackServer((_request, response) => serveLargeMp4(response, HUGE, false, sent))
      const { leftBehind, result } = yield* download(`${storage.url}/files/a.mp4`, { maxBytes: MB })
      yield* Effect.sleep("300 millis")
      expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "UnexpectedResponse", httpStatus: 200 })
      expect(Either.isLeft(result) && result.left.message).toMatch(/ran past 1048576 bytes/)
      expect(Either.isLeft(result) && classify(result.left)).toBe("job")
      expect(sent.bytes).toBeLessThan(12 * MB)
      expect(leftBehind).toEqual([])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a video whose Content-Length is past the size cap is refused before its body is read", () =>
    Effect.gen(function*() {
      const sent = { bytes: 0 }
      const storage = yield* loopbackServer((_request, response) => serveLargeMp4(response, HUGE, true, sent))
      const { result } = yield* download(`${storage.url}/files/a.mp4`, { maxBytes: MB })
      yield* Effect.sleep("300 millis")
      expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "UnexpectedResponse", httpStatus: 200 })
      expect(Either.isLeft(result) && result.left.message).toMatch(/Content-Length 52428800.*1048576/)
      expect(sent.bytes).toBeLessThan(12 * MB)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a video under the cap, trickling in pieces smaller than a box header, downloads whole", () =>
    Effect.gen(function*() {
      const video = tinyMp4({ durationSeconds: 4, audio: false, bytes: 4096 })
      const storage = yield* loopbackServer((_request, response) => {
        response.writeHead(200, { "content-type": "video/mp4", "content-length": String(video.length) })
        const cuts = [0, 3, 6, 11, video.length]
        let piece = 0
        const next = () => {
          response.write(video.subarray(cuts[piece]!, cuts[piece + 1]!))
          piece++
          if (piece < cuts.length - 1) setTimeout(next, 30)
          else response.end()
        }
        next()
      })
      const { result } = yield* download(`${storage.url}/files/a.mp4`, { maxBytes: video.length })
      expect(Either.getOrThrow(result)).toMatchObject({ bytes: 4096, durationSeconds: 4 })
    }).pipe(Effect.provide(nodeContext)))
})
