import {
  type FileSystem,
  HttpPlatform,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse,
  type Path
} from "@effect/platform"
import { NodeHttpPlatform, NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import type { ServeError } from "@effect/platform/HttpServerError"
import { Clock, Context, Duration, Effect, Either, Fiber, Option, Queue, Random, Schema, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import { createReadStream } from "node:fs"
import { createServer } from "node:http"
import {
  AspectRatio,
  Duration as DurationParam,
  FrameUrl,
  pixelSize,
  Prompt,
  Resolution,
  Seed,
  SEED_MAX,
  SEED_MIN,
  SEEDANCE_DEFAULTS,
  SEEDANCE_MODEL,
  type SeedanceParams
} from "../domain/SeedanceParams.js"
import type { RequestStatus } from "../segmind/WireSchemas.js"
import { sha256Hex } from "../store/FileDigest.js"
import { type Clip, makeClipRenderer } from "./ClipRenderer.js"
import type { EmulatorConfig, FaultPlan } from "./EmulatorConfig.js"
import { makeGenerationTimer } from "./GenerationTime.js"
import { makePrng } from "./Prng.js"
import { makeClipPadder } from "./SyntheticVideo.js"

export {
  defaultEmulatorConfig,
  type EmulatorConfig,
  type FaultPlan,
  type GenerationTimeModel,
  noFaults
} from "./EmulatorConfig.js"

/** One submission as the emulator saw it; times are the emulator's `Clock` in epoch ms. */
export interface RequestRecord {
  readonly requestId: string
  readonly status: RequestStatus
  readonly submittedAt: number
  /** when a worker took it (it was QUEUED before) */
  readonly startedAt: number | undefined
  /** the generation time drawn for it */
  readonly generationMs: number
  /** when it became COMPLETED (absent while running, or when it FAILED) */
  readonly completedAt: number | undefined
  /** calls to its status URL, every answer included */
  readonly statusCalls: number
  /** calls to its result URL, every answer included (before completion they answer like the status URL) */
  readonly resultCalls: number
  /** when its result (with the video URL) was first served: detection latency is this minus `completedAt` */
  readonly firstResultFetchAt: number | undefined
}

export interface EmulatorStats {
  readonly submissions: number
  readonly submitted: ReadonlyArray<{ readonly requestId: string; readonly body: unknown }>
  readonly inFlight: number
  readonly maxInFlight: number
  readonly completed: number
  readonly failed: number
  readonly requestsByEndpoint: Readonly<Record<string, number>>
  readonly requests: ReadonlyArray<
    { readonly at: number; readonly method: string; readonly path: string; readonly status: number }
  >
  /** one record per submission, in submission order */
  readonly records: ReadonlyArray<RequestRecord>
}

export interface EmulatorHandle {
  readonly baseUrl: string
  readonly apiKey: string
  readonly stats: Effect.Effect<EmulatorStats>
  /** the clip served (or to be served) for a request: for byte-identity checks */
  readonly servedFile: (requestId: string) => Effect.Effect<Option.Option<Clip>>
}

/** What the emulator knows of one submission. */
interface Generation {
  readonly id: string
  readonly params: SeedanceParams
  readonly submittedAt: number
  readonly generationTime: Duration.Duration
  status: RequestStatus
  startedAt?: number
  endedAt?: number
  completedAt?: number
  error?: string
  clip?: Clip
  /** counted in flight until downloaded or its failure was served */
  inFlight: boolean
  statusCalls: number
  resultCalls: number
  firstResultFetchAt?: number
}

/** The request body as the real API takes it: only prompt is required. */
const SubmitBody = Schema.Struct({
  prompt: Prompt,
  duration: Schema.optionalWith(DurationParam, { default: () => SEEDANCE_DEFAULTS.duration }),
  resolution: Schema.optionalWith(Resolution, { default: () => SEEDANCE_DEFAULTS.resolution }),
  aspect_ratio: Schema.optionalWith(AspectRatio, { default: () => SEEDANCE_DEFAULTS.aspect_ratio }),
  seed: Schema.optional(Seed),
  camera_fixed: Schema.optionalWith(Schema.Boolean, { default: () => SEEDANCE_DEFAULTS.camera_fixed }),
  generate_audio: Schema.optionalWith(Schema.Boolean, { default: () => SEEDANCE_DEFAULTS.generate_audio }),
  skip_moderation: Schema.optionalWith(Schema.Boolean, { default: () => SEEDANCE_DEFAULTS.skip_moderation }),
  // Accepted as any string: a data URI is queued and only then fails, as the real API does.
  first_frame_url: Schema.optional(Schema.String),
  last_frame_url: Schema.optional(Schema.String)
})

const decodeSubmitBody = Schema.decodeUnknownEither(SubmitBody)
const isHttpUrl = Schema.is(FrameUrl)

const errorJson = (status: number, message: string, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson({ error: message }, { status, ...(headers === undefined ? {} : { headers }) })

/**
 * A local server speaking Segmind's v2 wire format (segmind-v2-api.md), with
 * a worker pool, a generation time model, real MP4 clips and injectable faults.
 */
export const startEmulator = (
  config: EmulatorConfig
): Effect.Effect<EmulatorHandle, ServeError, Scope.Scope | FileSystem.FileSystem | Path.Path | CommandExecutor> =>
  Effect.gen(function*() {
    const renderClip = yield* makeClipRenderer(config.clipCacheDir).pipe(Effect.orDie)
    const padClip = yield* makeClipPadder(config.clipCacheDir).pipe(Effect.orDie)
    const synthetic = config.syntheticVideoBytes
    const videoFor = (spec: Parameters<typeof renderClip>[0]) =>
      synthetic === undefined ? renderClip(spec) : Effect.flatMap(renderClip(spec), (clip) => padClip(clip, synthetic))
    const nextGenerationTime = makeGenerationTimer(config)
    // Files are streamed from disk with their Content-Length, never read whole.
    const httpPlatform = yield* HttpPlatform.HttpPlatform.pipe(Effect.provide(NodeHttpPlatform.layer))
    const server = yield* NodeHttpServer.make(() => createServer(), { port: config.port, host: "127.0.0.1" })
    const address = server.address
    const baseUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://127.0.0.1"
    const faults: FaultPlan = config.faults
    const chance = makePrng(faults.seed)

    const scriptedFault = (endpoint: string, call: number) =>
      faults.script.find((entry) => entry.endpoint === endpoint && entry.call === call)?.fault

    const generations = new Map<string, Generation>()
    const submitted: Array<{ requestId: string; body: unknown }> = []
    const requests: Array<EmulatorStats["requests"][number]> = []
    const byEndpoint: Record<string, number> = {}
    const keyedCalls: Array<number> = []
    const assets = new Map<string, { bytes: Uint8Array; type: string }>()
    let maxInFlight = 0
    let inFlightNow = 0
    let completedCount = 0
    let failedCount = 0
    const leaveFlight = (generation: Generation) => {
      if (generation.inFlight) inFlightNow--
      generation.inFlight = false
    }

    const queue = yield* Queue.unbounded<Generation>()

    const generate = (generation: Generation) =>
      Effect.gen(function*() {
        generation.status = "PROCESSING"
        generation.startedAt = yield* Clock.currentTimeMillis
        const { params } = generation
        const [width, height] = pixelSize(params.resolution, params.aspect_ratio)
        const rendering = yield* Effect.fork(
          videoFor({ width, height, durationSeconds: params.duration, audio: params.generate_audio })
        )
        yield* Effect.sleep(generation.generationTime)
        const clip = yield* Fiber.join(rendering).pipe(Effect.either)
        generation.endedAt = yield* Clock.currentTimeMillis
        const frames = [params.first_frame_url, params.last_frame_url].filter((u): u is string => u !== undefined)
        const failure = frames.some((url) => !isHttpUrl(url))
          ? "URL must be a valid HTTP or HTTPS URL"
          : /forbidden/i.test(params.prompt)
          ? "The request was blocked by content moderation"
          : Either.isLeft(clip)
          ? `generation failed: ${clip.left.message}`
          : chance() < faults.failRate
          ? "Internal generation error (injected)"
          : undefined
        if (failure !== undefined) {
          generation.status = "FAILED"
          generation.error = failure
          failedCount++
        } else if (Either.isRight(clip)) {
          generation.clip = clip.right
          generation.status = "COMPLETED"
          generation.completedAt = generation.endedAt
          completedCount++
        }
      })

    for (let i = 0; i < Math.max(1, config.workers); i++) {
      yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), generate)))
    }

    const urlsOf = (id: string) => ({
      poll_url: `${baseUrl}/v1/requests/${id}`,
      status_url: `${baseUrl}/v2/requests/${id}/status`,
      response_url: `${baseUrl}/v2/requests/${id}`
    })

    const metricsOf = (g: Generation) => {
      const queueTime = ((g.startedAt ?? g.submittedAt) - g.submittedAt) / 1000
      const inferenceTime = ((g.endedAt ?? g.startedAt ?? g.submittedAt) - (g.startedAt ?? g.submittedAt)) / 1000
      return {
        inference_time: inferenceTime,
        queue_time: queueTime,
        total_time: queueTime + inferenceTime,
        cost: 0.41,
        remaining_credits: faults.creditsAfterSubmissions === undefined
          ? 1000
          : Math.max(0, faults.creditsAfterSubmissions - submitted.length) * 0.41
      }
    }

    /** The request's generation while it lives: unknown ids and expired ones are 404. */
    const live = (id: string | undefined) =>
      Effect.gen(function*() {
        const generation = id === undefined ? undefined : generations.get(id)
        const now = yield* Clock.currentTimeMillis
        if (
          generation === undefined || now - generation.submittedAt > Duration.toMillis(config.resultTtl)
        ) return Option.none<Generation>()
        return Option.some(generation)
      })

    const failedAnswer = (g: Generation) => {
      leaveFlight(g)
      return HttpServerResponse.unsafeJson({
        status: "FAILED",
        request_id: g.id,
        error: g.error,
        metrics: metricsOf(g)
      }, { status: 422 })
    }

    const submit = Effect.gen(function*() {
      const params = yield* HttpRouter.params
      if (params["model"] !== SEEDANCE_MODEL) return errorJson(404, `Model ${params["model"]} not found`)
      if (faults.creditsAfterSubmissions !== undefined && submitted.length >= faults.creditsAfterSubmissions) {
        return errorJson(406, "Insufficient credits")
      }
      const request = yield* HttpServerRequest.HttpServerRequest
      const json = yield* Effect.either(request.json)
      if (Either.isLeft(json)) return errorJson(400, "Request body must be JSON")
      const body = decodeSubmitBody(json.right, { onExcessProperty: "error" })
      if (Either.isLeft(body)) {
        return errorJson(400, `Invalid parameters: ${body.left.message.split("\n").slice(-1)[0]?.trim() ?? ""}`)
      }
      const seed = body.right.seed ?? (yield* Random.nextIntBetween(SEED_MIN, SEED_MAX + 1))
      const id = randomUUID()
      const generation: Generation = {
        id,
        params: { ...body.right, seed },
        submittedAt: yield* Clock.currentTimeMillis,
        generationTime: nextGenerationTime(body.right.duration, body.right.resolution),
        status: "QUEUED",
        inFlight: true,
        statusCalls: 0,
        resultCalls: 0
      }
      generations.set(id, generation)
      submitted.push({ requestId: id, body: json.right })
      inFlightNow++
      maxInFlight = Math.max(maxInFlight, inFlightNow)
      yield* Queue.offer(queue, generation)
      return HttpServerResponse.unsafeJson({ request_id: id, status: "QUEUED", ...urlsOf(id) })
    })

    /** The generation named in the path, while it lives: 404 once unknown or expired, 422 once FAILED. */
    const answerFor = (respond: (g: Generation, now: number) => HttpServerResponse.HttpServerResponse) =>
      Effect.gen(function*() {
        const { id } = yield* HttpRouter.params
        const found = yield* live(id)
        if (Option.isNone(found)) return errorJson(404, "Request not found or expired")
        return found.value.status === "FAILED"
          ? failedAnswer(found.value)
          : respond(found.value, yield* Clock.currentTimeMillis)
      })

    const status = answerFor((g) =>
      HttpServerResponse.unsafeJson({
        status: g.status,
        request_id: g.id,
        ...urlsOf(g.id),
        metrics: g.status === "COMPLETED" ? { inference_time: metricsOf(g).inference_time } : {}
      })
    )

    // Before completion the result URL answers like the status URL, without `output` (undocumented upstream).
    const result = answerFor((g, now) => {
      if (g.status !== "COMPLETED" || g.clip === undefined) {
        return HttpServerResponse.unsafeJson({ status: g.status, request_id: g.id, metrics: {} })
      }
      g.firstResultFetchAt ??= now
      const url = `${baseUrl}/files/${g.id}.mp4`
      return HttpServerResponse.unsafeJson({
        status: "COMPLETED",
        request_id: g.id,
        output: url,
        video: { url, content_type: "video/mp4", file_name: `${g.id}.mp4`, file_size: g.clip.bytes },
        metrics: metricsOf(g)
      })
    })

    const download = Effect.gen(function*() {
      const { name } = yield* HttpRouter.params
      const id = (name ?? "").replace(/\.mp4$/, "")
      const g = generations.get(id)
      if (g === undefined || g.clip === undefined) return errorJson(404, "No such file")
      const clip = g.clip
      const request = yield* HttpServerRequest.HttpServerRequest
      if (scriptedFault("download", byEndpoint["download"] ?? 0) === "truncate" || chance() < faults.truncateRate) {
        // The whole length is promised, half is sent: the client must notice.
        const response = NodeHttpServerRequest.toServerResponse(request)
        response.writeHead(200, { "content-type": "video/mp4", "content-length": String(clip.bytes) })
        yield* Effect.async<void>((resume) => {
          const half = createReadStream(clip.path, { start: 0, end: Math.floor(clip.bytes / 2) - 1 })
          half.on("error", () => resume(Effect.void))
          half.on("end", () => response.write(new Uint8Array(0), () => resume(Effect.void)))
          half.pipe(response, { end: false })
          return Effect.sync(() => half.destroy())
        })
        response.socket?.destroy()
        return yield* Effect.interrupt
      }
      leaveFlight(g)
      return yield* HttpServerResponse.file(clip.path, { headers: { "content-type": "video/mp4" } }).pipe(
        Effect.provideService(HttpPlatform.HttpPlatform, httpPlatform),
        Effect.orDie
      )
    })

    const upload = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const json = yield* Effect.either(request.json)
      const dataUrls = Either.isRight(json) ? (json.right as { data_urls?: unknown }).data_urls : undefined
      if (!Array.isArray(dataUrls) || dataUrls.some((u) => typeof u !== "string")) {
        return errorJson(400, "data_urls must be a list of data URIs")
      }
      const fileUrls: Array<string> = []
      for (const dataUrl of dataUrls as Array<string>) {
        const match = /^data:(image\/(png|jpeg|webp));base64,(.*)$/s.exec(dataUrl)
        if (match === null) return errorJson(400, "each data URI must be a base64 png, jpeg or webp image")
        const bytes = Buffer.from(match[3]!, "base64")
        const name = `${sha256Hex(bytes)}.${match[2] === "jpeg" ? "jpg" : match[2]}`
        assets.set(name, { bytes, type: match[1]! })
        fileUrls.push(`${baseUrl}/assets/${name}`)
      }
      return HttpServerResponse.unsafeJson({ file_urls: fileUrls })
    })

    const asset = Effect.gen(function*() {
      const { name } = yield* HttpRouter.params
      const found = name === undefined ? undefined : assets.get(name)
      return found === undefined
        ? errorJson(404, "No such asset")
        : HttpServerResponse.uint8Array(found.bytes, { contentType: found.type })
    })

    const recordOf = (g: Generation): RequestRecord => ({
      requestId: g.id,
      status: g.status,
      submittedAt: g.submittedAt,
      startedAt: g.startedAt,
      generationMs: Duration.toMillis(g.generationTime),
      completedAt: g.completedAt,
      statusCalls: g.statusCalls,
      resultCalls: g.resultCalls,
      firstResultFetchAt: g.firstResultFetchAt
    })

    const snapshot: Effect.Effect<EmulatorStats> = Effect.sync(() => ({
      submissions: submitted.length,
      submitted: [...submitted],
      inFlight: inFlightNow,
      maxInFlight,
      completed: completedCount,
      failed: failedCount,
      requestsByEndpoint: { ...byEndpoint },
      requests: [...requests],
      records: [...generations.values()].map(recordOf)
    }))

    const methodNotAllowed = HttpServerResponse.text("<html><body><h1>405 Not Allowed</h1></body></html>", {
      status: 405,
      contentType: "text/html"
    })

    const router = HttpRouter.empty.pipe(
      HttpRouter.post("/v2/requests/:id", Effect.succeed(methodNotAllowed)),
      HttpRouter.get("/v2/requests/:id/status", status),
      HttpRouter.get("/v2/requests/:id", result),
      HttpRouter.post("/v2/:model", submit),
      HttpRouter.get("/v2/:model", Effect.succeed(methodNotAllowed)),
      HttpRouter.get("/files/:name", download),
      HttpRouter.post("/upload-asset", upload),
      HttpRouter.get("/assets/:name", asset),
      HttpRouter.get("/_emulator/stats", Effect.map(snapshot, (s) => HttpServerResponse.unsafeJson(s)))
    )

    const endpointOf = (method: string, path: string) =>
      path.startsWith("/files/")
        ? "download"
        : path.startsWith("/assets/")
        ? "asset"
        : path === "/upload-asset"
        ? "upload"
        : path.startsWith("/_emulator")
        ? "stats"
        : path.endsWith("/status")
        ? "status"
        : path.startsWith("/v2/requests/")
        ? "result"
        : method === "POST"
        ? "submit"
        : "other"

    /** Every call to a request's status or result URL counts, whatever it is answered. */
    const countPoll = (endpoint: "status" | "result", path: string) => {
      const generation = generations.get(/^\/v2\/requests\/([^/]+)/.exec(path)?.[1] ?? "")
      if (generation === undefined) return
      if (endpoint === "status") generation.statusCalls++
      else generation.resultCalls++
    }

    /** Key check, rate limit and injected faults wrap every route; every call is logged. */
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = request.url.split("?")[0] ?? "/"
      const endpoint = endpointOf(request.method, path)
      const now = yield* Clock.currentTimeMillis
      byEndpoint[endpoint] = (byEndpoint[endpoint] ?? 0) + 1
      if (endpoint === "status" || endpoint === "result") countPoll(endpoint, path)
      const log = (status: number) => requests.push({ at: now, method: request.method, path, status })
      const keyed = endpoint === "submit" || endpoint === "status" || endpoint === "result" || endpoint === "upload"
      if (keyed && request.headers["x-api-key"] !== config.apiKey) {
        log(401)
        return errorJson(401, "Unauthorized: missing or invalid x-api-key")
      }
      if (keyed && faults.rateLimitPerMinute !== undefined) {
        while (keyedCalls.length > 0 && keyedCalls[0]! <= now - 60_000) keyedCalls.shift()
        if (keyedCalls.length >= faults.rateLimitPerMinute) {
          const retryAfter = Math.max(1, Math.ceil((keyedCalls[0]! + 60_000 - now) / 1000))
          log(429)
          return errorJson(429, "Rate limit exceeded", { "retry-after": String(retryAfter) })
        }
        keyedCalls.push(now)
      }
      const scripted = scriptedFault(endpoint, byEndpoint[endpoint] ?? 0)
      if (scripted !== undefined && /^5\d\d$/.test(scripted)) {
        log(Number(scripted))
        return errorJson(Number(scripted), "Server error (scripted)")
      }
      if (scripted === "429") {
        log(429)
        return errorJson(429, "Rate limit exceeded", { "retry-after": String(faults.retryAfterSeconds) })
      }
      if (scripted === "drop") {
        log(0)
        NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
        return yield* Effect.interrupt
      }
      if (scripted === "slow") yield* Effect.sleep(faults.slowDelay)
      if (keyed && chance() < faults.rateLimitedRate) {
        log(429)
        return errorJson(429, "Rate limit exceeded", { "retry-after": String(faults.retryAfterSeconds) })
      }
      if (endpoint !== "stats" && chance() < faults.dropRate) {
        log(0)
        NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
        return yield* Effect.interrupt
      }
      if (endpoint !== "stats" && chance() < faults.slowRate) yield* Effect.sleep(faults.slowDelay)
      const errorRate = (faults.serverErrorRate as Record<string, number>)[endpoint] ?? 0
      if (chance() < errorRate) {
        const code = [500, 502, 503, 504][Math.floor(chance() * 4)]!
        log(code)
        return errorJson(code, "Server error (injected)")
      }
      const response = yield* router.pipe(
        Effect.catchTag("RouteNotFound", () => Effect.succeed(errorJson(404, `No route for ${request.method} ${path}`)))
      )
      if (scripted === "drop-after") {
        // Handled (a submit is now queued and will be billed), but the answer never reaches the client.
        log(0)
        NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
        return yield* Effect.interrupt
      }
      log(response.status)
      return response
    })

    yield* HttpServer.serveEffect(app).pipe(Effect.provideService(HttpServer.HttpServer, server))

    return {
      baseUrl,
      apiKey: config.apiKey,
      stats: snapshot,
      servedFile: (requestId: string) => Effect.sync(() => Option.fromNullable(generations.get(requestId)?.clip))
    } satisfies EmulatorHandle
  })

export class Emulator extends Context.Tag("shotlist/Emulator")<Emulator, EmulatorHandle>() {
  static readonly start = startEmulator
}
