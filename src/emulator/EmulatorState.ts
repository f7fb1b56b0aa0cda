import { Chunk, Data, Duration, Effect, HashMap, Option, Ref } from "effect"
import type { SeedanceParams } from "../domain/SeedanceParams.js"
import type { RequestStatus } from "../segmind/WireSchemas.js"
import type { Endpoint } from "./Calls.js"
import type { Clip } from "./ClipRenderer.js"

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

/** One call as logged; `status` 0 is a connection dropped without an answer. */
export interface CallRecord {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly status: number
}

export interface EmulatorStats {
  readonly submissions: number
  readonly submitted: ReadonlyArray<{ readonly requestId: string; readonly body: unknown }>
  readonly inFlight: number
  readonly maxInFlight: number
  readonly completed: number
  readonly failed: number
  readonly requestsByEndpoint: Readonly<Record<string, number>>
  readonly requests: ReadonlyArray<CallRecord>
  /** one record per submission, in submission order */
  readonly records: ReadonlyArray<RequestRecord>
}

/** What the emulator knows of one submission. */
export interface Generation {
  readonly id: string
  readonly params: SeedanceParams
  readonly submittedAt: number
  readonly generationTime: Duration.Duration
  readonly status: RequestStatus
  readonly startedAt: number | undefined
  readonly endedAt: number | undefined
  readonly completedAt: number | undefined
  readonly error: string | undefined
  readonly clip: Clip | undefined
  /** counted in flight until downloaded or its failure was served */
  readonly inFlight: boolean
  readonly statusCalls: number
  readonly resultCalls: number
  readonly firstResultFetchAt: number | undefined
}

export const queuedGeneration = (
  submission: Pick<Generation, "id" | "params" | "submittedAt" | "generationTime">
): Generation => ({
  ...submission,
  status: "QUEUED",
  startedAt: undefined,
  endedAt: undefined,
  completedAt: undefined,
  error: undefined,
  clip: undefined,
  inFlight: true,
  statusCalls: 0,
  resultCalls: 0,
  firstResultFetchAt: undefined
})

/** How a generation ends. */
export type GenerationEnd = Data.TaggedEnum<{
  Completed: { readonly clip: Clip }
  Failed: { readonly error: string }
}>
export const GenerationEnd = Data.taggedEnum<GenerationEnd>()

export interface Asset {
  readonly bytes: Uint8Array
  readonly type: string
}

/** Everything the emulator has seen, as one immutable value: persistent collections keep updates cheap. */
export interface EmulatorState {
  readonly generations: HashMap.HashMap<string, Generation>
  readonly submitted: Chunk.Chunk<{ readonly requestId: string; readonly body: unknown }>
  readonly calls: Chunk.Chunk<CallRecord>
  readonly callsByEndpoint: Readonly<Record<string, number>>
  /** when each keyed call of the last minute was admitted: the sliding rate-limit window */
  readonly keyedCallTimes: ReadonlyArray<number>
  readonly assets: HashMap.HashMap<string, Asset>
  readonly inFlight: number
  readonly maxInFlight: number
  readonly completed: number
  readonly failed: number
}

export const emptyState: EmulatorState = {
  generations: HashMap.empty(),
  submitted: Chunk.empty(),
  calls: Chunk.empty(),
  callsByEndpoint: {},
  keyedCallTimes: [],
  assets: HashMap.empty(),
  inFlight: 0,
  maxInFlight: 0,
  completed: 0,
  failed: 0
}

type Transition = (state: EmulatorState) => EmulatorState

const updateGeneration = (id: string, change: (generation: Generation) => Generation): Transition => (state) => ({
  ...state,
  generations: HashMap.modify(state.generations, id, change)
})

const accepted = (generation: Generation, body: unknown): Transition => (state) => ({
  ...state,
  generations: HashMap.set(state.generations, generation.id, generation),
  submitted: Chunk.append(state.submitted, { requestId: generation.id, body }),
  inFlight: state.inFlight + 1,
  maxInFlight: Math.max(state.maxInFlight, state.inFlight + 1)
})

const ended = (id: string, at: number, end: GenerationEnd): Transition => (state) =>
  GenerationEnd.$match(end, {
    Completed: ({ clip }) => ({
      ...updateGeneration(id, (g) => ({ ...g, status: "COMPLETED", endedAt: at, completedAt: at, clip }))(state),
      completed: state.completed + 1
    }),
    Failed: ({ error }) => ({
      ...updateGeneration(id, (g) => ({ ...g, status: "FAILED", endedAt: at, error }))(state),
      failed: state.failed + 1
    })
  })

const leftFlight = (id: string): Transition => (state) => {
  const generation = HashMap.get(state.generations, id)
  if (Option.isNone(generation) || !generation.value.inFlight) return state
  return { ...updateGeneration(id, (g) => ({ ...g, inFlight: false }))(state), inFlight: state.inFlight - 1 }
}

/** Counts a call to its endpoint (and, for a poll, to its request): the answer is its 1-based number there. */
const callBegun = (endpoint: Endpoint, requestId: string | undefined) => (state: EmulatorState) => {
  const number = (state.callsByEndpoint[endpoint] ?? 0) + 1
  const counted = { ...state, callsByEndpoint: { ...state.callsByEndpoint, [endpoint]: number } }
  const polled = requestId === undefined
    ? counted
    : endpoint === "status"
    ? updateGeneration(requestId, (g) => ({ ...g, statusCalls: g.statusCalls + 1 }))(counted)
    : endpoint === "result"
    ? updateGeneration(requestId, (g) => ({ ...g, resultCalls: g.resultCalls + 1 }))(counted)
    : counted
  return [number, polled] as const
}

/** Admits a keyed call into the sliding minute, or answers the seconds until the oldest one leaves it. */
const keyedCallAdmitted = (now: number, perMinute: number) => (state: EmulatorState) => {
  const window = state.keyedCallTimes.filter((at) => at > now - 60_000)
  if (window.length >= perMinute) {
    const retryAfter = Math.max(1, Math.ceil((window.reduce((a, b) => Math.min(a, b)) + 60_000 - now) / 1000))
    return [Option.some(retryAfter), { ...state, keyedCallTimes: window }] as const
  }
  return [Option.none<number>(), { ...state, keyedCallTimes: [...window, now] }] as const
}

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

export const statsOf = (state: EmulatorState): EmulatorStats => ({
  submissions: Chunk.size(state.submitted),
  submitted: Chunk.toArray(state.submitted),
  inFlight: state.inFlight,
  maxInFlight: state.maxInFlight,
  completed: state.completed,
  failed: state.failed,
  requestsByEndpoint: { ...state.callsByEndpoint },
  requests: Chunk.toArray(state.calls),
  records: Chunk.toArray(
    Chunk.filterMap(state.submitted, ({ requestId }) => Option.map(HashMap.get(state.generations, requestId), recordOf))
  )
})

/** The emulator's state in one `Ref`: every handler and worker changes it through these operations only. */
export const makeEmulatorStore = Effect.map(Ref.make(emptyState), (state) => ({
  stats: Effect.map(Ref.get(state), statsOf),
  submissions: Effect.map(Ref.get(state), (s) => Chunk.size(s.submitted)),
  generation: (id: string) => Effect.map(Ref.get(state), (s) => HashMap.get(s.generations, id)),
  asset: (name: string) => Effect.map(Ref.get(state), (s) => HashMap.get(s.assets, name)),
  accept: (generation: Generation, body: unknown) => Ref.update(state, accepted(generation, body)),
  start: (id: string, at: number) =>
    Ref.update(state, updateGeneration(id, (g) => ({ ...g, status: "PROCESSING", startedAt: at }))),
  end: (id: string, at: number, end: GenerationEnd) => Ref.update(state, ended(id, at, end)),
  leaveFlight: (id: string) => Ref.update(state, leftFlight(id)),
  resultServed: (id: string, at: number) =>
    Ref.update(state, updateGeneration(id, (g) => ({ ...g, firstResultFetchAt: g.firstResultFetchAt ?? at }))),
  storeAsset: (name: string, asset: Asset) =>
    Ref.update(state, (s) => ({ ...s, assets: HashMap.set(s.assets, name, asset) })),
  callBegun: (endpoint: Endpoint, requestId: string | undefined) => Ref.modify(state, callBegun(endpoint, requestId)),
  callAnswered: (call: CallRecord) => Ref.update(state, (s) => ({ ...s, calls: Chunk.append(s.calls, call) })),
  admitKeyedCall: (now: number, perMinute: number) => Ref.modify(state, keyedCallAdmitted(now, perMinute))
}))

export type EmulatorStore = Effect.Effect.Success<typeof makeEmulatorStore>
