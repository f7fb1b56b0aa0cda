import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { checkAnimatic } from "../../src/assembly/Animatic.js"
import {
  clipInputs,
  commonFrameSize,
  DEFAULT_FRAME_SIZE,
  ffmpegArguments,
  filterGraph,
  framesOf,
  type Segment,
  subtitleCues
} from "../../src/assembly/AnimaticGraph.js"
import { progressSeconds } from "../../src/assembly/Ffmpeg.js"
import type { Mp4Info } from "../../src/store/Mp4Inspection.js"

const segments: ReadonlyArray<Segment> = [
  { _tag: "Clip", file: "/run/videos/a.mp4", audio: true, frames: 48, label: "a / seed 1" },
  { _tag: "Card", frames: 120, label: "b\nno completed take: 1 failed" },
  { _tag: "Clip", file: "/run/videos/c.mp4", audio: false, frames: 72, label: undefined }
]

describe("the animatic's frame and graph", () => {
  it("frame size: the most common among the takes, the first on a tie, even; 1280x720 when there is none", () => {
    const wide = { width: 864, height: 496 }
    const tall = { width: 496, height: 864 }
    expect(commonFrameSize([tall, wide, wide])).toEqual(wide)
    expect(commonFrameSize([tall, wide])).toEqual(tall)
    expect(commonFrameSize([{ width: 641, height: 361 }])).toEqual({ width: 640, height: 360 })
    expect(commonFrameSize([])).toEqual(DEFAULT_FRAME_SIZE)
    expect(DEFAULT_FRAME_SIZE).toEqual({ width: 1280, height: 720 })
  })

  it("whole frames at 24 fps, at least one", () => {
    expect(framesOf(2)).toBe(48)
    expect(framesOf(5.04)).toBe(121)
    expect(framesOf(0)).toBe(1)
  })

  it("fits each clip into the frame, pads and trims every part to its frames, silence where a clip has no audio, then concatenates", () => {
    const graph = filterGraph(segments, { width: 640, height: 360 }, "drawtext")
    expect(graph).toContain(
      "[0:v:0]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2:black,fps=24"
    )
    expect(graph).toContain("[0:a:0]aresample=48000")
    expect(graph).toContain("atrim=end_sample=96000,asetpts=PTS-STARTPTS[a0]")
    expect(graph).toContain("color=c=black:s=640x360:r=24")
    expect(graph).toContain("drawtext=textfile=label-1.txt:expansion=none")
    expect(graph).toContain("trim=end_frame=120,setpts=PTS-STARTPTS[v1]")
    // The third part is the second input; it has no audio: silence as long as its frames.
    expect(graph).toContain("[1:v:0]scale=640:360")
    expect(graph).toContain("anullsrc=r=48000:cl=stereo,atrim=end_sample=144000,asetpts=PTS-STARTPTS[a2]")
    expect(graph).not.toContain("label-2.txt")
    expect(graph.trimEnd().split("\n").at(-1)).toBe("[v0][a0][v1][a1][v2][a2]concat=n=3:v=1:a=1[v][a]")
    expect(clipInputs(segments)).toEqual(["/run/videos/a.mp4", "/run/videos/c.mp4"])
  })

  it("without a font, labels become SRT cues over their parts and a mov_text track; nothing is drawn", () => {
    expect(filterGraph(segments, { width: 640, height: 360 }, "subtitles")).not.toContain("drawtext")
    expect(subtitleCues(segments)).toBe(
      "1\n00:00:00,000 --> 00:00:02,000\na / seed 1\n\n2\n00:00:02,000 --> 00:00:07,000\nb no completed take: 1 failed\n"
    )
    const args = ffmpegArguments(segments, "subtitles", "/run/.animatic.mp4.part")
    expect(args.join(" ")).toContain("-i /run/videos/a.mp4 -i /run/videos/c.mp4 -i labels.srt")
    expect(args.join(" ")).toContain("-map 2:s:0 -c:s mov_text")
    expect(args.slice(-3)).toEqual(["-f", "mp4", "/run/.animatic.mp4.part"])
    expect(ffmpegArguments(segments, "drawtext", "out.mp4").join(" ")).not.toContain("mov_text")
  })

  it("reads ffmpeg's -progress lines, ignoring the rest", () => {
    expect(progressSeconds("out_time=00:01:07.040000")).toEqual(Option.some(67.04))
    expect(progressSeconds("out_time_ms=67040000")).toEqual(Option.none())
    expect(progressSeconds("out_time=-577014:32:22.771192")).toEqual(Option.none())
  })
})

const info = (seconds: number, extra: Partial<Mp4Info> = {}): Mp4Info => ({
  durationSeconds: seconds,
  video: Option.some({ width: 640, height: 360, durationSeconds: seconds }),
  audio: Option.some({ durationSeconds: seconds }),
  tracks: 2,
  ...extra
})

describe("the check of the joined file", () => {
  const expected = { seconds: 7, parts: 3, size: { width: 640, height: 360 } }

  it("passes within a frame per part, and fails beyond", () => {
    expect(Either.isRight(checkAnimatic(info(7 + 3 / 24 - 0.001), expected))).toBe(true)
    expect(checkAnimatic(info(7.2), expected)).toEqual(
      Either.left("the file lasts 7.200 s, its 3 parts add up to 7.000 s (± 0.125 s)")
    )
  })

  it("needs a video track, an audio track, and one frame size", () => {
    expect(checkAnimatic(info(7, { audio: Option.none() }), expected)).toEqual(Either.left("no audio track"))
    expect(checkAnimatic(info(7, { video: Option.none() }), expected)).toEqual(Either.left("no video track"))
    expect(
      checkAnimatic(info(7, { video: Option.some({ width: 360, height: 640, durationSeconds: 7 }) }), expected)
    ).toEqual(Either.left("frames of 360x640, 640x360 expected"))
    expect(
      checkAnimatic(info(7, { video: Option.some({ width: 640, height: 360, durationSeconds: 5 }) }), expected)
    ).toEqual(Either.left("its video lasts 5.000 s, its 3 parts add up to 7.000 s (± 0.125 s)"))
  })
})
