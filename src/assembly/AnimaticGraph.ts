import { FRAMES_PER_SECOND } from "../domain/SeedanceParams.js"

/** The animatic's audio: every part resampled to it, so the parts concatenate. */
export const SAMPLE_RATE = 48_000
const SAMPLES_PER_FRAME = SAMPLE_RATE / FRAMES_PER_SECOND

export interface FrameSize {
  readonly width: number
  readonly height: number
}

/** Used when no chosen take has a video to take the size from. */
export const DEFAULT_FRAME_SIZE: FrameSize = { width: 1280, height: 720 }

/** One stretch of the animatic: a take's video, or a black card standing for a shot without one. */
export type Segment =
  | {
    readonly _tag: "Clip"
    /** absolute */
    readonly file: string
    readonly audio: boolean
    readonly frames: number
    readonly label: string | undefined
  }
  | { readonly _tag: "Card"; readonly frames: number; readonly label: string }

/** How labels get onto the picture: burnt in, as a subtitle track when ffmpeg has no font, or not at all. */
export type LabelMode = "drawtext" | "subtitles"

/** Whole frames at the animatic's rate, at least one. */
export const framesOf = (seconds: number): number => Math.max(1, Math.round(seconds * FRAMES_PER_SECOND))

/** The most common size among the takes (the first such in order on a tie), even, as x264 needs. */
export const commonFrameSize = (sizes: ReadonlyArray<FrameSize>): FrameSize => {
  const counts = new Map<string, { size: FrameSize; count: number }>()
  for (const size of sizes) {
    const key = `${size.width}x${size.height}`
    const entry = counts.get(key)
    counts.set(key, { size, count: (entry?.count ?? 0) + 1 })
  }
  const best = [...counts.values()].reduce<{ size: FrameSize; count: number } | undefined>(
    (top, entry) => (top === undefined || entry.count > top.count ? entry : top),
    undefined
  )
  if (best === undefined || best.size.width < 2 || best.size.height < 2) return DEFAULT_FRAME_SIZE
  return { width: best.size.width - (best.size.width % 2), height: best.size.height - (best.size.height % 2) }
}

/** Files the graph reads labels from, relative to ffmpeg's working directory (so no path needs escaping). */
export const labelFileOf = (segment: number): string => `label-${segment}.txt`
export const SUBTITLES_FILE = "labels.srt"
export const GRAPH_FILE = "graph.txt"

const drawLabel = (segment: number, size: FrameSize, centred: boolean): string => {
  const fontSize = Math.max(12, Math.round(size.height / (centred ? 14 : 24)))
  const margin = Math.round(fontSize * 0.75)
  const place = centred ? "x=(w-tw)/2:y=(h-th)/2" : `x=${margin}:y=h-th-${margin}`
  return `drawtext=textfile=${
    labelFileOf(segment)
  }:expansion=none:fontcolor=white:fontsize=${fontSize}:box=1:boxcolor=black@0.55:boxborderw=${
    Math.round(fontSize / 3)
  }:${place}`
}

const videoOf = (segment: Segment, index: number, input: number, size: FrameSize, mode: LabelMode | undefined) => {
  const { height, width } = size
  const label = mode === "drawtext" && segment.label !== undefined
    ? [drawLabel(index, size, segment._tag === "Card")]
    : []
  const source = segment._tag === "Clip"
    ? [
      `[${input}:v:0]scale=${width}:${height}:force_original_aspect_ratio=decrease`,
      `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:black`,
      `fps=${FRAMES_PER_SECOND}`,
      // A take a frame short of its length holds its last frame, so every part lasts what it was measured to.
      "tpad=stop_mode=clone:stop=-1"
    ]
    : [`color=c=black:s=${width}x${height}:r=${FRAMES_PER_SECOND}`]
  return [
    ...source,
    "setsar=1",
    "format=yuv420p",
    ...label,
    `trim=end_frame=${segment.frames}`,
    `setpts=PTS-STARTPTS[v${index}]`
  ].join(",")
}

const audioOf = (segment: Segment, index: number, input: number) => {
  const samples = segment.frames * SAMPLES_PER_FRAME
  const source = segment._tag === "Clip" && segment.audio
    ? [
      `[${input}:a:0]aresample=${SAMPLE_RATE}`,
      "aformat=sample_fmts=fltp:channel_layouts=stereo",
      "apad"
    ]
    : [`anullsrc=r=${SAMPLE_RATE}:cl=stereo`]
  return [...source, `atrim=end_sample=${samples}`, `asetpts=PTS-STARTPTS[a${index}]`].join(",")
}

/** The clip inputs, in order; cards and silence are sources inside the graph. */
export const clipInputs = (segments: ReadonlyArray<Segment>): ReadonlyArray<string> =>
  segments.flatMap((segment) => (segment._tag === "Clip" ? [segment.file] : []))

/**
 * Every part fitted into one frame (letterboxed or pillarboxed), one rate and
 * one audio format, trimmed to whole frames, then concatenated.
 */
export const filterGraph = (
  segments: ReadonlyArray<Segment>,
  size: FrameSize,
  mode: LabelMode | undefined
): string => {
  let input = 0
  const chains = segments.flatMap((segment, index) => {
    const chain = [videoOf(segment, index, input, size, mode), audioOf(segment, index, input)]
    if (segment._tag === "Clip") input++
    return chain
  })
  const pads = segments.map((_, index) => `[v${index}][a${index}]`).join("")
  return [...chains, `${pads}concat=n=${segments.length}:v=1:a=1[v][a]`].join(";\n") + "\n"
}

const srtTime = (frames: number): string => {
  const ms = Math.round((frames / FRAMES_PER_SECOND) * 1000)
  const pad = (value: number, width: number) => String(value).padStart(width, "0")
  return `${pad(Math.floor(ms / 3_600_000), 2)}:${pad(Math.floor(ms / 60_000) % 60, 2)}:${
    pad(Math.floor(ms / 1000) % 60, 2)
  },${pad(ms % 1000, 3)}`
}

/** The labels as SRT cues, each over its part: what a player shows when ffmpeg could not draw them. */
export const subtitleCues = (segments: ReadonlyArray<Segment>): string => {
  let start = 0
  const cues: Array<string> = []
  for (const segment of segments) {
    const end = start + segment.frames
    if (segment.label !== undefined) {
      cues.push(`${cues.length + 1}\n${srtTime(start)} --> ${srtTime(end)}\n${segment.label.replace(/\s+/g, " ")}\n`)
    }
    start = end
  }
  return cues.join("\n")
}

/** Whether any part carries a label. */
export const hasLabels = (segments: ReadonlyArray<Segment>): boolean =>
  segments.some((segment) => segment.label !== undefined)

/** ffmpeg's command line: run in the folder holding the graph and label files, writing `output` as MP4. */
export const ffmpegArguments = (
  segments: ReadonlyArray<Segment>,
  mode: LabelMode | undefined,
  output: string
): ReadonlyArray<string> => {
  const inputs = clipInputs(segments)
  const subtitles = mode === "subtitles" && hasLabels(segments)
  return [
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-loglevel",
    "error",
    "-y",
    ...inputs.flatMap((file) => ["-i", file]),
    ...(subtitles ? ["-i", SUBTITLES_FILE] : []),
    "-filter_complex_script",
    GRAPH_FILE,
    "-map",
    "[v]",
    "-map",
    "[a]",
    ...(subtitles ? ["-map", `${inputs.length}:s:0`, "-c:s", "mov_text"] : []),
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    "20",
    "-pix_fmt",
    "yuv420p",
    "-r",
    String(FRAMES_PER_SECOND),
    "-c:a",
    "aac",
    "-b:a",
    "160k",
    "-movflags",
    "+faststart",
    "-progress",
    "pipe:1",
    "-f",
    "mp4",
    output
  ]
}
