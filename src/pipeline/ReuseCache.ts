import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option } from "effect"
import type { Job } from "../domain/Job.js"
import type { ReusedFrom, VideoOutput } from "../domain/JobReport.js"
import { temporaryPathFor } from "../store/AtomicFile.js"
import { fileMatches, sha256OfFile } from "../store/FileDigest.js"
import { sha256Hex } from "../store/FileDigest.js"
import { journaledRun, readJournal } from "../store/JournalReader.js"
import { LATEST_LINK } from "../store/LatestLink.js"
import { runFiles } from "../store/RunDirectory.js"

/** A verified video of an earlier run that a job of this run may take instead of rendering. */
export interface ReuseCandidate {
  readonly runId: string
  readonly runDirectory: string
  readonly jobId: string
  readonly file: string
  readonly output: VideoOutput
  /** what the source job's own report says of its request, kept so the record stands once that run is pruned */
  readonly requestId?: string | undefined
  readonly cost?: number | undefined
  readonly inferenceTime?: number | undefined
}

/** What a job that took `candidate` records of where its video came from. */
export const reusedFromOf = (candidate: ReuseCandidate): ReusedFrom => ({
  run: candidate.runId,
  job: candidate.jobId,
  ...(candidate.requestId === undefined ? {} : { requestId: candidate.requestId }),
  ...(candidate.cost === undefined ? {} : { cost: candidate.cost }),
  ...(candidate.inferenceTime === undefined ? {} : { inferenceTime: candidate.inferenceTime })
})

/** The API a run renders on, as `--reuse` keys it: one embedded emulator is as good as another, whatever its port. */
export const EMULATOR_ORIGIN = "emulator"

/**
 * The origin of a run's videos: `emulator` for the embedded emulator, else
 * the base URL's scheme://host:port. A video is reused only by a run of the
 * same origin: an emulator's test pattern never passes for a real render.
 */
export const apiOriginOf = (target: { readonly emulator: boolean; readonly baseUrl: string }): string => {
  if (target.emulator) return EMULATOR_ORIGIN
  try {
    return new URL(target.baseUrl).origin
  } catch {
    return target.baseUrl
  }
}

export interface ReuseIndex {
  readonly find: (paramsKey: string) => ReuseCandidate | undefined
  readonly size: number
}

export const emptyReuseIndex: ReuseIndex = { find: () => undefined, size: 0 }

/** Frame file digests by role: a local frame counts by its content, not by the URL its upload got. */
export type FrameDigests = Partial<Record<"first_frame" | "last_frame", string>>

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
  }
  return JSON.stringify(value)
}

/**
 * The cache key of a render: model plus the exact body, seed included, keys
 * sorted. Equal keys mean the API would be asked for the same video.
 */
export const paramsKeyOf = (model: string, job: Job, frames: FrameDigests): string =>
  sha256Hex(canonicalJson({ model, params: job.params, frames }))

/** The digests of a job's local frame files (URL frames are part of `params` already). */
export const localFrameDigests = (job: Job): Effect.Effect<FrameDigests, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const digests: { first_frame?: string; last_frame?: string } = {}
    if (job.firstFrame?._tag === "File") digests.first_frame = yield* sha256OfFile(job.firstFrame.absolutePath)
    if (job.lastFrame?._tag === "File") digests.last_frame = yield* sha256OfFile(job.lastFrame.absolutePath)
    return digests
  })

/**
 * Indexes the completed videos of the runs under `root` (run directories one
 * or two levels down, as `output/<manifest>/<time>/`), by params key. Runs
 * whose journal cannot be read are passed over, and so are runs on another
 * API than `origin` (see `apiOriginOf`; undefined takes every run); files are
 * verified when taken.
 */
export const buildReuseIndex = (
  root: string,
  exclude: string,
  origin: string | undefined
): Effect.Effect<ReuseIndex, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (!(yield* fs.exists(root).pipe(Effect.orElseSucceed(() => false)))) return emptyReuseIndex
    const subdirectories = (directory: string) =>
      fs.readDirectory(directory).pipe(
        // `latest` is a link to a run listed under its own name, and may move to this very run.
        Effect.map((names) =>
          names.filter((name) => !name.startsWith(".") && name !== LATEST_LINK).map((name) =>
            path.join(directory, name)
          )
        ),
        Effect.orElseSucceed((): Array<string> => [])
      )
    const level1 = yield* subdirectories(root)
    const level2 = (yield* Effect.forEach(level1, subdirectories)).flat()
    const index = new Map<string, ReuseCandidate>()
    const excluded = path.resolve(exclude)
    for (const runDirectory of [...level1, ...level2]) {
      if (path.resolve(runDirectory) === excluded) continue
      const journalFile = runFiles(path, runDirectory).journal
      const contents = yield* readJournal(journalFile).pipe(Effect.option)
      if (Option.isNone(contents)) continue
      const run = journaledRun(contents.value.events)
      // A journal without its settings line cannot say where its videos came from.
      if (origin !== undefined && (run.run === undefined || apiOriginOf(run.run) !== origin)) continue
      const runId = run.run?.runId ?? path.basename(runDirectory)
      for (const [jobId, state] of run.jobs) {
        const downloaded = state.downloaded
        if (downloaded === undefined) continue
        // A video that was itself reused keeps the figures of the render it came from.
        const source = downloaded.reusedFrom ?? state.finished
        index.set(downloaded.paramsKey, {
          runId,
          runDirectory,
          jobId,
          file: path.join(runDirectory, downloaded.output.path),
          output: downloaded.output,
          requestId: source?.requestId ?? downloaded.requestId,
          cost: source?.cost,
          inferenceTime: source?.inferenceTime
        })
      }
    }
    return { find: (key) => index.get(key), size: index.size }
  })

/**
 * Puts a verified earlier video at `target`: hard-linked where the file
 * system allows, else copied; through a temporary name, so `target` is whole
 * or absent. `false` when the earlier file is gone or changed.
 */
export const takeReusedVideo = (
  candidate: ReuseCandidate,
  target: string
): Effect.Effect<boolean, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (!(yield* fileMatches(candidate.file, candidate.output.sha256))) return false
    const temporary = temporaryPathFor(path, target)
    yield* fs.link(candidate.file, temporary).pipe(Effect.orElse(() => fs.copyFile(candidate.file, temporary)))
    yield* fs.rename(temporary, target).pipe(Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore)))
    return true
  })
