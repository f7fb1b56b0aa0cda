import { Command, CommandExecutor, FileSystem, Path } from "@effect/platform"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { isJobId } from "../domain/JobId.js"
import type { JobReport } from "../domain/JobReport.js"
import { temporaryPathFor } from "../store/AtomicFile.js"
import { posterPathsOf, runFiles } from "../store/RunDirectory.js"
import { isContainedPath } from "../store/SafePath.js"

/** The still images of a clip the contact sheet shows, relative to the run directory. */
export interface ClipStills {
  /** the video's first frame, shown until the clip loads */
  readonly poster: string
  /** the video's last frame */
  readonly lastFrame: string
}

/** How long one clip's stills may take before the sheet goes without them. */
const EXTRACT_TIMEOUT = "20 seconds"

/** How long a report write spends on new stills; a later write (resume) makes the rest. */
const STILLS_BUDGET_MS = 30_000

/** A poster at most this wide: a 1080p still would weigh more than the sheet. */
const STILL_SCALE = "scale='min(640,iw)':-2"

const ffmpegArgs = (video: string, poster: string, lastFrame: string): ReadonlyArray<string> => [
  ...["-hide_banner", "-loglevel", "error", "-nostdin", "-y"],
  ...["-i", video, "-sseof", "-1", "-i", video],
  ...["-map", "0:v:0", "-frames:v", "1", "-vf", STILL_SCALE, "-q:v", "4", "-f", "image2", "-update", "1", poster],
  ...["-map", "1:v:0", "-vf", STILL_SCALE, "-q:v", "4", "-f", "image2", "-update", "1", lastFrame]
]

/**
 * Extracts a clip's first and last frames. Optional: a report is written
 * without stills where no `PosterMaker` is provided (tests, library use).
 */
export class PosterMaker extends Context.Tag("shotlist/PosterMaker")<PosterMaker, {
  /** writes both stills, each whole or not at all; false when ffmpeg could not */
  readonly extract: (video: string, poster: string, lastFrame: string) => Effect.Effect<boolean>
}>() {
  static readonly ffmpeg = Layer.effect(
    PosterMaker,
    Effect.gen(function*() {
      const executor = yield* CommandExecutor.CommandExecutor
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      // The installer is loaded on the first still, not at every start-up of the command line.
      const ffmpegPath = yield* Effect.cached(
        Effect.tryPromise(() => import("@ffmpeg-installer/ffmpeg")).pipe(Effect.map((module) => module.default.path))
      )
      const extract = (video: string, poster: string, lastFrame: string) => {
        const posterPart = temporaryPathFor(path, poster)
        const lastPart = temporaryPathFor(path, lastFrame)
        return ffmpegPath.pipe(
          Effect.flatMap((ffmpeg) =>
            Command.exitCode(Command.make(ffmpeg, ...ffmpegArgs(video, posterPart, lastPart)))
          ),
          Effect.timeout(EXTRACT_TIMEOUT),
          Effect.flatMap((code) =>
            code === 0
              ? Effect.zipRight(fs.rename(posterPart, poster), fs.rename(lastPart, lastFrame)).pipe(Effect.as(true))
              : Effect.succeed(false)
          ),
          Effect.orElseSucceed(() => false),
          Effect.ensuring(Effect.ignore(Effect.zip(fs.remove(posterPart), fs.remove(lastPart)))),
          Effect.provideService(CommandExecutor.CommandExecutor, executor)
        )
      }
      return { extract }
    })
  )
}

/**
 * The stills of each completed job's clip: those already under `posters/`,
 * and, where a `PosterMaker` is provided, those it can extract now.
 */
export const clipStills = (
  runDirectory: string,
  jobs: ReadonlyArray<JobReport>
): Effect.Effect<ReadonlyMap<string, ClipStills>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const maker = yield* Effect.serviceOption(PosterMaker)
    // A deadline checked per clip, not a timeout: the interrupted run writes its report uninterruptibly.
    const deadline = (yield* Clock.currentTimeMillis) + STILLS_BUDGET_MS
    const exists = (file: string) => fs.exists(path.join(runDirectory, file)).pipe(Effect.orElseSucceed(() => false))
    const stillsOf = (job: JobReport) =>
      Effect.gen(function*() {
        // A report read back (assemble) may be edited: an id or a path that would lead out of the run gets no stills.
        if (job.output === undefined || !isJobId(job.id) || !isContainedPath(job.output.path)) return []
        const stills = posterPathsOf(job.id)
        if ((yield* exists(stills.poster)) && (yield* exists(stills.lastFrame))) return [[job.id, stills] as const]
        if (Option.isNone(maker) || (yield* Clock.currentTimeMillis) > deadline) return []
        if (!(yield* exists(job.output.path))) return []
        yield* fs.makeDirectory(runFiles(path, runDirectory).posters, { recursive: true }).pipe(Effect.ignore)
        const made = yield* maker.value.extract(
          path.join(runDirectory, job.output.path),
          path.join(runDirectory, stills.poster),
          path.join(runDirectory, stills.lastFrame)
        )
        return made ? [[job.id, stills] as const] : []
      })
    const found = yield* Effect.forEach(jobs, stillsOf, { concurrency: 2 })
    return new Map(found.flat())
  })
