import { FileSystem, HttpClient, HttpClientRequest, HttpClientResponse, Path } from "@effect/platform"
import type { Duration, Schema } from "effect"
import { Effect, Layer, Logger, LogLevel, Option, Redacted, Stream } from "effect"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Job } from "../../src/domain/Job.js"
import { pixelSize, SEEDANCE_MODEL } from "../../src/domain/SeedanceParams.js"
import { makeClipRenderer } from "../../src/emulator/ClipRenderer.js"
import {
  defaultEmulatorConfig,
  Emulator,
  type EmulatorConfig,
  type EmulatorStats
} from "../../src/emulator/Emulator.js"
import { makeClipPadder } from "../../src/emulator/SyntheticVideo.js"
import { expandJobs } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { DEFAULT_POLL, type PollSettings } from "../../src/pipeline/PollSchedule.js"
import type { RequestBudget } from "../../src/pipeline/RequestBudget.js"
import { DEFAULT_RETRY, type RetrySettings } from "../../src/pipeline/RetryPolicy.js"
import { makeRunPlan, runPipeline, runServices } from "../../src/pipeline/RunPipeline.js"
import { decodeReport } from "../../src/report/ReportFile.js"
import { SegmindClient } from "../../src/segmind/SegmindClient.js"
import { layerSegmindConfig } from "../../src/segmind/SegmindConfig.js"
import { findVideoUrl } from "../../src/segmind/VideoUrl.js"
import { ResultResponse, StatusResponse, SubmitResponse } from "../../src/segmind/WireSchemas.js"

export const BENCH_KEY = "SG_bench0000000000"

/** Clips (and padded files) are cached across benchmark runs: rendering is not what is measured. */
export const BENCH_CLIP_CACHE = join(tmpdir(), "shotlist-bench-clips")

/** The job every benchmark renders: 4 s of 480p 16:9, silent. */
export const BENCH_SHOT = { duration: 4, resolution: "480p", aspect_ratio: "16:9", generate_audio: false } as const

/** Writes a manifest of one shot swept over `jobs` seeds (1..jobs) into `directory`. */
export const writeSweepManifest = (directory: string, name: string, jobs: number) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(directory, `${name}.yaml`)
    const seeds = Array.from({ length: jobs }, (_, i) => i + 1)
    yield* fs.writeFileString(
      file,
      [
        "version: 1",
        `name: ${name}`,
        "defaults:",
        `  duration: ${BENCH_SHOT.duration}`,
        `  resolution: ${BENCH_SHOT.resolution}`,
        `  aspect_ratio: "${BENCH_SHOT.aspect_ratio}"`,
        `  generate_audio: ${BENCH_SHOT.generate_audio}`,
        "shots:",
        "  - id: lighthouse",
        "    prompt: A lighthouse on a rocky point at dusk, waves below, slow push in.",
        "    sweep:",
        `      seed: [${seeds.join(", ")}]`,
        ""
      ].join("\n")
    )
    return file
  })

export const loadJobs = (manifestFile: string) => Effect.flatMap(loadManifest(manifestFile), expandJobs)

/** The emulator in-process; the benchmark's shot is rendered (and padded) before anything is timed. */
export const benchEmulator = (config: Partial<EmulatorConfig>) =>
  Effect.gen(function*() {
    const [width, height] = pixelSize(BENCH_SHOT.resolution, BENCH_SHOT.aspect_ratio)
    const clip = yield* Effect.flatMap(makeClipRenderer(BENCH_CLIP_CACHE), (render) =>
      render({ width, height, durationSeconds: BENCH_SHOT.duration, audio: BENCH_SHOT.generate_audio }))
    const bytes = config.syntheticVideoBytes
    if (bytes !== undefined) {
      yield* Effect.flatMap(makeClipPadder(BENCH_CLIP_CACHE), (pad) =>
        pad(clip, bytes))
    }
    return yield* Emulator.start({
      ...defaultEmulatorConfig,
      apiKey: BENCH_KEY,
      workers: 1024,
      clipCacheDir: BENCH_CLIP_CACHE,
      sharedClips: true,
      ...config
    })
  }).pipe(Effect.orDie)

/**
 * Renders a manifest through shotlist's own pipeline, exactly as the CLI's
 * run does, with the production poll and retry settings, into `runDirectory`.
 */
export const renderWithPipeline = (
  manifestFile: string,
  baseUrl: string,
  options: {
    readonly concurrency: number
    readonly rpm: number
    readonly runDirectory: string
    readonly runDeadline?: Duration.Duration
    /** the prior of the model's generation time, as `--expect` sets it (default: Segmind's figure) */
    readonly expect?: Duration.Duration
    /** poll and retry settings other than production's (a time-scaled benchmark scales them) */
    readonly poll?: PollSettings
    readonly retry?: RetrySettings
    /** a request budget other than `rpm` calls a minute (a time-scaled window, or another implementation) */
    readonly budget?: Layer.Layer<RequestBudget>
  }
) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const loaded = yield* loadManifest(manifestFile)
    const jobs = yield* expandJobs(loaded)
    return yield* runPipeline(makeRunPlan({
      runId: path.basename(options.runDirectory),
      runDirectory: options.runDirectory,
      manifest: { path: loaded.absolutePath, sha256: loaded.sha256, text: loaded.text },
      jobs,
      model: loaded.manifest.model,
      baseUrl,
      concurrency: options.concurrency,
      rpm: options.rpm,
      poll: options.expect === undefined
        ? options.poll ?? DEFAULT_POLL
        : { ...(options.poll ?? DEFAULT_POLL), prior: () => options.expect! },
      retry: options.retry ?? DEFAULT_RETRY,
      runDeadline: options.runDeadline
    })).pipe(
      Effect.provide(
        options.budget === undefined
          ? runServices({ baseUrl, apiKey: Redacted.make(BENCH_KEY) }, options.rpm)
          : Layer.mergeAll(
            SegmindClient.Default.pipe(
              Layer.provide(layerSegmindConfig({ baseUrl, apiKey: Redacted.make(BENCH_KEY) }))
            ),
            options.budget
          )
      ),
      Logger.withMinimumLogLevel(LogLevel.None)
    )
  })

/**
 * A client as Segmind's SDK writes it: submit, then every `interval` ask the
 * status URL until COMPLETED, then GET the result URL and download the video
 * (drained, not kept).
 */
export const renderWithFixedPoller = (
  baseUrl: string,
  jobs: ReadonlyArray<Job>,
  concurrency: number,
  interval: Duration.Duration
) =>
  Effect.gen(function*() {
    const http = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
    const keyed = (request: HttpClientRequest.HttpClientRequest) =>
      HttpClientRequest.setHeader(request, "x-api-key", BENCH_KEY)
    const getJson = <A, I>(url: string, schema: Schema.Schema<A, I>) =>
      http.get(url, { headers: { "x-api-key": BENCH_KEY } }).pipe(
        Effect.flatMap(HttpClientResponse.schemaBodyJson(schema)),
        Effect.scoped
      )
    const renderOne = (job: Job) =>
      Effect.gen(function*() {
        const accepted = yield* HttpClientRequest.post(`${baseUrl}/v2/${SEEDANCE_MODEL}`).pipe(
          keyed,
          HttpClientRequest.bodyUnsafeJson(job.params),
          http.execute,
          Effect.flatMap(HttpClientResponse.schemaBodyJson(SubmitResponse)),
          Effect.scoped
        )
        for (;;) {
          yield* Effect.sleep(interval)
          const answer = yield* getJson(accepted.status_url, StatusResponse)
          if (answer.status === "COMPLETED") break
        }
        const result = yield* getJson(accepted.response_url, ResultResponse)
        const url = yield* Option.match(findVideoUrl(result), {
          onNone: () => Effect.dieMessage(`no video URL in the result of ${accepted.request_id}`),
          onSome: Effect.succeed
        })
        yield* http.get(url).pipe(
          Effect.flatMap((response) => Stream.runDrain(response.stream)),
          Effect.scoped
        )
      })
    yield* Effect.forEach(jobs, renderOne, { concurrency, discard: true })
  })

/** Per-job figures from the emulator's records: polls, detection latency (ms). */
export const pollFigures = (stats: EmulatorStats) => {
  const completed = stats.records.filter((r) => r.completedAt !== undefined)
  const firstPollAt = new Map<string, number>()
  for (const request of stats.requests) {
    const id = /^\/v2\/requests\/([^/]+)(\/status)?$/.exec(request.path)?.[1]
    if (request.method === "GET" && id !== undefined && !firstPollAt.has(id)) firstPollAt.set(id, request.at)
  }
  return {
    jobs: stats.records.length,
    completed: completed.length,
    // Result calls beyond the one that fetched the result were polls too.
    pollsPerJob: stats.records.map((r) => r.statusCalls + Math.max(0, r.resultCalls - 1)),
    detectionMs: completed.flatMap((r) =>
      r.firstResultFetchAt === undefined || r.completedAt === undefined ? [] : [r.firstResultFetchAt - r.completedAt]
    ),
    /** from submission to the first status (or result) call */
    firstPollMs: stats.records.flatMap((r) => {
      const at = firstPollAt.get(r.requestId)
      return at === undefined ? [] : [at - r.submittedAt]
    }),
    // The emulator's own lag, to show it is not the bottleneck: queueing, and time past the drawn generation time.
    emulatorQueueMs: stats.records.flatMap((r) => (r.startedAt === undefined ? [] : [r.startedAt - r.submittedAt])),
    emulatorOverrunMs: completed.flatMap((r) =>
      r.startedAt === undefined || r.completedAt === undefined ? [] : [r.completedAt - r.startedAt - r.generationMs]
    )
  }
}

/** A run's report.json, decoded. */
export const readReport = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.flatMap(decodeReport),
    Effect.orDie
  )
