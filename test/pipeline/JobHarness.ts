import { FileSystem, HttpClient, HttpClientResponse, Path } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Layer, Redacted } from "effect"
import type { Job } from "../../src/domain/Job.js"
import type { ErrorRecord } from "../../src/domain/JobReport.js"
import { SEEDANCE_MODEL, type SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { type EmulatorHandle, noFaults } from "../../src/emulator/Emulator.js"
import type { ScriptedFault } from "../../src/emulator/EmulatorConfig.js"
import { FrameResolver } from "../../src/pipeline/FrameUploads.js"
import { type JobSettings, runJob } from "../../src/pipeline/JobRunner.js"
import { type JobStart, submitStart } from "../../src/pipeline/JobStart.js"
import { PollScheduler } from "../../src/pipeline/PollScheduler.js"
import { emptyReuseIndex, type ReuseIndex } from "../../src/pipeline/ReuseCache.js"
import { RunGate } from "../../src/pipeline/RunGate.js"
import { runServices } from "../../src/pipeline/RunPipeline.js"
import { type ProgressEvent, RunProgress } from "../../src/pipeline/RunProgress.js"
import { Journal } from "../../src/store/Journal.js"
import { readJournal } from "../../src/store/JournalReader.js"
import { fastPoll, fastRetry, TEST_KEY, testEmulator } from "../support/TestRun.js"

export const params = (prompt: string): SeedanceParams => ({
  prompt,
  duration: 4,
  resolution: "480p",
  aspect_ratio: "16:9",
  seed: 7,
  camera_fixed: false,
  generate_audio: false,
  skip_moderation: false
})

export const jobOf = (id: string, prompt = "Waves roll onto a pebble beach."): Job => ({
  id,
  shot: id,
  seed: 7,
  seedDrawn: false,
  params: params(prompt)
})

/** Where the job's calls go: the emulator, or a stub standing in for the API. */
export interface Api {
  readonly baseUrl: string
  readonly http: Layer.Layer<HttpClient.HttpClient>
}

export const emulated = (emulator: EmulatorHandle): Api => ({
  baseUrl: emulator.baseUrl,
  http: NodeHttpClient.layerUndici
})

export interface JobRunOptions {
  readonly start?: JobStart
  readonly reuse?: ReuseIndex
  /** the fatal answer that already closed the run's gate */
  readonly stoppedBy?: ErrorRecord
  readonly poll?: Partial<JobSettings["poll"]>
  /** the run's deadline (`--deadline`), from now */
  readonly runDeadline?: Duration.Duration
}

/**
 * Runs one job in a fresh run directory; what it journaled and what it told
 * come back with its report, and how long it took.
 */
export const renderJob = (api: Api, job: Job, options: JobRunOptions = {}) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const runDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-job-" })
    const journalFile = path.join(runDirectory, "journal.jsonl")
    // As the run prepares it for its jobs.
    yield* fs.makeDirectory(path.join(runDirectory, "videos"))
    yield* fs.makeDirectory(path.join(runDirectory, ".partial"))
    const told: Array<ProgressEvent> = []
    const settings: JobSettings = {
      model: SEEDANCE_MODEL,
      poll: { ...fastPoll, ...options.poll },
      retry: fastRetry,
      runDirectory,
      reuse: options.reuse ?? emptyReuseIndex
    }
    const deadlineAtMs = options.runDeadline === undefined
      ? undefined
      : Date.now() + Duration.toMillis(options.runDeadline)
    const gate = Layer.effect(
      RunGate,
      RunGate.make(deadlineAtMs).pipe(
        Effect.tap((gate) => (options.stoppedBy === undefined ? Effect.void : gate.close(options.stoppedBy)))
      )
    )
    const journalLayer = Journal.layer(journalFile)
    const run = Layer.mergeAll(
      journalLayer,
      gate,
      FrameResolver.layer(fastRetry).pipe(Layer.provide(journalLayer)),
      PollScheduler.layer(settings.poll).pipe(Layer.provide(gate))
    ).pipe(
      Layer.provideMerge(runServices({ baseUrl: api.baseUrl, apiKey: Redacted.make(TEST_KEY) }, 6000)),
      Layer.provide(api.http)
    )
    const startedMs = Date.now()
    const report = yield* runJob(settings, job, options.start ?? submitStart).pipe(
      Effect.provide(run),
      Effect.provideService(RunProgress, {
        started: () => Effect.void,
        changed: (event) => Effect.sync(() => void told.push(event))
      })
    )
    const tookMs = Date.now() - startedMs
    const journal = (yield* readJournal(journalFile)).events
    return { report, journal, told, tags: journal.map((event) => event._tag), runDirectory, tookMs }
  })

export const withScript = (...script: ReadonlyArray<ScriptedFault>) => testEmulator({ faults: { ...noFaults, script } })

/** A canned answer instead of the one the server would give. */
export interface CannedAnswer {
  readonly status: number
  readonly body: unknown
}

const answered = (request: Parameters<Parameters<typeof HttpClient.make>[0]>[0], { body, status }: CannedAnswer) =>
  HttpClientResponse.fromWeb(
    request,
    new Response(typeof body === "string" ? body : JSON.stringify(body), { status })
  )

/**
 * A stand-in for the API, for answers the emulator never gives: `answer`
 * may take any call; the others go as a job that completes at once would.
 */
export const stubApi = (answer: (url: string) => CannedAnswer | undefined): Api => ({
  baseUrl: "https://api.test",
  http: Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) => {
      const result = "https://api.test/v2/requests/req-1"
      const canned = answer(request.url) ??
        (request.url.endsWith("/status")
          ? { status: 200, body: { status: "COMPLETED", metrics: { inference_time: 1 } } }
          : request.url === result
          ? { status: 200, body: { status: "COMPLETED", output: "https://files.test/req-1.mp4" } }
          : {
            status: 200,
            body: { request_id: "req-1", status: "QUEUED", status_url: `${result}/status`, response_url: result }
          })
      return Effect.succeed(answered(request, canned))
    })
  )
})

export const isSubmit = (url: string) => url === `https://api.test/v2/${SEEDANCE_MODEL}`

/**
 * The emulator behind a middleman that may answer a call itself (a proxy's
 * page, a gateway's error): `intercept` sees each call's URL; undefined lets it through.
 */
export const interceptedEmulator = (
  emulator: EmulatorHandle,
  intercept: (url: string) => CannedAnswer | undefined
): Api => ({
  baseUrl: emulator.baseUrl,
  http: Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (real) =>
      HttpClient.make((request) => {
        const canned = intercept(request.url)
        return canned === undefined ? real.execute(request) : Effect.succeed(answered(request, canned))
      }))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
})
