import { Command, FileSystem, Path } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform/CommandExecutor"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Clock, Data, Deferred, Effect } from "effect"
import { FRAME_HEADER_BYTES, frameImageOf, frameProblem } from "../domain/FrameLimits.js"
import type { Job } from "../domain/Job.js"
import { type JobReport, jobReportBase } from "../domain/JobReport.js"
import { temporaryPathFor, writeFileAtomic } from "../store/AtomicFile.js"
import { sha256Hex } from "../store/FileDigest.js"
import { Journal } from "../store/Journal.js"
import { localFrameCopy } from "../store/RunDirectory.js"
import { RunProgress } from "./RunProgress.js"

// `first_frame: {from: SHOT}`: a follower opens on the last frame of its source job's video, so it waits for it.

/** Why a follower cannot open on its source's last frame: the source did not end with a video, or its frame is unusable. */
export class SourceUnavailable extends Data.TaggedError("SourceUnavailable")<{
  readonly shot: string
  readonly job: string
  /** what became of the source, as a phrase: `failed (ModerationFailed: …)` */
  readonly reason: string
}> {
  override get message() {
    return `its first frame is the last frame of shot ${this.shot} (${this.job}), which ${this.reason}`
  }
}

/** The jobs in an order where each source comes before its followers, storyboard order kept otherwise. */
export const chainOrder = (jobs: ReadonlyArray<Job>): ReadonlyArray<number> => {
  const indexOf = new Map(jobs.map((job, index) => [job.id, index]))
  const placed = new Set<number>()
  const order: Array<number> = []
  const place = (index: number, visiting: Set<number>): void => {
    if (placed.has(index) || visiting.has(index)) return
    visiting.add(index)
    const source = jobs[index]!.firstFrameFrom
    const sourceIndex = source === undefined ? undefined : indexOf.get(source.job)
    if (sourceIndex !== undefined) place(sourceIndex, visiting)
    placed.add(index)
    order.push(index)
  }
  for (const index of jobs.keys()) place(index, new Set())
  return order
}

/**
 * Renders every job, at most `concurrency` at once, sources before their
 * followers. A follower that `waits` for its source (one about to open on its
 * last frame) is started only once the source has ended: waiting never holds
 * a slot, so followers cannot fill the slots their sources need. The first
 * failure of a `render` (the run's own files refused) ends the whole.
 */
export const renderInChainOrder = <E, R>(
  jobs: ReadonlyArray<Job>,
  concurrency: number,
  waits: (index: number) => boolean,
  render: (index: number) => Effect.Effect<JobReport, E, R>
): Effect.Effect<Array<JobReport>, E, R> =>
  Effect.gen(function*() {
    const slots = yield* Effect.makeSemaphore(concurrency)
    const indexOf = new Map(jobs.map((job, index) => [job.id, index]))
    const placed = new Set<number>()
    const roots: Array<number> = []
    const followersOf = new Map<number, Array<number>>()
    for (const index of chainOrder(jobs)) {
      const source = jobs[index]!.firstFrameFrom
      const sourceIndex = source === undefined ? undefined : indexOf.get(source.job)
      // A source not placed yet closes a cycle (the loader refuses those): the follower starts as a root.
      if (sourceIndex !== undefined && placed.has(sourceIndex) && waits(index)) {
        const waiting = followersOf.get(sourceIndex)
        if (waiting === undefined) followersOf.set(sourceIndex, [index])
        else waiting.push(index)
      } else {
        roots.push(index)
      }
      placed.add(index)
    }
    const reports = new Array<JobReport>(jobs.length)
    // A source's followers run as its children: failures end the run and interruption waits for them, as for any job.
    const start = (index: number): Effect.Effect<void, E, R> =>
      slots.withPermits(1)(render(index)).pipe(
        Effect.map((report) => void (reports[index] = report)),
        Effect.zipRight(
          Effect.forEach(followersOf.get(index) ?? [], start, { concurrency: "unbounded", discard: true })
        )
      )
    // A root whose followers run holds its place without a slot; the slots still bound what runs.
    yield* Effect.forEach(roots, start, { concurrency, discard: true })
    return reports
  })

/** The last frame of `video` as a PNG at `output`, by ffmpeg; the frame is checked as a manifest's frame would be. */
export const extractLastFrame = Effect.fn("ShotChain.extractLastFrame")(function*(video: string, output: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  yield* fs.makeDirectory(path.dirname(output), { recursive: true })
  const temporary = `${temporaryPathFor(path, output)}.png`
  const exitCode = yield* Command.exitCode(Command.make(
    ffmpegInstaller.path,
    ...["-v", "error", "-y", "-sseof", "-0.1", "-i", video, "-frames:v", "1", "-update", "1", temporary]
  ))
  if (exitCode !== 0) return yield* Effect.fail(`ffmpeg exited with ${exitCode} reading its last frame`)
  const bytes = yield* fs.readFile(temporary)
  const image = frameImageOf(bytes.subarray(0, FRAME_HEADER_BYTES))
  const problem = frameProblem(image, bytes.length)
  if (problem !== undefined) {
    yield* fs.remove(temporary, { force: true })
    return yield* Effect.fail(`its last frame ${problem}`)
  }
  yield* fs.rename(temporary, output)
  return output
}, (effect) => Effect.mapError(effect, (error) => typeof error === "string" ? error : error.message))

/** The extracted frame kept as the run keeps a local frame (`frames/<sha256>.<ext>`): a replay sends it again from there. */
const keepCopy = (frame: string, source: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const bytes = yield* fs.readFile(frame)
    const copy = path.join(path.dirname(frame), "..", localFrameCopy(source, sha256Hex(bytes)))
    if (!(yield* fs.exists(copy))) yield* writeFileAtomic(copy, bytes)
  }).pipe(Effect.mapError((error) => `rendered, but its last frame could not be kept: ${error.message}`))

/** What becomes of a source job: the absolute path of its video, or why it has none. */
type SourceEnd = Deferred.Deferred<string, string>

/** The run's links: one promise per source job, kept by its settle and awaited by its followers. */
export const makeShotChain = (jobs: ReadonlyArray<Job>, runDirectory: string) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const ends = new Map<string, SourceEnd>()
    const inRun = new Set(jobs.map((job) => job.id))
    for (const job of jobs) {
      if (job.firstFrameFrom !== undefined && inRun.has(job.firstFrameFrom.job) && !ends.has(job.firstFrameFrom.job)) {
        ends.set(job.firstFrameFrom.job, yield* Deferred.make<string, string>())
      }
    }

    /** Tells the followers of `report`'s job how it ended. */
    const settled = (report: JobReport) => {
      const end = ends.get(report.id)
      if (end === undefined) return Effect.void
      return report.output !== undefined && report.status === "completed"
        ? Deferred.succeed(end, path.join(runDirectory, report.output.path))
        : Deferred.fail(
          end,
          `${report.status === "skipped" ? "was not rendered" : report.status}${
            report.error === undefined ? "" : ` (${report.error.tag}: ${report.error.message})`
          }`
        )
    }

    /** The job to render: a follower waits for its source's video and opens on its last frame; others as they are. */
    const opening = (
      job: Job
    ): Effect.Effect<Job, SourceUnavailable, CommandExecutor | FileSystem.FileSystem | Path.Path> => {
      const from = job.firstFrameFrom
      if (from === undefined) return Effect.succeed(job)
      const unavailable = (reason: string) => new SourceUnavailable({ shot: from.shot, job: from.job, reason })
      const end = ends.get(from.job)
      // A job left out by --only never ends here: its follower would wait for ever.
      if (end === undefined) return Effect.fail(unavailable("is not part of this run: select it too"))
      return Deferred.await(end).pipe(
        Effect.flatMap((video) =>
          extractLastFrame(video, path.join(runDirectory, "frames", `from-${from.job}.png`)).pipe(
            Effect.mapError((problem) => `rendered, but ${problem}`)
          )
        ),
        Effect.tap((frame) => keepCopy(frame, `from:${from.shot}`)),
        Effect.mapError(unavailable),
        Effect.map((absolutePath): Job => ({
          ...job,
          firstFrame: { _tag: "File", path: `from:${from.shot}`, absolutePath }
        }))
      )
    }
    return { settled, opening }
  })

/** A follower whose source left it no frame: skipped with the reason, journaled so a resume sends it again. */
export const skipFollower = (job: Job, error: SourceUnavailable) =>
  Effect.gen(function*() {
    const report: JobReport = {
      ...jobReportBase(job),
      status: "skipped",
      attempts: 0,
      error: { tag: error._tag, message: error.message }
    }
    const progress = yield* RunProgress
    yield* progress.changed({
      jobId: job.id,
      phase: "skipped",
      message: `not submitted: ${error.message}`,
      atMs: yield* Clock.currentTimeMillis
    })
    yield* Effect.flatMap(Journal, (journal) => journal.append({ _tag: "finished", jobId: job.id, report }))
    return report
  })

export type ShotChain = Effect.Effect.Success<ReturnType<typeof makeShotChain>>
