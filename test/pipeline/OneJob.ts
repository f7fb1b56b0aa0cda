import { FileSystem, Path } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Layer, Redacted } from "effect"
import type { Job } from "../../src/domain/Job.js"
import { SEEDANCE_MODEL, type SeedanceParams } from "../../src/domain/SeedanceParams.js"
import type { EmulatorHandle } from "../../src/emulator/Emulator.js"
import { FrameResolver } from "../../src/pipeline/FrameUploads.js"
import { GenerationTimes } from "../../src/pipeline/GenerationTimes.js"
import { type JobSettings, runJob } from "../../src/pipeline/JobRunner.js"
import { type JobStart, submitStart } from "../../src/pipeline/JobStart.js"
import { emptyReuseIndex, type ReuseIndex } from "../../src/pipeline/ReuseCache.js"
import { RunGate } from "../../src/pipeline/RunGate.js"
import { runServices } from "../../src/pipeline/RunPipeline.js"
import { RunProgress } from "../../src/pipeline/RunProgress.js"
import { Journal } from "../../src/store/Journal.js"
import { readJournal } from "../../src/store/JournalReader.js"
import { fastPoll, fastRetry, TEST_KEY } from "../support/TestRun.js"

export const fourSeconds = (prompt: string): SeedanceParams => ({
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
  params: fourSeconds(prompt)
})

export interface OneJobOptions {
  readonly start?: JobStart
  readonly reuse?: ReuseIndex
  readonly poll?: Partial<JobSettings["poll"]>
  /** the run's deadline (`--deadline`), from now */
  readonly runDeadline?: Duration.Duration
}

/**
 * One job rendered against the emulator in a fresh run directory, as a run
 * renders each of its jobs; what it journaled comes back with its report.
 */
export const renderOneJob = (emulator: EmulatorHandle, job: Job, options: OneJobOptions = {}) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const runDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-job-" })
    const journalFile = path.join(runDirectory, "journal.jsonl")
    yield* fs.makeDirectory(path.join(runDirectory, "videos"))
    yield* fs.makeDirectory(path.join(runDirectory, ".partial"))
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
    const run = Layer.mergeAll(
      Journal.layer(journalFile),
      RunGate.layer(deadlineAtMs),
      FrameResolver.layer(fastRetry),
      GenerationTimes.layer(settings.poll)
    ).pipe(
      Layer.provideMerge(runServices({ baseUrl: emulator.baseUrl, apiKey: Redacted.make(TEST_KEY) }, 6000)),
      Layer.provide(NodeHttpClient.layerUndici)
    )
    const startedMs = Date.now()
    const report = yield* runJob(settings, job, options.start ?? submitStart).pipe(
      Effect.provide(run),
      Effect.provideService(RunProgress, { started: () => Effect.void, changed: () => Effect.void })
    )
    const tookMs = Date.now() - startedMs
    const journal = (yield* readJournal(journalFile)).events
    return { report, journal, tags: journal.map((event) => event._tag), runDirectory, tookMs }
  })
