import { type FileSystem, HttpPlatform, HttpRouter, HttpServer, type Path } from "@effect/platform"
import { NodeHttpClient, NodeHttpPlatform, NodeHttpServer } from "@effect/platform-node"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import type { ServeError } from "@effect/platform/HttpServerError"
import { Context, Effect, Layer, Option, type Scope } from "effect"
import { createServer } from "node:http"
import { rateLimit, requireKey } from "./AccessGuards.js"
import { type CallApp, type Endpoint, logCalls } from "./Calls.js"
import type { Clip } from "./ClipRenderer.js"
import type { EmulatorConfig } from "./EmulatorConfig.js"
import { emulatorRoutes, noRoute } from "./EmulatorRoutes.js"
import { type EmulatorStats, makeEmulatorStore } from "./EmulatorState.js"
import { lostAnswers, makeDice, makeTruncation, randomFaults, scriptedFaults } from "./Faults.js"
import { startWorkers } from "./Workers.js"

export {
  defaultEmulatorConfig,
  type EmulatorConfig,
  type FaultPlan,
  type GenerationTimeModel,
  noFaults
} from "./EmulatorConfig.js"
export type { EmulatorStats, RequestRecord } from "./EmulatorState.js"

export interface EmulatorHandle {
  readonly baseUrl: string
  readonly apiKey: string
  readonly stats: Effect.Effect<EmulatorStats>
  /** the clip served (or to be served) for a request: for byte-identity checks */
  readonly servedFile: (requestId: string) => Effect.Effect<Option.Option<Clip>>
}

/**
 * A local server speaking Segmind's v2 wire format (segmind-v2-api.md), with
 * a worker pool, a generation time model, real MP4 clips and injectable faults.
 */
export const startEmulator = (
  config: EmulatorConfig
): Effect.Effect<EmulatorHandle, ServeError, Scope.Scope | FileSystem.FileSystem | Path.Path | CommandExecutor> =>
  Effect.gen(function*() {
    const store = yield* makeEmulatorStore
    const dice = yield* makeDice(config.faults.seed)
    const host = config.host ?? "127.0.0.1"
    const server = yield* NodeHttpServer.make(() => createServer(), { port: config.port, host })
    // Every interface is reached from this machine at 127.0.0.1; a named address, as named.
    const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
    const baseUrl = server.address._tag === "TcpAddress"
      ? `http://${urlHost}:${server.address.port}`
      : `http://${urlHost}`
    // Frames on other local servers are fetched as the API would fetch them.
    const client = NodeHttpClient.makeUndici(yield* NodeHttpClient.makeDispatcher)
    const enqueue = yield* startWorkers(config, store, dice, { baseUrl, client })
    const routes = emulatorRoutes({
      config,
      baseUrl,
      store,
      enqueue,
      truncation: yield* makeTruncation(config.faults, dice),
      files: yield* HttpPlatform.HttpPlatform.pipe(Effect.provide(NodeHttpPlatform.layer))
    })

    // Listed innermost first: a call meets the log, the key, the rate limit, scripted faults, random faults, lost answers.
    const served = <R>(endpoint: Endpoint, app: CallApp<R>) =>
      app.pipe(
        lostAnswers(config.faults),
        randomFaults(config.faults, dice),
        scriptedFaults(config.faults),
        rateLimit(store, config.faults.rateLimitPerMinute),
        requireKey(config.apiKey),
        logCalls(store, endpoint)
      )
    const router = HttpRouter.fromIterable(
      routes.map((route) => HttpRouter.makeRoute(route.method, route.path, served(route.endpoint, route.handler)))
    )
    const app = Effect.catchTag(router, "RouteNotFound", () => served("other", noRoute))
    yield* HttpServer.serveEffect(app).pipe(Effect.provideService(HttpServer.HttpServer, server))

    return {
      baseUrl,
      apiKey: config.apiKey,
      stats: store.stats,
      servedFile: (requestId: string) => Effect.map(store.generation(requestId), Option.flatMapNullable((g) => g.clip))
    } satisfies EmulatorHandle
  })

/** The emulator as a service: `start` for a handle in the current scope, `layer` to provide one. */
export class Emulator extends Context.Tag("shotlist/Emulator")<Emulator, EmulatorHandle>() {
  static readonly start = startEmulator
  static readonly layer = (config: EmulatorConfig) => Layer.scoped(Emulator, startEmulator(config))
}
