import { FileSystem } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { SegmindClient } from "../../src/segmind/SegmindClient.js"
import { layerSegmindConfig, type SegmindSettings } from "../../src/segmind/SegmindConfig.js"
import { answerJson, loopbackServer } from "./LoopbackServer.js"
import { tinyMp4 } from "./TinyMp4.js"

/** The real client over undici, as `shotlist run` builds it, talking to `settings.baseUrl`. */
export const undiciClient = (settings: SegmindSettings) =>
  SegmindClient.Default.pipe(Layer.provide(layerSegmindConfig(settings)), Layer.provide(NodeHttpClient.layerUndici))

export interface FakeApiOptions {
  /** where the submit answer says to poll and fetch the result; this server when not given */
  readonly followUpOrigin?: () => string
  readonly durationSeconds: number
  readonly audio: boolean
  /** how `/files/…` answers; the tiny MP4 when not given */
  readonly serveFile?: (request: IncomingMessage, response: ServerResponse, video: Uint8Array) => void
}

/**
 * A Segmind API in a few lines: a submit is accepted as `req-<n>`, its status
 * is COMPLETED at once, its result names `/files/req-<n>.mp4` on this server,
 * which serves a tiny valid MP4 of the asked duration.
 */
export const fakeSegmindApi = (options: FakeApiOptions) => {
  const video = tinyMp4({ durationSeconds: options.durationSeconds, audio: options.audio })
  let submits = 0
  return loopbackServer((request, response, server) => {
    const path = request.url ?? "/"
    const id = /^\/v2\/requests\/([^/]+)/.exec(path)?.[1]
    if (request.method === "POST" && path.startsWith("/v2/")) {
      request.resume()
      request.on("end", () => {
        const requestId = `req-${++submits}`
        const origin = options.followUpOrigin?.() ?? server.url
        answerJson(response, 200, {
          request_id: requestId,
          status: "QUEUED",
          status_url: `${origin}/v2/requests/${requestId}/status`,
          response_url: `${origin}/v2/requests/${requestId}`
        })
      })
    } else if (id !== undefined && path.endsWith("/status")) {
      answerJson(response, 200, { status: "COMPLETED", request_id: id, metrics: {} })
    } else if (id !== undefined) {
      answerJson(response, 200, { status: "COMPLETED", request_id: id, output: `${server.url}/files/${id}.mp4` })
    } else if (path.startsWith("/files/") && options.serveFile !== undefined) {
      options.serveFile(request, response, video)
    } else if (path.startsWith("/files/")) {
      response.writeHead(200, { "content-type": "video/mp4", "content-length": String(video.length) })
      response.end(video)
    } else {
      answerJson(response, 404, { error: "not found" })
    }
  })
}

/** A one-shot manifest in a temporary directory: duration 4 s, 480p, no audio. */
export const oneShotManifest = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-one-shot-" })
  const file = `${directory}/one-shot.yaml`
  yield* fs.writeFileString(
    file,
    [
      "version: 1",
      "name: one-shot",
      "defaults:",
      "  duration: 4",
      "  resolution: 480p",
      "  generate_audio: false",
      "shots:",
      "  - id: harbour",
      "    prompt: Fishing boats in a quiet harbour at dawn.",
      "    seed: 5",
      ""
    ].join("\n")
  )
  return file
})
