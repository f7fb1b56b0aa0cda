import { FileSystem, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Schema } from "effect"
import { defaultEmulatorConfig, Emulator, noFaults } from "../../src/emulator/Emulator.js"
import { StatusResponse, SubmitResponse, UploadResponse } from "../../src/segmind/WireSchemas.js"
import { inspectMp4 } from "../../src/store/Mp4Inspection.js"
import { nodeContext, TEST_CLIP_CACHE, TEST_KEY, testEmulator } from "../support/TestRun.js"

const body = { prompt: "A lighthouse at dusk", duration: 4, resolution: "480p", aspect_ratio: "4:3", seed: 5 }

/** One HTTP call: status and parsed JSON (or text). */
const call = (
  method: "GET" | "POST",
  url: string,
  options: { json?: unknown; headers?: Record<string, string> } = {}
) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = method === "GET" ? HttpClientRequest.get(url) : HttpClientRequest.post(url)
    request = HttpClientRequest.setHeaders(request, options.headers ?? { "x-api-key": TEST_KEY })
    if (options.json !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, options.json)
    const response = yield* client.execute(request)
    const text = yield* response.text
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch {
      json = text
    }
    return { status: response.status, json, headers: response.headers }
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)

const submit = (baseUrl: string, params: unknown = body) =>
  Effect.flatMap(
    call("POST", `${baseUrl}/v2/seedance-1.5-pro`, { json: params }),
    (answer) => Effect.succeed(Schema.decodeUnknownSync(SubmitResponse)(answer.json))
  )

const waitFor = (url: string, wanted: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    for (;;) {
      const answer = yield* call("GET", url)
      const status = (answer.json as { status?: string }).status ?? ""
      if (wanted.includes(status)) return answer
      yield* Effect.sleep(Duration.millis(50))
    }
  }).pipe(Effect.timeout("30 seconds"))

describe("the Segmind emulator", () => {
  it.scopedLive("a submission goes QUEUED -> PROCESSING -> COMPLETED in the documented shapes and serves a real MP4", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const emulator = yield* testEmulator({ timeScale: 0.3 })
      const accepted = yield* submit(emulator.baseUrl)
      expect(accepted.status).toBe("QUEUED")
      expect(accepted.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(accepted.poll_url).toBe(`${emulator.baseUrl}/v1/requests/${accepted.request_id}`)
      expect(accepted.status_url).toBe(`${emulator.baseUrl}/v2/requests/${accepted.request_id}/status`)
      expect(accepted.response_url).toBe(`${emulator.baseUrl}/v2/requests/${accepted.request_id}`)

      const processing = yield* waitFor(accepted.status_url, ["PROCESSING"])
      expect(Schema.decodeUnknownSync(StatusResponse)(processing.json).status).toBe("PROCESSING")
      const done = yield* waitFor(accepted.status_url, ["COMPLETED"])
      expect(Schema.decodeUnknownSync(StatusResponse)(done.json).metrics?.inference_time).toBeGreaterThan(0)

      const result = yield* call("GET", accepted.response_url)
      expect(result.status).toBe(200)
      const json = result.json as {
        output: string
        video: { url: string; file_size: number }
        metrics: Record<string, number>
      }
      expect(json.output).toBe(`${emulator.baseUrl}/files/${accepted.request_id}.mp4`)
      expect(json.video.url).toBe(json.output)
      expect(Object.keys(json.metrics).sort()).toEqual([
        "cost",
        "inference_time",
        "queue_time",
        "remaining_credits",
        "total_time"
      ])

      const served = Option.getOrThrow(yield* emulator.servedFile(accepted.request_id))
      expect(json.video.file_size).toBe(served.bytes)
      const info = yield* inspectMp4(served.path)
      expect(Option.getOrThrow(info.video)).toMatchObject({ width: 752, height: 560 })
      expect(info.durationSeconds).toBeCloseTo(4, 0)
      expect(Option.isSome(info.audio)).toBe(true)
      const download = yield* call("GET", json.output, { headers: {} })
      expect(download.status).toBe(200)
      expect(Number(download.headers["content-length"])).toBe(served.bytes)
      expect(yield* fs.exists(served.path)).toBe(true)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("refuses calls without the key, and the key as a bearer token, with 401", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const url = `${emulator.baseUrl}/v2/seedance-1.5-pro`
      const none = yield* call("POST", url, { json: body, headers: {} })
      const bearer = yield* call("POST", url, { json: body, headers: { authorization: `Bearer ${TEST_KEY}` } })
      expect(none.status).toBe(401)
      expect(bearer.status).toBe(401)
      expect((none.json as { error: string }).error).toContain("x-api-key")
      expect((yield* emulator.stats).submissions).toBe(0)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive.each([
    ["a duration of 20 s", { ...body, duration: 20 }],
    ["an unknown resolution", { ...body, resolution: "4k" }],
    ["an empty prompt", { ...body, prompt: "  " }],
    ["a seed of 0", { ...body, seed: 0 }],
    ["an unknown field", { ...body, style: "noir" }]
  ])("answers 400 with an error message for %s", ([, params]) =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const answer = yield* call("POST", `${emulator.baseUrl}/v2/seedance-1.5-pro`, { json: params })
      expect(answer.status).toBe(400)
      expect(typeof (answer.json as { error: unknown }).error).toBe("string")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("answers 404 for an unknown model and an unknown request id, 405 for a wrong method", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      expect((yield* call("POST", `${emulator.baseUrl}/v2/seedance-9`, { json: body })).status).toBe(404)
      expect((yield* call("GET", `${emulator.baseUrl}/v2/requests/nope/status`)).status).toBe(404)
      expect((yield* call("GET", `${emulator.baseUrl}/v2/seedance-1.5-pro`)).status).toBe(405)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a call no route takes answers 404 in JSON and is logged under \"other\"", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const answer = yield* call("GET", `${emulator.baseUrl}/v1/requests/abc?x=1`)
      expect(answer.status).toBe(404)
      expect(answer.json).toEqual({ error: "No route for GET /v1/requests/abc" })
      const stats = yield* emulator.stats
      expect(stats.requestsByEndpoint).toEqual({ other: 1 })
      expect(stats.requests).toMatchObject([{ method: "GET", path: "/v1/requests/abc", status: 404 }])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("its stats URL answers without a key, mid-run, counting every call by endpoint", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ generationTimeModel: { kind: "fixed", ms: 2_000 } })
      const accepted = yield* submit(emulator.baseUrl)
      yield* call("GET", accepted.status_url)
      yield* call("GET", accepted.status_url, { headers: {} })
      const stats = yield* call("GET", `${emulator.baseUrl}/_emulator/stats`, { headers: {} })
      expect(stats.status).toBe(200)
      expect(stats.json).toMatchObject({
        submissions: 1,
        inFlight: 1,
        completed: 0,
        requestsByEndpoint: { submit: 1, status: 2, stats: 1 },
        records: [{ requestId: accepted.request_id, statusCalls: 2, resultCalls: 0 }]
      })
      expect((stats.json as { requests: Array<{ status: number }> }).requests.map((r) => r.status)).toEqual([
        200,
        200,
        401
      ])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("Emulator.layer provides a running emulator for the layer's scope", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      const accepted = yield* submit(emulator.baseUrl)
      expect(accepted.status).toBe("QUEUED")
      expect((yield* emulator.stats).submissions).toBe(1)
    }).pipe(
      Effect.provide(
        Emulator.layer({ ...defaultEmulatorConfig, apiKey: TEST_KEY, clipCacheDir: TEST_CLIP_CACHE }).pipe(
          Layer.provide(nodeContext)
        )
      )
    ))

  it.scopedLive("forgets a request after its result TTL: 404 on status and result", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ resultTtl: Duration.millis(300) })
      const accepted = yield* submit(emulator.baseUrl)
      expect((yield* call("GET", accepted.status_url)).status).toBe(200)
      yield* Effect.sleep(Duration.millis(400))
      expect((yield* call("GET", accepted.status_url)).status).toBe(404)
      expect((yield* call("GET", accepted.response_url)).status).toBe(404)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a prompt its moderation rule blocks ends FAILED, served as 422 on status and result", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const accepted = yield* submit(emulator.baseUrl, { ...body, prompt: "Something FORBIDDEN" })
      const failed = yield* waitFor(accepted.status_url, ["FAILED"])
      expect(failed.status).toBe(422)
      expect(failed.json).toMatchObject({ status: "FAILED", error: "The request was blocked by content moderation" })
      const result = yield* call("GET", accepted.response_url)
      expect(result.status).toBe(422)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a data URI as first frame is queued, then FAILS as the real API does", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const accepted = yield* submit(emulator.baseUrl, { ...body, first_frame_url: "data:image/png;base64,AAAA" })
      const failed = yield* waitFor(accepted.status_url, ["FAILED"])
      expect((failed.json as { error: string }).error).toBe("URL must be a valid HTTP or HTTPS URL")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("with one worker, a second job stays QUEUED while the first is PROCESSING", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ workers: 1, timeScale: 0.5 })
      const first = yield* submit(emulator.baseUrl)
      const second = yield* submit(emulator.baseUrl)
      yield* waitFor(first.status_url, ["PROCESSING"])
      expect(((yield* call("GET", second.status_url)).json as { status: string }).status).toBe("QUEUED")
      yield* waitFor(second.status_url, ["COMPLETED"])
      expect(((yield* call("GET", first.status_url)).json as { status: string }).status).toBe("COMPLETED")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("past its rate limit it answers 429 with Retry-After", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ faults: { ...noFaults, rateLimitPerMinute: 3 } })
      const answers = yield* Effect.forEach([1, 2, 3, 4], () => call("GET", `${emulator.baseUrl}/v2/requests/x/status`))
      expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 429])
      expect(Number(answers[3]!.headers["retry-after"])).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("scripted faults hit the n-th call to their endpoint: a 503, a 429 with Retry-After, a dropped connection", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({
        faults: {
          ...noFaults,
          retryAfterSeconds: 7,
          script: [
            { endpoint: "submit", call: 1, fault: "503" },
            { endpoint: "submit", call: 2, fault: "429" },
            { endpoint: "submit", call: 3, fault: "drop" },
            { endpoint: "submit", call: 4, fault: "drop-after" }
          ]
        }
      })
      const url = `${emulator.baseUrl}/v2/seedance-1.5-pro`
      const [first, second] = yield* Effect.forEach([1, 2], () => call("POST", url, { json: body }))
      expect(first).toMatchObject({ status: 503, json: { error: "Server error (scripted)" } })
      expect(second).toMatchObject({ status: 429, headers: { "retry-after": "7" } })
      const dropped = yield* Effect.forEach([3, 4], () => Effect.exit(call("POST", url, { json: body })))
      expect(dropped.map((exit) => exit._tag)).toEqual(["Failure", "Failure"])
      expect((yield* call("POST", url, { json: body })).status).toBe(200)
      const stats = yield* emulator.stats
      // The call after the handler is lost, but its submission was taken.
      expect(stats.submissions).toBe(2)
      expect(stats.requests.map((r) => r.status)).toEqual([503, 429, 0, 0, 200])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("credits run out after N submissions: 406 from then on", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator({ faults: { ...noFaults, creditsAfterSubmissions: 2 } })
      const url = `${emulator.baseUrl}/v2/seedance-1.5-pro`
      const statuses = yield* Effect.forEach([1, 2, 3], () =>
        Effect.map(call("POST", url, { json: body }), (a) => a.status))
      expect(statuses).toEqual([200, 200, 406])
      expect((yield* emulator.stats).submissions).toBe(2)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("uploads an image and serves it back at the returned URL", () =>
    Effect.gen(function*() {
      const emulator = yield* testEmulator()
      const png = Buffer.from("89504e470d0a1a0a", "hex")
      const answer = yield* call("POST", `${emulator.baseUrl}/upload-asset`, {
        json: { data_urls: [`data:image/png;base64,${png.toString("base64")}`] }
      })
      const urls = Schema.decodeUnknownSync(UploadResponse)(answer.json).file_urls ?? []
      expect(urls).toHaveLength(1)
      const served = yield* call("GET", urls[0]!, { headers: {} })
      expect(served.status).toBe(200)
    }).pipe(Effect.provide(nodeContext)))
})
