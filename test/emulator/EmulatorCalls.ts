import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { SubmitResponse } from "../../src/segmind/WireSchemas.js"
import { TEST_KEY } from "../support/TestRun.js"

export const body = {
  prompt: "A lighthouse at dusk",
  duration: 4,
  resolution: "480p",
  aspect_ratio: "4:3",
  seed: 5,
  generate_audio: true
}

export const getJson = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("x-api-key", TEST_KEY))
    )
    return { status: response.status, json: (yield* response.json) as Record<string, unknown> }
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)

export const submit = (baseUrl: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.post(`${baseUrl}/v2/seedance-1.5-pro`).pipe(
        HttpClientRequest.setHeader("x-api-key", TEST_KEY),
        HttpClientRequest.bodyUnsafeJson(body)
      )
    )
    return Schema.decodeUnknownSync(SubmitResponse)(yield* response.json)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)

/** Polls the status URL every 20 ms until COMPLETED; returns how many calls it took. */
export const pollUntilCompleted = (statusUrl: string) =>
  Effect.gen(function*() {
    for (let calls = 1;; calls++) {
      const answer = yield* getJson(statusUrl)
      if (answer.json["status"] === "COMPLETED") return calls
      yield* Effect.sleep(Duration.millis(20))
    }
  }).pipe(Effect.timeout("30 seconds"))

/** Downloads a URL chunk by chunk, hashing as it goes: the length promised, the bytes received, their sha256. */
export const streamDownload = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.get(url))
    const hash = createHash("sha256")
    let received = 0
    const outcome = yield* Stream.runForEach(response.stream, (chunk) =>
      Effect.sync(() => {
        hash.update(chunk)
        received += chunk.length
      })).pipe(Effect.either)
    return {
      status: response.status,
      contentLength: Number(response.headers["content-length"]),
      received,
      sha256: hash.digest("hex"),
      cutOff: outcome._tag === "Left"
    }
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

/** POSTs `json` with the key: the status and the parsed answer. */
export const postJson = (url: string, json: unknown) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeader("x-api-key", TEST_KEY),
        HttpClientRequest.bodyUnsafeJson(json)
      )
    )
    return { status: response.status, json: (yield* response.json) as Record<string, unknown> }
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)

/** Submits `params` (the default body's fields unless overridden): the accepted answer. */
export const submitWith = (baseUrl: string, params: Record<string, unknown>) =>
  Effect.map(
    postJson(`${baseUrl}/v2/seedance-1.5-pro`, { ...body, ...params }),
    (answer) => Schema.decodeUnknownSync(SubmitResponse)(answer.json)
  )

/** Uploads `bytes` as a data URI of `type`: the URL the emulator serves it at. */
export const uploadImage = (baseUrl: string, bytes: Uint8Array, type = "image/png") =>
  Effect.map(
    postJson(`${baseUrl}/upload-asset`, {
      data_urls: [`data:${type};base64,${Buffer.from(bytes).toString("base64")}`]
    }),
    (answer) => (answer.json["file_urls"] as Array<string>)[0]!
  )

/** Polls the status URL every 20 ms until the job ends: the last answer (422 for FAILED). */
export const pollUntilEnded = (statusUrl: string) =>
  Effect.gen(function*() {
    for (;;) {
      const answer = yield* getJson(statusUrl)
      if (answer.json["status"] === "COMPLETED" || answer.json["status"] === "FAILED") return answer
      yield* Effect.sleep(Duration.millis(20))
    }
  }).pipe(Effect.timeout("60 seconds"))
