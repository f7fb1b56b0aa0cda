import { type HttpMethod, HttpPlatform, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Duration, Effect, Option, Random, Ref, Schema } from "effect"
import { randomUUID } from "node:crypto"
import {
  AspectRatio,
  Duration as DurationParam,
  Prompt,
  Resolution,
  Seed,
  SEED_MAX,
  SEED_MIN,
  SEEDANCE_DEFAULTS,
  SEEDANCE_MODEL
} from "../domain/SeedanceParams.js"
import { sha256Hex } from "../store/FileDigest.js"
import type { Call, Endpoint } from "./Calls.js"
import type { EmulatorConfig } from "./EmulatorConfig.js"
import { type EmulatorStore, type Generation, queuedGeneration } from "./EmulatorState.js"
import type { Truncation } from "./Faults.js"
import { makeGenerationTimer } from "./GenerationTime.js"
import {
  errorJson,
  failedAnswer,
  methodNotAllowed,
  pendingResultAs,
  remainingCredits,
  resultAnswer,
  statusAnswer,
  submitAnswer
} from "./WireAnswers.js"

/** What the routes work with. */
export interface RouteDeps {
  readonly config: EmulatorConfig
  readonly baseUrl: string
  readonly store: EmulatorStore
  readonly enqueue: (generation: Generation) => Effect.Effect<boolean>
  readonly truncation: Truncation
  /** streams files from disk with their Content-Length, never read whole */
  readonly files: HttpPlatform.HttpPlatform
}

export type Handler = Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | HttpRouter.RouteContext | Call
>

/** A route, and the endpoint its calls are counted, keyed and faulted as. */
export interface EmulatorRoute {
  readonly method: HttpMethod.HttpMethod
  readonly path: `/${string}`
  readonly endpoint: Endpoint
  readonly handler: Handler
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

const UploadBody = Schema.Struct({ data_urls: Schema.Array(Schema.String) })

const IMAGE_DATA_URI = /^data:(image\/(png|jpeg|webp));base64,(.*)$/s

/** An early answer: handlers fail with it and `Effect.merge` serves it. */
const refuse = (status: number, message: string) => Effect.fail(errorJson(status, message))

const submitBody = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const json = yield* Effect.mapError(request.json, () => errorJson(400, "Request body must be JSON"))
  const body = yield* Schema.decodeUnknown(SubmitBody)(json, { onExcessProperty: "error" }).pipe(
    Effect.mapError((error) =>
      errorJson(400, `Invalid parameters: ${error.message.split("\n").slice(-1)[0]?.trim() ?? ""}`)
    )
  )
  return { json, body }
})

const submit = (deps: RouteDeps) => {
  const nextGenerationTime = makeGenerationTimer(deps.config)
  const credits = deps.config.faults.creditsAfterSubmissions
  return Effect.gen(function*() {
    const { model } = yield* HttpRouter.params
    if (model !== SEEDANCE_MODEL) return yield* refuse(404, `Model ${model} not found`)
    if (credits !== undefined && (yield* deps.store.submissions) >= credits) {
      return yield* refuse(406, "Insufficient credits")
    }
    const { body, json } = yield* submitBody
    const seed = body.seed ?? (yield* Random.nextIntBetween(SEED_MIN, SEED_MAX + 1))
    const generation = queuedGeneration({
      id: randomUUID(),
      params: { ...body, seed },
      submittedAt: yield* Clock.currentTimeMillis,
      generationTime: nextGenerationTime(body.duration, body.resolution)
    })
    yield* deps.store.accept(generation, json)
    yield* deps.enqueue(generation)
    return submitAnswer(deps.baseUrl, generation.id)
  }).pipe(Effect.merge)
}

const creditsLeft = (deps: RouteDeps) =>
  Effect.map(deps.store.submissions, (n) => remainingCredits(n, deps.config.faults.creditsAfterSubmissions))

/** The generation named in the path while it lives: 404 once unknown or expired, 422 (out of flight) once FAILED. */
const liveGeneration = (deps: RouteDeps) =>
  Effect.gen(function*() {
    const { id } = yield* HttpRouter.params
    const found = id === undefined ? Option.none() : yield* deps.store.generation(id)
    const now = yield* Clock.currentTimeMillis
    if (Option.isNone(found) || now - found.value.submittedAt > Duration.toMillis(deps.config.resultTtl)) {
      return yield* refuse(404, "Request not found or expired")
    }
    const generation = found.value
    if (generation.status !== "FAILED") return generation
    yield* deps.store.leaveFlight(generation.id)
    return yield* Effect.fail(failedAnswer(generation, yield* creditsLeft(deps)))
  })

const status = (deps: RouteDeps) =>
  liveGeneration(deps).pipe(Effect.map((g) => statusAnswer(deps.baseUrl, g)), Effect.merge)

const result = (deps: RouteDeps) => {
  const pendingServed = Ref.unsafeMake(0)
  return Effect.gen(function*() {
    const g = yield* liveGeneration(deps)
    if (g.status !== "COMPLETED" || g.clip === undefined) {
      const served = yield* Ref.updateAndGet(pendingServed, (n) => n + 1)
      return pendingResultAs(deps.config.resultPending ?? "status", served, deps.baseUrl, g)
    }
    yield* deps.store.resultServed(g.id, yield* Clock.currentTimeMillis)
    return resultAnswer(deps.baseUrl, g, g.clip.bytes, yield* creditsLeft(deps))
  }).pipe(Effect.merge)
}

/** A video: out of flight once served whole; a truncation fault sends half of it instead. */
const download = (deps: RouteDeps) =>
  Effect.gen(function*() {
    const { name } = yield* HttpRouter.params
    const id = (name ?? "").replace(/\.mp4$/, "")
    const clip = Option.flatMapNullable(yield* deps.store.generation(id), (g) => g.clip)
    if (Option.isNone(clip)) return errorJson(404, "No such file")
    if (yield* deps.truncation.cuts) return yield* deps.truncation.cutShort(clip.value)
    yield* deps.store.leaveFlight(id)
    return yield* HttpServerResponse.file(clip.value.path, { headers: { "content-type": "video/mp4" } }).pipe(
      Effect.provideService(HttpPlatform.HttpPlatform, deps.files),
      Effect.orDie
    )
  })

/** Stores each image under its sha256 and answers the URLs it is served at. */
const upload = (deps: RouteDeps) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const { data_urls } = yield* request.json.pipe(
      Effect.flatMap(Schema.decodeUnknown(UploadBody)),
      Effect.mapError(() => errorJson(400, "data_urls must be a list of data URIs"))
    )
    const fileUrls: Array<string> = []
    for (const dataUrl of data_urls) {
      const match = IMAGE_DATA_URI.exec(dataUrl)
      if (match === null) return yield* refuse(400, "each data URI must be a base64 png, jpeg or webp image")
      const bytes = Buffer.from(match[3]!, "base64")
      const name = `${sha256Hex(bytes)}.${match[2] === "jpeg" ? "jpg" : match[2]}`
      yield* deps.store.storeAsset(name, { bytes, type: match[1]! })
      fileUrls.push(`${deps.baseUrl}/assets/${name}`)
    }
    return HttpServerResponse.unsafeJson({ file_urls: fileUrls })
  }).pipe(Effect.merge)

const asset = (deps: RouteDeps) =>
  Effect.gen(function*() {
    const { name } = yield* HttpRouter.params
    const found = name === undefined ? Option.none() : yield* deps.store.asset(name)
    return Option.match(found, {
      onNone: () => errorJson(404, "No such asset"),
      onSome: (a) => HttpServerResponse.uint8Array(a.bytes, { contentType: a.type })
    })
  })

const stats = (deps: RouteDeps) => Effect.map(deps.store.stats, (s) => HttpServerResponse.unsafeJson(s))

/** Calls no route takes. */
export const noRoute = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => errorJson(404, `No route for ${request.method} ${request.url.split("?")[0] ?? "/"}`)
)

export const emulatorRoutes = (deps: RouteDeps): ReadonlyArray<EmulatorRoute> => [
  { method: "POST", path: "/v2/requests/:id", endpoint: "result", handler: Effect.sync(methodNotAllowed) },
  { method: "GET", path: "/v2/requests/:id/status", endpoint: "status", handler: status(deps) },
  { method: "GET", path: "/v2/requests/:id", endpoint: "result", handler: result(deps) },
  { method: "POST", path: "/v2/:model", endpoint: "submit", handler: submit(deps) },
  { method: "GET", path: "/v2/:model", endpoint: "other", handler: Effect.sync(methodNotAllowed) },
  { method: "GET", path: "/files/:name", endpoint: "download", handler: download(deps) },
  { method: "POST", path: "/upload-asset", endpoint: "upload", handler: upload(deps) },
  { method: "GET", path: "/assets/:name", endpoint: "asset", handler: asset(deps) },
  { method: "GET", path: "/_emulator/stats", endpoint: "stats", handler: stats(deps) }
]
