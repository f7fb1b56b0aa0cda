import { Command, FileSystem, Path } from "@effect/platform"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Effect, Schema, Stream } from "effect"
import { type JobReport } from "../../src/domain/JobReport.js"
import { Report, summarize } from "../../src/report/Report.js"
import { writeReport } from "../../src/report/ReportFile.js"
import { sha256OfFile } from "../../src/store/FileDigest.js"

export interface ClipShape {
  readonly width: number
  readonly height: number
  readonly seconds: number
  readonly audio: boolean
  readonly rate: number
}

/** A real clip, rendered by ffmpeg: a test pattern, a tone when it has audio. */
export const makeClip = (file: string, shape: ClipShape) =>
  Effect.gen(function*() {
    const { audio, height, rate, seconds, width } = shape
    const code = yield* Command.exitCode(Command.make(
      ffmpegInstaller.path,
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${width}x${height}:rate=${rate}:duration=${seconds}`,
      ...(audio ? ["-f", "lavfi", "-i", `sine=frequency=330:sample_rate=44100:duration=${seconds}`] : []),
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      ...(audio ? ["-c:a", "aac", "-shortest"] : []),
      "-f",
      "mp4",
      file
    ))
    if (code !== 0) return yield* Effect.die(`ffmpeg could not make the test clip ${file}`)
  })

/** One grey frame (a byte per pixel) of `file` at `seconds`: enough to tell a black bar from the picture. */
export const grayFrameAt = (file: string, seconds: number) =>
  Command.make(
    ffmpegInstaller.path,
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-ss",
    String(seconds),
    "-i",
    file,
    "-frames:v",
    "1",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "gray",
    "-"
  ).pipe(
    Command.stream,
    Stream.runFold(new Uint8Array(0), (frame, chunk) => {
      const joined = new Uint8Array(frame.length + chunk.length)
      joined.set(frame)
      joined.set(chunk, frame.length)
      return joined
    })
  )

const params = (shot: string, seed: number, duration: number) => ({
  prompt: `${shot} prompt`,
  duration,
  resolution: "480p",
  aspect_ratio: "16:9",
  seed,
  camera_fixed: false,
  generate_audio: true,
  skip_moderation: false
})

/** A take in the report; with a clip, a completed one whose video is that clip. */
export interface TakeSpec {
  readonly id: string
  readonly shot: string
  readonly seed: number
  /** what the job asked for, in seconds (4-12) */
  readonly asked?: number
  readonly clip?: ClipShape
  readonly status?: "failed" | "skipped"
}

/** A run directory holding real clips and a report.json that lists them as its jobs. */
export const makeRun = (runDirectory: string, takes: ReadonlyArray<TakeSpec>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.join(runDirectory, "videos"), { recursive: true })
    const jobs: Array<JobReport> = []
    for (const take of takes) {
      const base = {
        id: take.id,
        shot: take.shot,
        seed: take.seed,
        seedDrawn: false,
        params: params(take.shot, take.seed, take.asked ?? 4),
        attempts: 1
      }
      if (take.clip === undefined) {
        jobs.push(
          Schema.decodeUnknownSync(Report.fields.jobs.value)({
            ...base,
            status: take.status ?? "failed",
            error: { tag: "GenerationFailed", message: "the model refused" }
          })
        )
        continue
      }
      const relative = `videos/${take.id}.mp4`
      const file = path.join(runDirectory, relative)
      yield* makeClip(file, take.clip)
      jobs.push(
        Schema.decodeUnknownSync(Report.fields.jobs.value)({
          ...base,
          status: "completed",
          output: {
            path: relative,
            bytes: Number((yield* fs.stat(file)).size),
            sha256: yield* sha256OfFile(file),
            sourceUrl: `https://files.example.test/${take.id}.mp4`,
            durationSeconds: take.clip.seconds,
            width: take.clip.width,
            height: take.clip.height,
            hasAudio: take.clip.audio
          }
        })
      )
    }
    const report: Report = {
      schemaVersion: 1,
      tool: { name: "shotlist", version: "0.1.0" },
      run: {
        id: path.basename(runDirectory),
        manifest: { path: "manifests/test.yaml", sha256: "00" },
        model: "seedance-1.5-pro",
        baseUrl: "https://api.example.test",
        concurrency: 2,
        rpm: 60,
        startedAt: "2026-01-01T00:00:00Z",
        finishedAt: "2026-01-01T00:01:00Z"
      },
      summary: summarize(jobs, 60_000),
      jobs
    }
    yield* writeReport(path.join(runDirectory, "report.json"), report)
    return report
  })
