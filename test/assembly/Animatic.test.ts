import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { assembleAnimatic, type AssembleOptions, type AssemblyListener } from "../../src/assembly/Animatic.js"
import { decodeAnimaticRecord } from "../../src/assembly/AnimaticRecord.js"
import { Ffmpeg } from "../../src/assembly/Ffmpeg.js"
import { FRAMES_PER_SECOND } from "../../src/domain/SeedanceParams.js"
import { PosterMaker } from "../../src/report/Posters.js"
import { writeReport } from "../../src/report/ReportFile.js"
import { sha256OfFile } from "../../src/store/FileDigest.js"
import { inspectMp4 } from "../../src/store/Mp4Inspection.js"
import { runCli } from "../support/TestRun.js"
import { type ClipShape, grayFrameAt, makeRun } from "./AnimaticFixtures.js"

const FRAME = 1 / FRAMES_PER_SECOND
const WIDE: ClipShape = { width: 640, height: 360, seconds: 2, audio: true, rate: 24 }
const TALL: ClipShape = { width: 360, height: 640, seconds: 2, audio: false, rate: 25 }
const SQUARE: ClipShape = { width: 480, height: 480, seconds: 3, audio: false, rate: 30 }

const layers = Layer.provideMerge(Ffmpeg.Default, NodeContext.layer)

/** Collects what assemble says, line by line. */
const listening = () => {
  const lines: Array<string> = []
  const fractions: Array<number> = []
  const listener: AssemblyListener = {
    line: (text) => Effect.sync(() => void lines.push(text)),
    progress: (fraction) => Effect.sync(() => void fractions.push(fraction))
  }
  return { lines, fractions, listener }
}

const options = (runDirectory: string, extra: Partial<AssembleOptions> = {}): AssembleOptions => ({
  runDirectory,
  picksFile: undefined,
  output: undefined,
  label: false,
  strict: false,
  ...extra
})

const newRunDirectory = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  return path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-assemble-test-" }), "run")
})

/** Mean grey level of a rectangle of a frame `width` pixels wide. */
const meanOf = (
  frame: Uint8Array,
  width: number,
  area: { readonly x: number; readonly y: number; readonly w: number; readonly h: number }
) => {
  let sum = 0
  for (let row = area.y; row < area.y + area.h; row++) {
    for (let column = area.x; column < area.x + area.w; column++) sum += frame[row * width + column] ?? 0
  }
  return sum / (area.w * area.h)
}

/** The share of a rectangle's pixels that differ clearly between two frames. */
const changedPixels = (
  one: Uint8Array,
  other: Uint8Array,
  width: number,
  area: { readonly x: number; readonly y: number; readonly w: number; readonly h: number }
) => {
  let changed = 0
  for (let row = area.y; row < area.y + area.h; row++) {
    for (let column = area.x; column < area.x + area.w; column++) {
      if (Math.abs((one[row * width + column] ?? 0) - (other[row * width + column] ?? 0)) > 40) changed++
    }
  }
  return changed / (area.w * area.h)
}

const readRecord = (runDirectory: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(`${runDirectory}/animatic.json`)).pipe(
    Effect.flatMap(decodeAnimaticRecord)
  )

const leftovers = (runDirectory: string) =>
  Effect.map(
    Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readDirectory(runDirectory)),
    (names) => names.filter((name) => name.endsWith(".part"))
  )

describe("shotlist assemble", () => {
  it.scopedLive(
    "joins a 16:9 take with audio, a 9:16 one without and a 1:1 one at 30 fps into one 640x360 MP4 of 7 s with video and audio, recorded in animatic.json",
    () =>
      Effect.gen(function*() {
        const runDirectory = yield* newRunDirectory
        yield* makeRun(runDirectory, [
          { id: "wide", shot: "wide", seed: 1, clip: WIDE },
          { id: "tall", shot: "tall", seed: 2, clip: TALL },
          { id: "square", shot: "square", seed: 3, clip: SQUARE }
        ])
        const { fractions, lines, listener } = listening()
        const record = yield* assembleAnimatic(options(runDirectory), listener)

        expect(lines.slice(0, 3)).toEqual([
          "wide: wide (only take)",
          "tall: tall (only take)",
          "square: square (only take)"
        ])
        const output = `${runDirectory}/animatic.mp4`
        const info = yield* inspectMp4(output)
        expect(Option.getOrThrow(info.video)).toMatchObject({ width: 640, height: 360 })
        expect(Option.isSome(info.audio)).toBe(true)
        expect(Math.abs(info.durationSeconds - 7)).toBeLessThanOrEqual(3 * FRAME)

        expect(yield* readRecord(runDirectory)).toEqual(record)
        expect(record.output).toMatchObject({ path: "animatic.mp4", width: 640, height: 360, framesPerSecond: 24 })
        expect(record.output.sha256).toBe(yield* sha256OfFile(output))
        expect(record.totalSeconds).toBeCloseTo(7, 1)
        expect(record.parts.map(({ card, job, shot, source }) => ({ shot, job, source, card }))).toEqual([
          { shot: "wide", job: "wide", source: "videos/wide.mp4", card: false },
          { shot: "tall", job: "tall", source: "videos/tall.mp4", card: false },
          { shot: "square", job: "square", source: "videos/square.mp4", card: false }
        ])
        expect(record.parts.map((part) => Math.round(part.startSeconds))).toEqual([0, 2, 4])
        expect(fractions.at(-1)).toBeCloseTo(1, 1)
        expect(yield* leftovers(runDirectory)).toEqual([])

        // The 9:16 take is pillarboxed: black bars at the sides, the picture in the middle.
        const tallFrame = yield* grayFrameAt(output, 3)
        expect(tallFrame.length).toBe(640 * 360)
        expect(meanOf(tallFrame, 640, { x: 0, y: 0, w: 150, h: 360 })).toBeLessThan(20)
        expect(meanOf(tallFrame, 640, { x: 250, y: 0, w: 140, h: 360 })).toBeGreaterThan(40)
        const wideFrame = yield* grayFrameAt(output, 1)
        expect(meanOf(wideFrame, 640, { x: 0, y: 0, w: 150, h: 360 })).toBeGreaterThan(40)
      }).pipe(Effect.provide(layers))
  )

  it.scopedLive("a failed shot becomes a black card as long as it asked for, with silence under it", () =>
    Effect.gen(function*() {
      const runDirectory = yield* newRunDirectory
      yield* makeRun(runDirectory, [
        { id: "wide", shot: "wide", seed: 1, clip: WIDE },
        { id: "lost", shot: "lost", seed: 2, asked: 5, status: "failed" },
        { id: "square", shot: "square", seed: 3, clip: SQUARE }
      ])
      const { lines, listener } = listening()
      const record = yield* assembleAnimatic(options(runDirectory), listener)

      expect(lines[1]).toBe("lost: black card, 5 s (no completed take: 1 failed)")
      expect(record.parts[1]).toMatchObject({ shot: "lost", card: true, startSeconds: 2, durationSeconds: 5 })
      expect(record.parts[1]?.job).toBeUndefined()
      const output = `${runDirectory}/animatic.mp4`
      const info = yield* inspectMp4(output)
      expect(Math.abs(info.durationSeconds - 10)).toBeLessThanOrEqual(3 * FRAME)
      expect(Option.isSome(info.audio)).toBe(true)
      // Black around the card's name, which sits in the middle.
      const card = yield* grayFrameAt(output, 4.5)
      expect(meanOf(card, 640, { x: 0, y: 0, w: 640, h: 100 })).toBeLessThan(5)
      expect(meanOf(card, 640, { x: 0, y: 0, w: 640, h: 360 })).toBeGreaterThan(
        meanOf(card, 640, { x: 0, y: 0, w: 640, h: 100 })
      )
    }).pipe(Effect.provide(layers)))

  it.scopedLive("a take whose report path leads out of the run (an edited report) becomes a black card, never read", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* newRunDirectory
      const report = yield* makeRun(runDirectory, [
        { id: "wide", shot: "wide", seed: 1, clip: WIDE },
        { id: "square", shot: "square", seed: 3, clip: SQUARE }
      ])
      // A real clip beside the run, which the edited report names instead of the run's own.
      yield* fs.rename(`${runDirectory}/videos/square.mp4`, `${runDirectory}/../outside.mp4`)
      const edited = report.jobs.map((job) =>
        job.id === "square" && job.output !== undefined
          ? { ...job, output: { ...job.output, path: "../outside.mp4" } }
          : job
      )
      yield* writeReport(`${runDirectory}/report.json`, { ...report, jobs: edited })
      const { lines, listener } = listening()
      const record = yield* assembleAnimatic(options(runDirectory), listener)

      expect(lines[1]).toContain("square")
      expect(lines[1]).toContain("not a path inside")
      expect(record.parts[1]).toMatchObject({ shot: "square", card: true, durationSeconds: 4 })
      expect(record.parts[1]?.job).toBeUndefined()
      // The sheet assemble writes again makes stills of the run's own clips only.
      expect(yield* fs.exists(`${runDirectory}/posters/wide.jpg`)).toBe(true)
      expect(yield* fs.exists(`${runDirectory}/posters/square.jpg`)).toBe(false)
    }).pipe(Effect.provide(PosterMaker.ffmpeg), Effect.provide(layers)))

  it.scopedLive("--strict refuses a run with a failed shot, naming it, exit 1, and writes nothing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* newRunDirectory
      yield* makeRun(runDirectory, [
        { id: "wide", shot: "wide", seed: 1, clip: WIDE },
        { id: "lost", shot: "lost", seed: 2, status: "failed" },
        { id: "gone", shot: "gone", seed: 3, status: "skipped" }
      ])
      const outcome = yield* runCli(["assemble", runDirectory, "--strict"])

      expect(outcome.exitCode).toBe(1)
      expect(outcome.stderr).toContain("lost: black card, 4 s (no completed take: 1 failed)")
      expect(outcome.stderr).toContain(
        "shotlist: --strict: 2 shot(s) have no take to show: lost (no completed take: 1 failed), gone (no completed take: 1 skipped); nothing was written"
      )
      expect(yield* fs.exists(`${runDirectory}/animatic.mp4`)).toBe(false)
      expect(yield* fs.exists(`${runDirectory}/animatic.json`)).toBe(false)
    }).pipe(Effect.provide(layers)))

  it.scopedLive("a picks file changes which take stands for its shot: RUN_DIR/picks.yaml, or --picks FILE", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* newRunDirectory
      yield* makeRun(runDirectory, [
        { id: "wide~take=1", shot: "wide", seed: 1, clip: WIDE },
        { id: "square", shot: "square", seed: 3, clip: SQUARE },
        { id: "wide~take=2", shot: "wide", seed: 8, clip: { ...WIDE, seconds: 3 } }
      ])
      const unpicked = yield* runCli(["assemble", runDirectory])
      expect(unpicked.exitCode, unpicked.stderr).toBe(0)
      expect(unpicked.stderr).toContain("wide: wide~take=1 (first of 2 completed)")
      expect((yield* readRecord(runDirectory)).totalSeconds).toBeCloseTo(5, 1)
      expect(unpicked.stdout).toBe(`${runDirectory}/animatic.mp4`)

      yield* fs.writeFileString(
        `${runDirectory}/picks.yaml`,
        "run: run\npicks:\n  wide:\n    job: wide~take=2\n    seed: 8\n"
      )
      const picked = yield* runCli(["assemble", runDirectory])
      expect(picked.exitCode, picked.stderr).toBe(0)
      expect(picked.stderr.split("\n").slice(0, 2)).toEqual([
        "shotlist: wide: wide~take=2 (picked)",
        "shotlist: square: square (only take)"
      ])
      const record = yield* readRecord(runDirectory)
      expect(record.picks).toBe("picks.yaml")
      expect(record.parts[0]).toMatchObject({ job: "wide~take=2", source: "videos/wide~take=2.mp4", choice: "picked" })
      expect(record.totalSeconds).toBeCloseTo(6, 1)
      const info = yield* inspectMp4(`${runDirectory}/animatic.mp4`)
      expect(Math.abs(info.durationSeconds - 6)).toBeLessThanOrEqual(2 * FRAME)

      // --picks wins over RUN_DIR/picks.yaml, and --out writes elsewhere.
      const elsewhere = `${runDirectory}/../other-picks.yaml`
      yield* fs.writeFileString(elsewhere, "run: run\npicks:\n  wide: { job: wide~take=1, seed: 7 }\n")
      const out = `${runDirectory}/../cut.mp4`
      const chosen = yield* runCli(["assemble", runDirectory, "--picks", elsewhere, "--out", out])
      expect(chosen.exitCode, chosen.stderr).toBe(0)
      expect(chosen.stderr).toContain("wide: wide~take=1 (picked)")
      expect((yield* readRecord(runDirectory)).output.path).toBe("../cut.mp4")
      expect(Math.abs((yield* inspectMp4(out)).durationSeconds - 5)).toBeLessThanOrEqual(2 * FRAME)
    }).pipe(Effect.provide(layers)))

  it.scopedLive("a pick of a shot or job the run does not have, or of a failed take, is refused with exit 2", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* newRunDirectory
      yield* makeRun(runDirectory, [
        { id: "wide", shot: "wide", seed: 1, clip: WIDE },
        { id: "lost~take=1", shot: "lost", seed: 2, status: "failed" }
      ])
      yield* fs.writeFileString(
        `${runDirectory}/picks.yaml`,
        "run: run\npicks:\n  wide: { job: wide~take=9, seed: 9 }\n  lost: { job: lost~take=1, seed: 1 }\n  wdie: { job: wide, seed: 7 }\n"
      )
      const outcome = yield* runCli(["assemble", runDirectory])
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toBe(
        `shotlist: ${runDirectory}/picks.yaml does not fit this run: shot wide: wide~take=9 is not one of its takes; shot lost: the picked take lost~take=1 has no video (failed); shot wdie is not in this run`
      )
      yield* fs.writeFileString(`${runDirectory}/picks.yaml`, "picks:\n  wide: 3\n")
      const malformed = yield* runCli(["assemble", runDirectory])
      expect(malformed.exitCode).toBe(2)
      expect(malformed.stderr).toContain(`shotlist: ${runDirectory}/picks.yaml is not a picks file`)
      expect(yield* fs.exists(`${runDirectory}/animatic.mp4`)).toBe(false)
    }).pipe(Effect.provide(layers)))

  it.scopedLive("a directory without a report is refused with exit 2", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* newRunDirectory
      yield* fs.makeDirectory(runDirectory, { recursive: true })
      const outcome = yield* runCli(["assemble", runDirectory])
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain(`shotlist: ${runDirectory} holds no readable report.json`)
    }).pipe(Effect.provide(layers)))

  it.scopedLive("--label burns each shot's id and seed into its picture", () =>
    Effect.gen(function*() {
      const runDirectory = yield* newRunDirectory
      yield* makeRun(runDirectory, [{ id: "wide", shot: "wide", seed: 1, clip: WIDE }])
      const plain = yield* assembleAnimatic(
        options(runDirectory, { output: `${runDirectory}/plain.mp4` }),
        listening().listener
      )
      const labelled = yield* assembleAnimatic(options(runDirectory, { label: true }), listening().listener)

      expect(plain.output.labels).toBeUndefined()
      expect(labelled.output.labels).toBe("drawtext")
      expect((yield* inspectMp4(`${runDirectory}/animatic.mp4`)).tracks).toBe(2)
      // The label sits bottom left, on a dark box; the rest of the picture is the same.
      const before = yield* grayFrameAt(`${runDirectory}/plain.mp4`, 1)
      const after = yield* grayFrameAt(`${runDirectory}/animatic.mp4`, 1)
      const bottomLeft = { x: 0, y: 320, w: 160, h: 40 }
      const top = { x: 0, y: 0, w: 640, h: 200 }
      expect(changedPixels(before, after, 640, bottomLeft)).toBeGreaterThan(0.2)
      expect(changedPixels(before, after, 640, top)).toBeLessThan(0.01)
    }).pipe(Effect.provide(layers)))

  it.scopedLive("where ffmpeg's drawtext finds no font, labels go into a subtitle track, and it says so", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* newRunDirectory
      yield* makeRun(runDirectory, [
        { id: "wide", shot: "wide", seed: 1, clip: WIDE },
        { id: "lost", shot: "lost", seed: 2, status: "failed" }
      ])
      // An empty fontconfig configuration: no font at all, as on a bare container.
      const noFonts = `${runDirectory}/no-fonts.conf`
      yield* fs.writeFileString(noFonts, "<?xml version=\"1.0\"?><fontconfig></fontconfig>\n")
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const before = process.env["FONTCONFIG_FILE"]
          process.env["FONTCONFIG_FILE"] = noFonts
          return before
        }),
        (before) =>
          Effect.sync(() => {
            if (before === undefined) delete process.env["FONTCONFIG_FILE"]
            else process.env["FONTCONFIG_FILE"] = before
          })
      )
      const { lines, listener } = listening()
      const record = yield* assembleAnimatic(options(runDirectory, { label: true }), listener)

      expect(lines).toContainEqual(expect.stringContaining("warning: ffmpeg's drawtext finds no font here"))
      expect(record.output.labels).toBe("subtitles")
      const info = yield* inspectMp4(`${runDirectory}/animatic.mp4`)
      expect(info.tracks).toBe(3)
      expect(Math.abs(info.durationSeconds - 6)).toBeLessThanOrEqual(2 * FRAME)
    }).pipe(Effect.provide(layers)))

  it.scopedLive("a joined file that does not last as long as its parts fails the check and nothing is kept", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const runDirectory = yield* newRunDirectory
      yield* makeRun(runDirectory, [
        { id: "wide", shot: "wide", seed: 1, clip: WIDE },
        { id: "square", shot: "square", seed: 3, clip: { ...WIDE, seconds: 3 } }
      ])
      // An ffmpeg that "joins" by writing the first take alone.
      const shortFfmpeg = Layer.succeed(
        Ffmpeg,
        Ffmpeg.make({
          path: "ffmpeg",
          drawsText: Effect.succeed(true),
          run: (args) => Effect.orDie(fs.copyFile(`${runDirectory}/videos/wide.mp4`, args.at(-1)!))
        })
      )
      const failure = yield* assembleAnimatic(options(runDirectory), listening().listener).pipe(
        Effect.provide(shortFfmpeg),
        Effect.flip
      )
      expect(failure._tag).toBe("AnimaticMismatch")
      expect(failure.message).toMatch(/^the joined video failed its check \(the file lasts 2\.\d{3} s, /)
      expect(failure.message).toContain(
        `its 2 parts add up to 5.000 s (± 0.083 s)); nothing was written to ${runDirectory}/animatic.mp4`
      )
      expect(yield* fs.exists(`${runDirectory}/animatic.mp4`)).toBe(false)
      expect(yield* fs.exists(`${runDirectory}/animatic.json`)).toBe(false)
      expect(yield* leftovers(runDirectory)).toEqual([])
    }).pipe(Effect.provide(layers)))
})
