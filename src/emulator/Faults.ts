import { FileSystem, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Ref, Stream } from "effect"
import { Call, ConnectionDropped, isKeyed, type Middleware } from "./Calls.js"
import type { Clip } from "./ClipRenderer.js"
import type { FaultPlan, ScriptedFault } from "./EmulatorConfig.js"
import { prngStep } from "./Prng.js"
import { errorJson, rateLimited } from "./WireAnswers.js"

/** The fault plan's draws in [0, 1), from one PRNG seeded by the plan: a seed repeats a run's faults. */
export type Dice = Effect.Effect<number>

export const makeDice = (seed: number): Effect.Effect<Dice> =>
  Effect.map(Ref.make(seed >>> 0), (state) => Ref.modify(state, prngStep))

const scriptedFor = (plan: FaultPlan, call: Call["Type"]): ScriptedFault["fault"] | undefined =>
  plan.script.find((entry) => entry.endpoint === call.endpoint && entry.call === call.number)?.fault

const dropped = (call: Call["Type"], handled: boolean) =>
  new ConnectionDropped({ endpoint: call.endpoint, call: call.number, handled })

/** The script's faults on this call: a 5xx or a 429 instead of the answer, a dropped connection, or a slow answer. */
export const scriptedFaults = (plan: FaultPlan): Middleware => (app) =>
  Effect.gen(function*() {
    const call = yield* Call
    const fault = scriptedFor(plan, call)
    if (fault !== undefined && /^5\d\d$/.test(fault)) return errorJson(Number(fault), "Server error (scripted)")
    if (fault === "429") return rateLimited(plan.retryAfterSeconds)
    if (fault === "drop") return yield* dropped(call, false)
    if (fault === "slow") yield* Effect.sleep(plan.slowDelay)
    return yield* app
  })

/** The script's "drop-after" / "502-after" / "504-after": the call is handled (a submit is queued and billed), then its answer is lost, or a gateway's error comes instead. */
export const lostAnswers = (plan: FaultPlan): Middleware => (app) =>
  Effect.gen(function*() {
    const call = yield* Call
    const response = yield* app
    const fault = scriptedFor(plan, call)
    if (fault === "502-after" || fault === "504-after") {
      return errorJson(Number(fault.slice(0, 3)), "Gateway error (scripted, after the request was handled)")
    }
    return fault === "drop-after" ? yield* dropped(call, true) : response
  })

const SERVER_ERRORS = [500, 502, 503, 504] as const

/** Random faults at the plan's rates: 429 bursts, dropped connections, slow answers, 5xx answers. */
export const randomFaults = (plan: FaultPlan, dice: Dice): Middleware => (app) =>
  Effect.gen(function*() {
    const call = yield* Call
    const { endpoint } = call
    if (isKeyed(endpoint) && (yield* dice) < plan.rateLimitedRate) return rateLimited(plan.retryAfterSeconds)
    if (endpoint !== "stats" && (yield* dice) < plan.dropRate) return yield* dropped(call, false)
    if (endpoint !== "stats" && (yield* dice) < plan.slowRate) yield* Effect.sleep(plan.slowDelay)
    const errorRate = (plan.serverErrorRate as Record<string, number>)[endpoint] ?? 0
    if ((yield* dice) < errorRate) {
      return errorJson(SERVER_ERRORS[Math.floor((yield* dice) * SERVER_ERRORS.length)]!, "Server error (injected)")
    }
    return yield* app
  })

/** Truncated downloads: the whole length is promised, half the bytes are sent, then the connection is cut. */
export interface Truncation {
  /** whether this download is cut: scripted for this call, or drawn at the plan's rate */
  readonly cuts: Effect.Effect<boolean, never, Call>
  readonly cutShort: (
    clip: Clip
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
}

export const makeTruncation = (plan: FaultPlan, dice: Dice): Effect.Effect<Truncation, never, FileSystem.FileSystem> =>
  Effect.map(FileSystem.FileSystem, (fs) => ({
    cuts: Effect.flatMap(
      Call,
      (call) =>
        scriptedFor(plan, call) === "truncate"
          ? Effect.succeed(true)
          : Effect.map(dice, (draw) => draw < plan.truncateRate)
    ),
    cutShort: (clip) =>
      Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
        HttpServerResponse.stream(
          fs.stream(clip.path, { bytesToRead: FileSystem.Size(Math.floor(clip.bytes / 2)) }).pipe(
            Stream.concat(Stream.fromEffect(cutAfterFlush(request)))
          ),
          { contentType: "video/mp4", contentLength: clip.bytes }
        ))
  }))

/** Ends the socket once what was written reached it, then destroys it: the client sees the body stop short. */
const cutAfterFlush = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<never> =>
  Effect.zipRight(
    Effect.sync(() => {
      const socket = NodeHttpServerRequest.toIncomingMessage(request).socket
      socket.end(() => socket.destroy())
    }),
    Effect.never
  )
