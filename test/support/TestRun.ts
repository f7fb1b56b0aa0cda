import { FileSystem, Path } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { ConfigProvider, Duration, Effect, Logger, LogLevel, Redacted, Ref } from "effect"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { vi } from "vitest"
import { cli } from "../../src/cli/Cli.js"
import { type ExitCode, ProcessExitCode } from "../../src/cli/ExitCode.js"
import { withTopLevelErrors } from "../../src/cli/TopLevelErrors.js"
import { defaultEmulatorConfig, Emulator, type EmulatorConfig } from "../../src/emulator/Emulator.js"
import { expandJobs } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import type { PollSettings } from "../../src/pipeline/PollSchedule.js"
import type { RetrySettings } from "../../src/pipeline/RetryPolicy.js"
import { makeRunPlan, runPipeline, runServices } from "../../src/pipeline/RunPipeline.js"
import { decodeReport } from "../../src/report/ReportFile.js"

/** Flags of a run on the test emulator: a budget that never binds, and its clips' time as the prior. */
export const FAST_RUN = ["--rpm", "6000", "--expect", "0.3s"] as const

export const TEST_KEY = "SG_0123456789abcdef"

/** Clips are cached across suites: rendering is the slow part. */
export const TEST_CLIP_CACHE = join(tmpdir(), "shotlist-test-clips")

export const fastPoll: PollSettings = {
  prior: () => Duration.millis(100),
  priorSpread: 0.25,
  latencyGap: Duration.millis(100),
  budgetWindow: Duration.minutes(1),
  floor: Duration.millis(50),
  cap: Duration.millis(400),
  deadline: Duration.minutes(2)
}

export const fastRetry: RetrySettings = { base: Duration.millis(50), cap: Duration.millis(500), tries: 8 }

export const testEmulator = (config: Partial<EmulatorConfig> = {}) =>
  Emulator.start({
    ...defaultEmulatorConfig,
    apiKey: TEST_KEY,
    timeScale: 0.05,
    clipCacheDir: TEST_CLIP_CACHE,
    ...config
  })

/** Renders a manifest through the pipeline against `baseUrl`, into a fresh temporary run directory. */
export const renderManifest = (
  manifestFile: string,
  baseUrl: string,
  options: {
    readonly concurrency?: number
    readonly apiKey?: string
    readonly rpm?: number
    readonly runDirectory?: string
    readonly runDeadline?: Duration.Duration
    readonly poll?: Partial<PollSettings>
  } = {}
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const runDirectory = options.runDirectory ?? (yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-run-" }))
    const loaded = yield* loadManifest(manifestFile)
    const jobs = yield* expandJobs(loaded)
    const rpm = options.rpm ?? 6000
    const report = yield* runPipeline(makeRunPlan({
      runId: path.basename(runDirectory),
      runDirectory,
      manifest: { path: loaded.absolutePath, sha256: loaded.sha256, text: loaded.text },
      jobs,
      model: loaded.manifest.model,
      baseUrl,
      concurrency: options.concurrency ?? 2,
      rpm,
      poll: { ...fastPoll, ...options.poll },
      retry: fastRetry,
      runDeadline: options.runDeadline
    })).pipe(
      Effect.provide(runServices({ baseUrl, apiKey: Redacted.make(options.apiKey ?? TEST_KEY) }, rpm))
    )
    return { report, runDirectory }
  }).pipe(Effect.provide(NodeHttpClient.layerUndici), Logger.withMinimumLogLevel(LogLevel.None))

export interface CliOutcome {
  readonly exitCode: ExitCode
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the real command line in-process with the given environment; captures its output. `atTop`: as
 * `main.ts` runs it, whatever reaches the top said in one line with its exit code.
 */
export const runCli = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  options: { readonly atTop?: boolean } = {}
) =>
  Effect.gen(function*() {
    const exitCode = yield* Ref.make<ExitCode>(0)
    const out: Array<string> = []
    const err: Array<string> = []
    const log = vi.spyOn(console, "log").mockImplementation((...parts: Array<unknown>) =>
      void out.push(parts.join(" "))
    )
    const error = vi.spyOn(console, "error").mockImplementation((...parts: Array<unknown>) =>
      void err.push(parts.join(" "))
    )
    const program = cli(["node", "shotlist", ...args])
    yield* Effect.asVoid(options.atTop === true ? withTopLevelErrors(program) : program).pipe(
      Effect.provideService(ProcessExitCode, exitCode),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.provide(NodeHttpClient.layerUndici),
      Logger.withMinimumLogLevel(LogLevel.None),
      Effect.ensuring(Effect.sync(() => {
        log.mockRestore()
        error.mockRestore()
      }))
    )
    return { exitCode: yield* Ref.get(exitCode), stdout: out.join("\n"), stderr: err.join("\n") } satisfies CliOutcome
  })

export const nodeContext = NodeContext.layer

/** A run's report.json, decoded (and so checked against the Report schema). */
export const readReport = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(Effect.flatMap(decodeReport))
