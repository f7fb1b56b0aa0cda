import { FileSystem, Path } from "@effect/platform"
import { Clock, Data, Effect, Either, Option } from "effect"
import { FRAMES_PER_SECOND } from "../domain/SeedanceParams.js"
import { decodeReport, writeReportFiles } from "../report/ReportFile.js"
import { temporaryPathFor, writeFileAtomic } from "../store/AtomicFile.js"
import { sha256OfFile } from "../store/FileDigest.js"
import { inspectMp4, type Mp4Info } from "../store/Mp4Inspection.js"
import { runFiles } from "../store/RunDirectory.js"
import {
  commonFrameSize,
  ffmpegArguments,
  filterGraph,
  type FrameSize,
  framesOf,
  GRAPH_FILE,
  hasLabels,
  labelFileOf,
  type LabelMode,
  type Segment,
  subtitleCues,
  SUBTITLES_FILE
} from "./AnimaticGraph.js"
import {
  ANIMATIC_SCHEMA_VERSION,
  animaticFiles,
  type AnimaticPart,
  type AnimaticRecord,
  encodeAnimaticRecord
} from "./AnimaticRecord.js"
import { Ffmpeg } from "./Ffmpeg.js"
import { readPicksFile } from "./PicksFile.js"
import type { ShotChoice } from "./TakeChoice.js"
import { chooseTakes, describeReason } from "./TakeChoice.js"

/** The run directory has no report to assemble from. */
export class RunReportUnreadable extends Data.TaggedError("RunReportUnreadable")<{
  readonly runDirectory: string
  readonly reason: string
}> {
  override get message() {
    return `${this.runDirectory} holds no readable report.json (${this.reason}); a run writes it when it ends, and \`shotlist resume\` finishes an interrupted one`
  }
}

/** The report lists no jobs: there is nothing to join. */
export class NothingToAssemble extends Data.TaggedError("NothingToAssemble")<{ readonly runDirectory: string }> {
  override get message() {
    return `${this.runDirectory}'s report lists no jobs: there is nothing to assemble`
  }
}

/** `--strict`: shots without a usable take, which would otherwise become black cards. */
export class ShotsMissing extends Data.TaggedError("ShotsMissing")<{
  readonly shots: ReadonlyArray<{ readonly shot: string; readonly why: string }>
}> {
  override get message() {
    return `--strict: ${this.shots.length} shot(s) have no take to show: ${
      this.shots.map(({ shot, why }) => `${shot} (${why})`).join(", ")
    }; nothing was written`
  }
}

/** The joined file does not hold what was joined: checked like a download, and not kept. */
export class AnimaticMismatch extends Data.TaggedError("AnimaticMismatch")<{
  readonly output: string
  readonly reason: string
}> {
  override get message() {
    return `the joined video failed its check (${this.reason}); nothing was written to ${this.output}`
  }
}

export interface AssembleOptions {
  readonly runDirectory: string
  /** default: RUN_DIR/picks.yaml when it exists */
  readonly picksFile: string | undefined
  /** default: RUN_DIR/animatic.mp4 */
  readonly output: string | undefined
  readonly label: boolean
  readonly strict: boolean
}

/** Where `assemble` tells what it does: one line at a time, and ffmpeg's progress as a fraction. */
export interface AssemblyListener {
  readonly line: (text: string) => Effect.Effect<void>
  readonly progress: (fraction: number) => Effect.Effect<void>
}

/** A shot as it goes into the animatic: its choice, and what its take's file holds. */
type Placed =
  | {
    readonly _tag: "Clip"
    readonly shot: string
    readonly job: string
    readonly seed: number
    readonly source: string
    readonly choice: string
    readonly seconds: number
    readonly size: FrameSize
    readonly audio: boolean
  }
  | { readonly _tag: "Card"; readonly shot: string; readonly choice: string; readonly seconds: number }

const seconds = (info: Mp4Info) =>
  Option.match(info.video, {
    onNone: () => info.durationSeconds,
    onSome: (video) => (video.durationSeconds > 0 ? video.durationSeconds : info.durationSeconds)
  })

/** A chosen take, measured in its file; a take whose file is gone or broken becomes a card as a failed shot does. */
const place = Effect.fn("Animatic.place")(function*(runDirectory: string, choice: ShotChoice) {
  const path = yield* Path.Path
  if (choice._tag === "Missing") {
    return { _tag: "Card", shot: choice.shot, choice: choice.why, seconds: choice.durationSeconds } satisfies Placed
  }
  const { job, reason, shot } = choice
  const source = job.output?.path ?? ""
  const card = (why: string): Placed => ({ _tag: "Card", shot, choice: why, seconds: job.params.duration })
  return yield* inspectMp4(path.join(runDirectory, source)).pipe(
    Effect.map((info): Placed =>
      Option.match(info.video, {
        onNone: () => card(`${job.id}'s video ${source} has no video track`),
        onSome: (video) => ({
          _tag: "Clip",
          shot,
          job: job.id,
          seed: job.seed,
          source,
          choice: describeReason(reason),
          seconds: seconds(info),
          size: { width: video.width, height: video.height },
          audio: Option.isSome(info.audio)
        })
      })
    ),
    Effect.catchTag("Mp4Invalid", (invalid) => Effect.succeed(card(`${job.id}'s video ${source}: ${invalid.reason}`)))
  )
})

/** `opening: opening~seed=11 (first of 2 completed)`, or `finale: black card, 5 s (no completed take: 1 failed)`. */
const choiceLine = (placed: Placed): string =>
  placed._tag === "Clip"
    ? `${placed.shot}: ${placed.job} (${placed.choice})`
    : `${placed.shot}: black card, ${placed.seconds} s (${placed.choice})`

const segmentOf = (placed: Placed, label: boolean, fileOf: (source: string) => string): Segment =>
  placed._tag === "Clip"
    ? {
      _tag: "Clip",
      file: fileOf(placed.source),
      audio: placed.audio,
      frames: framesOf(placed.seconds),
      label: label ? `${placed.shot} / seed ${placed.seed}` : undefined
    }
    : { _tag: "Card", frames: framesOf(placed.seconds), label: `${placed.shot}\n${placed.choice}` }

/** The finished file against its parts: video and audio, one frame size, and their summed length within a frame per cut. */
export const checkAnimatic = (
  info: Mp4Info,
  expected: { readonly seconds: number; readonly parts: number; readonly size: FrameSize }
): Either.Either<Mp4Info, string> => {
  const tolerance = expected.parts / FRAMES_PER_SECOND
  if (Option.isNone(info.video)) return Either.left("no video track")
  if (Option.isNone(info.audio)) return Either.left("no audio track")
  const { height, width } = info.video.value
  if (width !== expected.size.width || height !== expected.size.height) {
    return Either.left(`frames of ${width}x${height}, ${expected.size.width}x${expected.size.height} expected`)
  }
  for (const [what, lasts] of [["the file", info.durationSeconds], ["its video", seconds(info)]] as const) {
    if (Math.abs(lasts - expected.seconds) > tolerance) {
      return Either.left(
        `${what} lasts ${lasts.toFixed(3)} s, its ${expected.parts} parts add up to ${
          expected.seconds.toFixed(3)
        } s (± ${tolerance.toFixed(3)} s)`
      )
    }
  }
  return Either.right(info)
}

/** Labels drawn when ffmpeg finds a font, else carried as subtitles; said once when it cannot draw. */
const labelMode = (segments: ReadonlyArray<Segment>, listener: AssemblyListener) =>
  Effect.gen(function*() {
    if (!hasLabels(segments)) return undefined
    if (yield* (yield* Ffmpeg).drawsText) return "drawtext" satisfies LabelMode
    yield* listener.line(
      "warning: ffmpeg's drawtext finds no font here (it needs fontconfig and an installed font, e.g. fonts-dejavu-core): labels and card names go into a subtitle track instead of the picture"
    )
    return "subtitles" satisfies LabelMode
  })

/** The graph and label files ffmpeg reads, written into its working directory. */
const writeInputs = (
  directory: string,
  segments: ReadonlyArray<Segment>,
  size: FrameSize,
  mode: LabelMode | undefined
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.writeFileString(path.join(directory, GRAPH_FILE), filterGraph(segments, size, mode))
    if (mode === "subtitles") yield* fs.writeFileString(path.join(directory, SUBTITLES_FILE), subtitleCues(segments))
    if (mode !== "drawtext") return
    yield* Effect.forEach(segments, (segment, index) =>
      segment.label === undefined
        ? Effect.void
        : fs.writeFileString(path.join(directory, labelFileOf(index)), segment.label))
  })

/** Part durations: each take as long as its file, each card as long as its shot asked; rounded to the millisecond. */
const partsOf = (placed: ReadonlyArray<Placed>): ReadonlyArray<AnimaticPart> => {
  let start = 0
  return placed.map((part): AnimaticPart => {
    const timing = { startSeconds: round3(start), durationSeconds: round3(part.seconds) }
    start += part.seconds
    return part._tag === "Clip"
      ? { shot: part.shot, job: part.job, source: part.source, choice: part.choice, card: false, ...timing }
      : { shot: part.shot, choice: part.choice, card: true, ...timing }
  })
}

const round3 = (value: number) => Math.round(value * 1000) / 1000

/** The run's report and the take each shot contributes, measured; a report or picks that cannot be used fail. */
const chooseParts = Effect.fn("Animatic.chooseParts")(function*(runDirectory: string, picksFile: string | undefined) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const unreadable = (reason: string) => new RunReportUnreadable({ runDirectory, reason })
  const report = yield* fs.readFileString(runFiles(path, runDirectory).report).pipe(
    Effect.mapError((error) => unreadable(error.message)),
    Effect.flatMap((text) => Effect.mapError(decodeReport(text), (error) => unreadable(error.message)))
  )
  if (report.jobs.length === 0) return yield* new NothingToAssemble({ runDirectory })
  const picks = picksFile === undefined
    ? undefined
    : { file: picksFile, picks: (yield* readPicksFile(picksFile)).picks }
  const choices = yield* chooseTakes(report.jobs, picks)
  const placed = yield* Effect.forEach(choices, (choice) => place(runDirectory, choice))
  return { report, placed }
})

/**
 * ffmpeg writes a temporary sibling of `target`; only a file that passes the
 * check is renamed into place. Whatever happens, no temporary file is left.
 */
const joinChecked = Effect.fn("Animatic.joinChecked")(function*(
  segments: ReadonlyArray<Segment>,
  mode: LabelMode | undefined,
  expected: { readonly seconds: number; readonly size: FrameSize },
  target: string,
  listener: AssemblyListener
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const ffmpeg = yield* Ffmpeg
  yield* fs.makeDirectory(path.dirname(target), { recursive: true })
  const temporary = temporaryPathFor(path, target)
  const renderedSeconds = segments.reduce((sum, segment) => sum + segment.frames, 0) / FRAMES_PER_SECOND
  return yield* Effect.gen(function*() {
    const workDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-assemble-" })
    yield* writeInputs(workDirectory, segments, expected.size, mode)
    yield* ffmpeg.run(
      ffmpegArguments(segments, mode, temporary),
      workDirectory,
      (done) => listener.progress(Math.min(1, done / renderedSeconds))
    )
    const info = yield* inspectMp4(temporary).pipe(
      Effect.mapError((invalid) => new AnimaticMismatch({ output: target, reason: invalid.reason }))
    )
    const checked = yield* Either.match(checkAnimatic(info, { ...expected, parts: segments.length }), {
      onLeft: (reason) => Effect.fail(new AnimaticMismatch({ output: target, reason })),
      onRight: Effect.succeed
    })
    const sha256 = yield* sha256OfFile(temporary)
    const bytes = Number((yield* fs.stat(temporary)).size)
    yield* fs.rename(temporary, target)
    return { info: checked, sha256, bytes }
  }).pipe(Effect.scoped, Effect.ensuring(Effect.ignore(fs.remove(temporary))))
})

/**
 * `shotlist assemble`: one take per shot in storyboard order, fitted to one
 * frame size and rate, joined by ffmpeg into one MP4 with video and audio,
 * verified, renamed into place, and recorded in RUN_DIR/animatic.json.
 */
export const assembleAnimatic = Effect.fn("Animatic.assemble")(function*(
  options: AssembleOptions,
  listener: AssemblyListener
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const runDirectory = path.resolve(options.runDirectory)
  const files = animaticFiles(path, runDirectory)
  const picksFile = options.picksFile ?? ((yield* fs.exists(files.picks)) ? files.picks : undefined)
  const { placed, report } = yield* chooseParts(runDirectory, picksFile)
  yield* Effect.forEach(placed, (part) => listener.line(choiceLine(part)))
  const cards = placed.filter((part) => part._tag === "Card")
  if (options.strict && cards.length > 0) {
    return yield* new ShotsMissing({ shots: cards.map((card) => ({ shot: card.shot, why: card.choice })) })
  }

  const size = commonFrameSize(placed.flatMap((part) => (part._tag === "Clip" ? [part.size] : [])))
  const segments = placed.map((part) => segmentOf(part, options.label, (source) => path.join(runDirectory, source)))
  const mode = yield* labelMode(segments, listener)
  const target = path.resolve(options.output ?? files.video)
  const totalSeconds = placed.reduce((sum, part) => sum + part.seconds, 0)
  yield* listener.line(
    `assembling ${placed.length} shots (${
      totalSeconds.toFixed(1)
    } s) at ${size.width}x${size.height}, ${FRAMES_PER_SECOND} fps into ${target}`
  )
  const written = yield* joinChecked(segments, mode, { seconds: totalSeconds, size }, target, listener)

  const record: AnimaticRecord = {
    schemaVersion: ANIMATIC_SCHEMA_VERSION,
    run: report.run.id,
    createdAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
    ...(picksFile === undefined ? {} : { picks: path.relative(runDirectory, path.resolve(picksFile)) }),
    output: {
      path: path.relative(runDirectory, target),
      bytes: written.bytes,
      sha256: written.sha256,
      width: size.width,
      height: size.height,
      framesPerSecond: FRAMES_PER_SECOND,
      durationSeconds: round3(written.info.durationSeconds),
      ...(mode === undefined ? {} : { labels: mode })
    },
    totalSeconds: round3(totalSeconds),
    parts: partsOf(placed)
  }
  yield* writeFileAtomic(files.record, encodeAnimaticRecord(record) + "\n")
  // report.html shows the animatic above the shots.
  yield* writeReportFiles(runFiles(path, runDirectory), report, record.output.path)
  yield* listener.line(
    `wrote ${target}: ${placed.length} shots${
      cards.length === 0 ? "" : ` (${cards.length} black card${cards.length === 1 ? "" : "s"})`
    }, ${written.info.durationSeconds.toFixed(2)} s, ${size.width}x${size.height}; recorded in ${files.record}`
  )
  return record
})
