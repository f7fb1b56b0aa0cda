import { describe, expect, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Chunk, Effect, Either, Redacted, Stream } from "effect"
import type { ServerResponse } from "node:http"
import { DOWNLOADS_AT_ONCE, SegmindClient } from "../../src/segmind/SegmindClient.js"
import { undiciClient } from "../support/FakeSegmindApi.js"
import { warningsOf } from "../support/LogCapture.js"
import { loopbackServer } from "../support/LoopbackServer.js"
import { TEST_KEY } from "../support/TestRun.js"
import { tinyMp4 } from "../support/TinyMp4.js"

const video = tinyMp4({ durationSeconds: 4, audio: false })

const serveVideo = (response: ServerResponse) => {
  response.writeHead(200, { "content-type": "video/mp4", "content-length": String(video.length) })
  response.end(video)
}

/** Downloads `url` whole through the real client; a test never waits past `within`. */
const downloadAll = (
  url: string,
  settings: { readonly downloadIdleTimeoutMs?: number } = {},
  within: Duration.DurationInput = "20 seconds"
) =>
  Effect.gen(function*() {
    const client = yield* SegmindClient
    const started = Date.now()
    const bytes = yield* Effect.scoped(
      Effect.flatMap(client.download(url), (download) => Stream.runCollect(download.stream))
    ).pipe(
      Effect.map((chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks))),
      Effect.timeout(within),
      Effect.either
    )
    return { bytes, tookMs: Date.now() - started }
  }).pipe(
    warningsOf,
    Effect.map(({ value, warnings }) => ({ ...value, warnings })),
    Effect.provide(
      undiciClient({ baseUrl: "http://127.0.0.1:1", apiKey: Redacted.make(TEST_KEY), ...settings })
    )
  )

const TRACING_HEADERS = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]

describe("downloading a video from the storage host", () => {
  it.scopedLive("sends neither the API key nor tracing headers to the storage host", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((_request, response) => serveVideo(response))
      const { bytes } = yield* downloadAll(`${storage.url}/files/a.mp4?token=abc`).pipe(Effect.withSpan("a traced run"))
      expect(Either.getOrThrow(bytes).equals(video)).toBe(true)
      expect(storage.seen).toHaveLength(1)
      const sent = Object.keys(storage.seen[0]!.headers)
      expect(sent).not.toContain("x-api-key")
      for (const header of TRACING_HEADERS) expect(sent).not.toContain(header)
    }))

  it.scopedLive("a 429 with Retry-After: 1, twice, then the video: waits as asked and completes", () =>
    Effect.gen(function*() {
      let calls = 0
      const storage = yield* loopbackServer((_request, response) => {
        if (++calls <= 2) {
          response.writeHead(429, { "retry-after": "1", "content-type": "text/plain" })
          response.end("slow down")
        } else {
          serveVideo(response)
        }
      })
      const { bytes, tookMs, warnings } = yield* downloadAll(`${storage.url}/files/a.mp4`)
      expect(Either.getOrThrow(bytes).equals(video)).toBe(true)
      expect(storage.seen).toHaveLength(3)
      expect(tookMs).toBeGreaterThanOrEqual(1900)
      expect(warnings).toHaveLength(2)
      expect(warnings[0]).toMatch(/answered 429 for .*\/files\/a\.mp4 \(slow down\); trying again in 1s \(try 2 of 5\)/)
    }))

  it.scopedLive.each([408, 500, 502, 503, 504])(
    "a storage answer %i is tried again, then the video completes",
    (status) =>
      Effect.gen(function*() {
        let calls = 0
        const storage = yield* loopbackServer((_request, response) => {
          if (++calls === 1) {
            response.writeHead(status, { "retry-after": "0", "content-type": "text/html" })
            response.end("<html><body>try later</body></html>")
          } else {
            serveVideo(response)
          }
        })
        const { bytes } = yield* downloadAll(`${storage.url}/files/a.mp4`)
        expect(Either.getOrThrow(bytes).equals(video)).toBe(true)
        expect(storage.seen).toHaveLength(2)
      })
  )

  it.scopedLive("a storage host that keeps answering 503 fails as a server error saying how often it was tried", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((_request, response) => {
        response.writeHead(503, { "retry-after": "0" })
        response.end("down")
      })
      const { bytes } = yield* downloadAll(`${storage.url}/files/a.mp4`)
      expect(Either.isLeft(bytes) && bytes.left).toMatchObject({ _tag: "ServerError", httpStatus: 503 })
      expect(Either.isLeft(bytes) && bytes.left.message).toMatch(/503.*5 times/)
      expect(storage.seen).toHaveLength(5)
    }))

  it.scopedLive("a 302 to another path is followed to the video, without the key", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((request, response) => {
        if (request.url === "/files/a.mp4") {
          response.writeHead(302, { location: "/cdn/a.mp4?sig=1" })
          response.end()
        } else {
          serveVideo(response)
        }
      })
      const { bytes } = yield* downloadAll(`${storage.url}/files/a.mp4`)
      expect(Either.getOrThrow(bytes).equals(video)).toBe(true)
      expect(storage.seen.map((request) => request.path)).toEqual(["/files/a.mp4", "/cdn/a.mp4?sig=1"])
      expect(storage.seen.every((request) => request.headers["x-api-key"] === undefined)).toBe(true)
    }))

  it.scopedLive.each([301, 303, 307, 308])(
    "a %i redirect to another host is followed",
    (status) =>
      Effect.gen(function*() {
        const cdn = yield* loopbackServer((_request, response) => serveVideo(response))
        const storage = yield* loopbackServer((_request, response) => {
          response.writeHead(status, { location: `${cdn.url}/a.mp4` })
          response.end()
        })
        const { bytes } = yield* downloadAll(`${storage.url}/files/a.mp4`)
        expect(Either.getOrThrow(bytes).equals(video)).toBe(true)
        expect(cdn.seen[0]?.headers["x-api-key"]).toBeUndefined()
      })
  )

  it.scopedLive("six redirects in a row fail with an error that says so", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((request, response) => {
        const hop = Number(/\/hop\/(\d+)/.exec(request.url ?? "")?.[1] ?? "0")
        if (hop < 6) {
          response.writeHead(302, { location: `/hop/${hop + 1}` })
          response.end()
        } else {
          serveVideo(response)
        }
      })
      const { bytes } = yield* downloadAll(`${storage.url}/hop/0`)
      expect(Either.isLeft(bytes) && bytes.left).toMatchObject({ _tag: "UnexpectedResponse", httpStatus: 302 })
      expect(Either.isLeft(bytes) && bytes.left.message).toMatch(/more than 5 redirects/)
      expect(storage.seen).toHaveLength(6)
    }))

  it.scopedLive("five redirects are followed", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((request, response) => {
        const hop = Number(/\/hop\/(\d+)/.exec(request.url ?? "")?.[1] ?? "0")
        if (hop < 5) {
          response.writeHead(307, { location: `/hop/${hop + 1}` })
          response.end()
        } else {
          serveVideo(response)
        }
      })
      const { bytes } = yield* downloadAll(`${storage.url}/hop/0`)
      expect(Either.getOrThrow(bytes).equals(video)).toBe(true)
    }))

  it.scopedLive("a redirect to a scheme other than http or https is refused", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((_request, response) => {
        response.writeHead(302, { location: "file:///etc/passwd" })
        response.end()
      })
      const { bytes } = yield* downloadAll(`${storage.url}/files/a.mp4`)
      expect(Either.isLeft(bytes) && bytes.left).toMatchObject({ _tag: "UnexpectedResponse", httpStatus: 302 })
      expect(Either.isLeft(bytes) && bytes.left.message).toMatch(/file:/)
    }))

  it.scopedLive("a storage host that sends a few bytes then stalls fails within the idle timeout, as a transport error", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((_request, response) => {
        response.writeHead(200, { "content-type": "video/mp4", "content-length": String(video.length) })
        response.write(video.subarray(0, 16))
      })
      const { bytes, tookMs } = yield* downloadAll(
        `${storage.url}/files/a.mp4`,
        { downloadIdleTimeoutMs: 300 },
        "5 seconds"
      )
      expect(Either.isLeft(bytes) && bytes.left).toMatchObject({ _tag: "TransportError", requestSent: true })
      expect(Either.isLeft(bytes) && bytes.left.message).toMatch(/no byte .*300 ms/)
      expect(tookMs).toBeLessThan(2000)
    }))

  it.scopedLive("a storage host that never answers fails within the idle timeout", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer(() => undefined)
      const { bytes, tookMs } = yield* downloadAll(
        `${storage.url}/files/a.mp4`,
        { downloadIdleTimeoutMs: 300 },
        "5 seconds"
      )
      expect(Either.isLeft(bytes) && bytes.left).toMatchObject({ _tag: "TransportError", requestSent: true })
      expect(tookMs).toBeLessThan(2000)
    }))

  it.scopedLive("a slow but steady storage host is not cut off", () =>
    Effect.gen(function*() {
      const storage = yield* loopbackServer((_request, response) => {
        response.writeHead(200, { "content-type": "video/mp4", "content-length": String(video.length) })
        const pieces = [0, 100, 200, video.length]
        let piece = 0
        const next = () => {
          response.write(video.subarray(pieces[piece]!, pieces[piece + 1]!))
          piece++
          if (piece < pieces.length - 1) setTimeout(next, 200)
          else response.end()
        }
        next()
      })
      const { bytes } = yield* downloadAll(`${storage.url}/files/a.mp4`, { downloadIdleTimeoutMs: 500 })
      expect(Either.getOrThrow(bytes).equals(video)).toBe(true)
    }))
})

describe("downloads at once", () => {
  it.scopedLive(`a run streams at most ${DOWNLOADS_AT_ONCE} videos at once; the others wait for a slot and all complete`, () =>
    Effect.gen(function*() {
      let open = 0
      let mostOpen = 0
      // Each answer sends half the video, then the rest 200 ms later: downloads overlap unless something bounds them.
      const storage = yield* loopbackServer((_request, response) => {
        open += 1
        mostOpen = Math.max(mostOpen, open)
        response.writeHead(200, { "content-type": "video/mp4", "content-length": String(video.length) })
        response.write(video.subarray(0, video.length >> 1))
        setTimeout(() => {
          open -= 1
          response.end(video.subarray(video.length >> 1))
        }, 200)
      })
      const downloads = 3 * DOWNLOADS_AT_ONCE
      const videos = yield* Effect.gen(function*() {
        const client = yield* SegmindClient
        return yield* Effect.forEach(
          Array.from({ length: downloads }, (_, n) => `${storage.url}/files/${n}.mp4`),
          (url) =>
            Effect.scoped(Effect.flatMap(client.download(url), (download) => Stream.runCollect(download.stream))),
          { concurrency: "unbounded" }
        )
      }).pipe(
        Effect.provide(undiciClient({ baseUrl: "http://127.0.0.1:1", apiKey: Redacted.make(TEST_KEY) })),
        Effect.timeout("20 seconds")
      )
      expect(videos.map((chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks)).equals(video))).toEqual(
        Array.from({ length: downloads }, () => true)
      )
      expect(storage.seen).toHaveLength(downloads)
      expect(mostOpen).toBe(DOWNLOADS_AT_ONCE)
    }))
})
