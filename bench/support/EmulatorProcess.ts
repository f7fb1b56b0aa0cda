/**
 * The emulator in its own process, behind a strict rate-limiting front: a
 * sliding window of `windowMs` that admits `calls` keyed calls (submit,
 * status, result, upload) and answers the rest 429 with Retry-After (in
 * fractional seconds, so a time-scaled window stays exact); downloads go to
 * the emulator directly, as Segmind's go to a storage host. Started by
 * `emulatorProcess` with its settings as JSON in argv; prints one JSON line
 * with both addresses, then serves until killed.
 */
import {
  Command,
  HttpClient,
  HttpClientRequest,
  HttpClientResponse,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Clock, Console, Effect, Queue, Ref, Schema, Stream } from "effect"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import { pixelSize } from "../../src/domain/SeedanceParams.js"
import { makeClipRenderer } from "../../src/emulator/ClipRenderer.js"
import { defaultEmulatorConfig, Emulator } from "../../src/emulator/Emulator.js"
import { isMain, repoRoot, runMain } from "./BenchResult.js"
import { BENCH_CLIP_CACHE, BENCH_KEY, BENCH_SHOT } from "./BenchRun.js"

export const EmulatorProcessSettings = Schema.Struct({
  generation: Schema.Struct({ meanMs: Schema.Number, sdMs: Schema.Number, seed: Schema.Number }),
  rateLimit: Schema.Struct({ calls: Schema.Number, windowMs: Schema.Number })
})
export type EmulatorProcessSettings = typeof EmulatorProcessSettings.Type

/** What the front saw: when each keyed call was admitted or refused, on this process's clock. */
export const FrontStats = Schema.Struct({
  admitted: Schema.Array(Schema.Number),
  refused: Schema.Array(Schema.Number)
})
export type FrontStats = typeof FrontStats.Type

export const Addresses = Schema.Struct({ apiUrl: Schema.String, emulatorUrl: Schema.String })

const isKeyed = (path: string) => path.startsWith("/v2/") || path === "/upload-asset"

/** Forwards every call to the emulator, once the window admits it. */
const serveFront = (emulatorUrl: string, settings: EmulatorProcessSettings["rateLimit"]) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const seen = yield* Ref.make<{ readonly inWindow: ReadonlyArray<number>; readonly stats: FrontStats }>({
      inWindow: [],
      stats: { admitted: [], refused: [] }
    })
    // Some ms until the oldest call leaves the window when it is full, else undefined (and the call is counted).
    const admit = (now: number) =>
      Ref.modify(seen, ({ inWindow, stats }) => {
        const current = inWindow.filter((at) => at > now - settings.windowMs)
        return current.length >= settings.calls
          ? [current[0]! + settings.windowMs - now, {
            inWindow: current,
            stats: { ...stats, refused: [...stats.refused, now] }
          }] as const
          : [undefined, {
            inWindow: [...current, now],
            stats: { ...stats, admitted: [...stats.admitted, now] }
          }] as const
      })

    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
    const address = server.address
    const apiUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://127.0.0.1"
    // Status and result URLs in answers point back at the front; video URLs stay on the emulator.
    const throughFront = (text: string) => text.replaceAll(`${emulatorUrl}/v2/`, `${apiUrl}/v2/`)

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = request.url.split("?")[0] ?? "/"
      if (path === "/_front/stats") return yield* HttpServerResponse.json((yield* Ref.get(seen)).stats)
      if (isKeyed(path)) {
        const waitMs = yield* admit(yield* Clock.currentTimeMillis)
        if (waitMs !== undefined) {
          return yield* HttpServerResponse.json({ error: "Rate limit exceeded" }, {
            status: 429,
            headers: { "retry-after": (Math.max(1, waitMs) / 1000).toFixed(3) }
          })
        }
      }
      const url = `${emulatorUrl}${request.url}`
      const outgoing = request.method === "POST"
        ? HttpClientRequest.bodyText(HttpClientRequest.post(url), yield* request.text, request.headers["content-type"])
        : HttpClientRequest.get(url)
      const key = request.headers["x-api-key"]
      const upstream = yield* client.execute(
        key === undefined ? outgoing : HttpClientRequest.setHeader(outgoing, "x-api-key", key)
      )
      return HttpServerResponse.text(throughFront(yield* upstream.text), {
        status: upstream.status,
        contentType: upstream.headers["content-type"] ?? "application/json",
        headers: upstream.headers["retry-after"] === undefined ? {} : { "retry-after": upstream.headers["retry-after"] }
      })
    }).pipe(Effect.scoped, Effect.orDie)

    yield* HttpServer.serveEffect(app).pipe(Effect.provideService(HttpServer.HttpServer, server))
    return apiUrl
  })

export const emulatorProcessMain = (settings: EmulatorProcessSettings) =>
  Effect.gen(function*() {
    const [width, height] = pixelSize(BENCH_SHOT.resolution, BENCH_SHOT.aspect_ratio)
    // Rendered before anything is timed: the clip cache is shared with the other benchmarks.
    yield* Effect.flatMap(makeClipRenderer(BENCH_CLIP_CACHE), (render) =>
      render({ width, height, durationSeconds: BENCH_SHOT.duration, audio: BENCH_SHOT.generate_audio }))
    const emulator = yield* Emulator.start({
      ...defaultEmulatorConfig,
      apiKey: BENCH_KEY,
      workers: 1024,
      clipCacheDir: BENCH_CLIP_CACHE,
      generationTimeModel: { kind: "normal", ...settings.generation }
    })
    const apiUrl = yield* serveFront(emulator.baseUrl, settings.rateLimit)
    yield* Console.log(JSON.stringify({ apiUrl, emulatorUrl: emulator.baseUrl }))
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.orDie)

if (isMain(import.meta.url)) {
  runMain(
    Effect.flatMap(
      Schema.decodeUnknown(Schema.parseJson(EmulatorProcessSettings))(process.argv[2] ?? ""),
      emulatorProcessMain
    ).pipe(Effect.orDie)
  )
}

/** The records the benchmark reads back, as JSON carries them (absent fields are undefined). */
export const EmulatorRecords = Schema.Struct({
  records: Schema.Array(Schema.Struct({
    submittedAt: Schema.Number,
    startedAt: Schema.optional(Schema.Number),
    generationMs: Schema.Number,
    completedAt: Schema.optional(Schema.Number),
    firstResultFetchAt: Schema.optional(Schema.Number),
    statusCalls: Schema.Number,
    resultCalls: Schema.Number
  }))
})
export type EmulatorRecords = typeof EmulatorRecords.Type

const getJson = <A, I>(url: string, schema: Schema.Schema<A, I>) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.get(url).pipe(
      Effect.flatMap(HttpClientResponse.schemaBodyJson(schema)),
      Effect.scoped
    ))

/**
 * Starts this file as a child process (`node --import tsx`) for the scope and
 * waits for its addresses; the scope's end stops it (SIGTERM to its group).
 */
export const emulatorProcess = (settings: EmulatorProcessSettings) =>
  Effect.gen(function*() {
    const child = yield* Command.start(
      Command.make(process.execPath, "--import", "tsx", fileURLToPath(import.meta.url), JSON.stringify(settings)).pipe(
        Command.workingDirectory(repoRoot)
      )
    )
    const lines = yield* Queue.unbounded<string>()
    yield* child.stdout.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) => Queue.offer(lines, line)),
      Effect.forkScoped
    )
    const stderr = yield* Ref.make("")
    yield* child.stderr.pipe(
      Stream.decodeText(),
      Stream.runForEach((text) => Ref.update(stderr, (tail) => (tail + text).slice(-4000))),
      Effect.forkScoped
    )
    const first = yield* Queue.take(lines).pipe(
      Effect.timeoutFail({
        duration: "120 seconds",
        onTimeout: () => new Error("the emulator process did not start within 120 s")
      }),
      Effect.tapError(() => Effect.flatMap(Ref.get(stderr), (tail) => Console.error(tail)))
    )
    const addresses = yield* Schema.decodeUnknown(Schema.parseJson(Addresses))(first)
    return {
      ...addresses,
      records: getJson(`${addresses.emulatorUrl}/_emulator/stats`, EmulatorRecords),
      front: getJson(`${addresses.apiUrl}/_front/stats`, FrontStats)
    }
  }).pipe(Effect.orDie)
