import { HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { Call, isKeyed, type Middleware } from "./Calls.js"
import type { EmulatorStore } from "./EmulatorState.js"
import { rateLimited, unauthorized } from "./WireAnswers.js"

/** Keyed calls need the key in `x-api-key`; as a bearer token it is refused like no key. */
export const requireKey = (apiKey: string): Middleware => (app) =>
  Effect.gen(function*() {
    const { endpoint } = yield* Call
    const request = yield* HttpServerRequest.HttpServerRequest
    return isKeyed(endpoint) && request.headers["x-api-key"] !== apiKey ? unauthorized() : yield* app
  })

/** At most `perMinute` keyed calls in any sliding minute; past it, 429 with the seconds until a slot frees. */
export const rateLimit = (store: EmulatorStore, perMinute: number | undefined): Middleware => (app) =>
  perMinute === undefined ? app : Effect.gen(function*() {
    const call = yield* Call
    if (!isKeyed(call.endpoint)) return yield* app
    const wait = yield* store.admitKeyedCall(call.receivedAt, perMinute)
    return Option.isSome(wait) ? rateLimited(wait.value) : yield* app
  })
