import { Command, FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Cache, Data, Duration, Effect, Exit } from "effect"
import { availableParallelism } from "node:os"
import { FRAMES_PER_SECOND } from "../domain/SeedanceParams.js"
import { temporaryPathFor } from "../store/AtomicFile.js"
import { sha256Hex } from "../store/FileDigest.js"

export interface Clip {
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

/** What makes a job's clip its own: burnt into the picture, since the request body carries no job id. */
export interface ClipStamp {
  readonly seed: number
  /** the prompt's first words, as `stampOf` cleans them */
  readonly words: string
}

export interface ClipSpec {
  readonly width: number
  readonly height: number
  readonly durationSeconds: number
  readonly audio: boolean
  readonly stamp?: ClipStamp
  /** an image file the clip opens with: its first second shows it, fitted to the size */
  readonly opening?: { readonly path: string; readonly sha256: string }
}

/** ffmpeg exited with an error while rendering `clip`. */
export class ClipRenderFailed extends Data.TaggedError("ClipRenderFailed")<{
  readonly clip: string
  readonly exitCode: number
}> {
  override get message() {
    return `ffmpeg exited with ${this.exitCode}`
  }
}

/** How many words of the prompt a clip shows. */
const STAMP_WORDS = 4

/** The stamp of a request: its seed and its prompt's first words, kept to characters the picture can show. */
export const stampOf = (seed: number, prompt: string): ClipStamp => ({
  seed,
  words: prompt
    .split(/\s+/)
    .map((word) => word.replace(/[^\p{L}\p{N}.!?-]/gu, ""))
    .filter((word) => word.length > 0)
    .slice(0, STAMP_WORDS)
    .join(" ")
})

/** Where a font for the stamp's text is usually found; without one, the band and the seed's bits still differ. */
export const FONT_FILES: ReadonlyArray<string> = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
  "/System/Library/Fonts/Supplemental/Arial.ttf",
  "/Library/Fonts/Arial.ttf",
  "C:\\Windows\\Fonts\\arial.ttf"
]

/** Enough bits for any seed (1-999999). */
const SEED_BITS = 20

/** A filter option's value, escaped for the option and again for the filter graph it sits in. */
const filterValue = (value: string) => value.replace(/[\\':]/g, "\\$&").replace(/[\\'[\],;]/g, "\\$&")

/** The band's colour, drawn from the stamp; each channel under half, so white text on it always reads. */
const bandColour = (stamp: ClipStamp): string => {
  const digest = sha256Hex(new TextEncoder().encode(`${stamp.seed} ${stamp.words}`))
  return [0, 2, 4].map((at) => (parseInt(digest.slice(at, at + 2), 16) >> 1).toString(16).padStart(2, "0")).join("")
}

/** The seed in binary across the width, most significant bit first: white for 1, black for 0. */
const seedCells = (width: number, seed: number, top: number, height: number): ReadonlyArray<string> =>
  Array.from({ length: SEED_BITS }, (_, bit) => {
    const x = Math.round((bit * width) / SEED_BITS)
    const w = Math.round(((bit + 1) * width) / SEED_BITS) - x
    const colour = ((seed >> (SEED_BITS - 1 - bit)) & 1) === 1 ? "white" : "black"
    return `drawbox=x=${x}:y=${top}:w=${w}:h=${height}:color=${colour}:t=fill`
  })

/** The band across the bottom: a colour drawn from the stamp, the seed's bits, and its text when a font is there. */
const stampFilters = (spec: ClipSpec, stamp: ClipStamp, fontFile: string | undefined): ReadonlyArray<string> => {
  const band = 2 * Math.round(spec.height / 16)
  const top = spec.height - band
  const cells = Math.max(2, Math.round(band / 5))
  const text = `seed ${stamp.seed} · ${stamp.words}`
  const margin = Math.round(band / 4)
  // As tall as the band allows, narrow enough to fit: a glyph is about 0.6 of the font size wide.
  const size = Math.max(
    8,
    Math.min(Math.round((band - cells) * 0.6), Math.floor((spec.width - 2 * margin) / (text.length * 0.6)))
  )
  const textTop = top + cells + Math.round((band - cells - size) / 2)
  return [
    `drawbox=x=0:y=${top}:w=${spec.width}:h=${band}:color=0x${bandColour(stamp)}:t=fill`,
    ...seedCells(spec.width, stamp.seed, top, cells),
    ...(fontFile === undefined ? [] : [
      `drawtext=fontfile=${filterValue(fontFile)}:expansion=none:text=${filterValue(text)}:fontsize=${size}` +
      `:fontcolor=white:x=${margin}:y=${textTop}`
    ])
  ]
}

/** The video filter graph: the opening frame over the first second, then the stamp; none for a plain clip. */
const videoGraph = (spec: ClipSpec, fontFile: string | undefined, openingInput: number): string | undefined => {
  const { height, width } = spec
  const fitted = `[${openingInput}:v]scale=${width}:${height}:force_original_aspect_ratio=decrease,` +
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1[opening]`
  const base = spec.opening === undefined ? "[0:v]" : "[0:v][opening]overlay=enable='lt(t,1)',"
  const stamp = spec.stamp === undefined ? [] : stampFilters(spec, spec.stamp, fontFile)
  if (spec.opening === undefined && stamp.length === 0) return undefined
  const chain = `${base}${stamp.length === 0 ? "null" : stamp.join(",")}[video]`
  return spec.opening === undefined ? chain : `${fitted};${chain}`
}

const ffmpegArgs = (spec: ClipSpec, output: string, fontFile: string | undefined): ReadonlyArray<string> => {
  const audioInput = ["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=44100:duration=${spec.durationSeconds}`]
  const openingInput = spec.audio ? 2 : 1
  const graph = videoGraph(spec, fontFile, openingInput)
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${spec.width}x${spec.height}:rate=${FRAMES_PER_SECOND}:duration=${spec.durationSeconds}`,
    ...(spec.audio ? audioInput : []),
    ...(spec.opening === undefined ? [] : ["-i", spec.opening.path]),
    ...(graph === undefined
      ? []
      : ["-filter_complex", graph, "-map", "[video]", ...(spec.audio ? ["-map", "1:a"] : [])]),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    // A job's own clip is rendered per job: a coarser quality halves its encode time.
    ...(graph === undefined ? [] : ["-crf", "40"]),
    "-pix_fmt",
    "yuv420p",
    ...(spec.audio ? ["-c:a", "aac", "-shortest"] : []),
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
    output
  ]
}

/** Distinct clips (or padded files) kept in memory: a clip evicted is found again on disk. */
export const CACHED_FILES = 1024

/** A cache entry's life: a file made is kept, a failure is forgotten so the next request tries again. */
export const keepSuccesses = (exit: Exit.Exit<unknown, unknown>): Duration.Duration =>
  Exit.isSuccess(exit) ? Duration.infinity : Duration.zero

/** A plain clip keeps the name it always had; a job's own clip adds a digest of what makes it its own. */
const clipName = (spec: ClipSpec, fontFile: string | undefined) => {
  const shape = `${spec.width}x${spec.height}-${spec.durationSeconds}s-${spec.audio ? "audio" : "silent"}`
  if (spec.stamp === undefined && spec.opening === undefined) return `${shape}.mp4`
  const own = JSON.stringify([spec.stamp?.seed, spec.stamp?.words, spec.opening?.sha256, fontFile])
  return `${shape}-${sha256Hex(new TextEncoder().encode(own)).slice(0, 16)}.mp4`
}

/** The cache key: a flat struct, so two requests for one clip compare equal. */
const keyOf = (spec: ClipSpec) =>
  Data.struct({
    width: spec.width,
    height: spec.height,
    durationSeconds: spec.durationSeconds,
    audio: spec.audio,
    seed: spec.stamp?.seed,
    words: spec.stamp?.words,
    openingPath: spec.opening?.path,
    openingSha256: spec.opening?.sha256
  })

type ClipKey = ReturnType<typeof keyOf>

const specOf = (key: ClipKey): ClipSpec => ({
  width: key.width,
  height: key.height,
  durationSeconds: key.durationSeconds,
  audio: key.audio,
  ...(key.seed === undefined || key.words === undefined ? {} : { stamp: { seed: key.seed, words: key.words } }),
  ...(key.openingPath === undefined || key.openingSha256 === undefined
    ? {}
    : { opening: { path: key.openingPath, sha256: key.openingSha256 } })
})

/**
 * Real, playable MP4 files rendered by ffmpeg, cached on disk and in memory by
 * everything they depend on (size, duration, audio, stamp, opening frame);
 * concurrent requests for one clip render once, and at most one render runs
 * per core. `fontFiles` are tried in order for the stamp's text.
 */
export const makeClipRenderer = (
  cacheDir: string,
  options: { readonly fontFiles?: ReadonlyArray<string> } = {}
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(cacheDir, { recursive: true })
    const fonts = yield* Effect.filter(options.fontFiles ?? FONT_FILES, (file) => fs.exists(file))
    const fontFile = fonts[0]
    const renders = yield* Effect.makeSemaphore(availableParallelism())

    const describe = (file: string) =>
      Effect.map(fs.readFile(file), (bytes): Clip => ({ path: file, bytes: bytes.length, sha256: sha256Hex(bytes) }))

    const renderTo = (spec: ClipSpec, temporary: string, target: string) =>
      Effect.gen(function*() {
        const command = Command.make(ffmpegInstaller.path, ...ffmpegArgs(spec, temporary, fontFile))
        const exitCode = yield* renders.withPermits(1)(Command.exitCode(command))
        if (exitCode !== 0) return yield* new ClipRenderFailed({ clip: target, exitCode })
        yield* fs.rename(temporary, target)
      }).pipe(Effect.tapError(() => Effect.ignore(fs.remove(temporary))))

    const render = Effect.fn("ClipRenderer.render")(function*(key: ClipKey) {
      const spec = specOf(key)
      const target = path.join(cacheDir, clipName(spec, fontFile))
      if (!(yield* fs.exists(target))) yield* renderTo(spec, temporaryPathFor(path, target), target)
      return yield* describe(target)
    })

    const clips = yield* Cache.makeWith({ capacity: CACHED_FILES, lookup: render, timeToLive: keepSuccesses })
    return (spec: ClipSpec): Effect.Effect<Clip, ClipRenderFailed | PlatformError> => clips.get(keyOf(spec))
  })
