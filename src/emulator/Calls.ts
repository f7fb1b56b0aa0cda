import { HttpRouter, HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Clock, Context, Data, Effect, Option } from "effect"
import type { EmulatorStore } from "./EmulatorState.js"

/** What a call is to: named by its route, "other" for the 405 of `GET /v2/{model}` and for calls no route takes. */
export type Endpoint = "submit" | "status" | "result" | "download" | "upload" | "asset" | "stats" | "other"

/** The endpoints of the API proper: they need the key and count against the rate limit. */
export const isKeyed = (endpoint: Endpoint): boolean =>
  endpoint === "submit" || endpoint === "status" || endpoint === "result" || endpoint === "upload"

/** The call being answered: its endpoint, its 1-based number among that endpoint's calls, when it came. */
export class Call extends Context.Tag("shotlist/emulator/Call")<Call, {
  readonly endpoint: Endpoint
  readonly number: number
  readonly receivedAt: number
}>() {}

/** A fault cut the connection: before the call was handled, or after (the answer is lost). */
export class ConnectionDropped extends Data.TaggedError("ConnectionDropped")<{
  readonly endpoint: Endpoint
  readonly call: number
  readonly handled: boolean
}> {
  override get message() {
    return `call ${this.call} to ${this.endpoint} dropped ${this.handled ? "after it was handled" : "unanswered"}`
  }
}

/** An emulator app inside the call log: it answers, or drops its connection. */
export type CallApp<R> = Effect.Effect<HttpServerResponse.HttpServerResponse, ConnectionDropped, R>

/** A piece of middleware inside the call log, from app to app. */
export type Middleware = <R>(app: CallApp<R>) => CallApp<R | Call | HttpServerRequest.HttpServerRequest>

/** Cuts the client's connection: no answer reaches it. */
export const dropConnection = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<never> =>
  Effect.zipRight(
    Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()),
    Effect.interrupt
  )

/**
 * The outermost middleware: counts the call (and a poll against its request),
 * names it for the pieces inside, and logs its answer; a dropped connection
 * is logged as status 0.
 */
export const logCalls = (store: EmulatorStore, endpoint: Endpoint) =>
<R>(
  app: CallApp<R>
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  Exclude<R, Call> | HttpServerRequest.HttpServerRequest
> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const route = yield* Effect.serviceOption(HttpRouter.RouteContext)
    const receivedAt = yield* Clock.currentTimeMillis
    const path = request.url.split("?")[0] ?? "/"
    const requestId = Option.getOrUndefined(Option.flatMapNullable(route, (r) => r.params["id"]))
    const number = yield* store.callBegun(endpoint, requestId)
    const answered = (status: number) => store.callAnswered({ at: receivedAt, method: request.method, path, status })
    return yield* app.pipe(
      Effect.provideService(Call, { endpoint, number, receivedAt }),
      Effect.tap((response) => answered(response.status)),
      Effect.catchTag("ConnectionDropped", () => Effect.zipRight(answered(0), dropConnection(request)))
    )
  })
