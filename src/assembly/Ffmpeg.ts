import { Command, CommandExecutor } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Data, Effect, Option, Stream } from "effect"

/** ffmpeg ended with an error; `detail` is the end of what it said. */
export class FfmpegFailed extends Data.TaggedError("FfmpegFailed")<{
  readonly exitCode: number
  readonly detail: string
}> {
  override get message() {
    return `ffmpeg exited with ${this.exitCode}${this.detail === "" ? "" : `: ${this.detail}`}`
  }
}

/** Lines of ffmpeg's stderr kept for an error message. */
const DETAIL_LINES = 8

/** Fontconfig warns about its own config files on every start; they say nothing of why ffmpeg failed. */
const isNoise = (line: string) => line.trim() === "" || line.startsWith("Fontconfig warning")

/** `out_time=00:00:07.040000` from `-progress pipe:1`, in seconds; early lines may hold garbage. */
export const progressSeconds = (line: string): Option.Option<number> => {
  const match = /^out_time=(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(line.trim())
  if (match === null) return Option.none()
  return Option.some(Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]))
}

const lastLines = (text: string) => text.split("\n").filter((line) => !isNoise(line)).slice(-DETAIL_LINES).join("\n")

/** The ffmpeg that comes with the npm package @ffmpeg-installer/ffmpeg. */
export class Ffmpeg extends Effect.Service<Ffmpeg>()("shotlist/Ffmpeg", {
  effect: Effect.gen(function*() {
    const executor = yield* CommandExecutor.CommandExecutor

    /** Runs ffmpeg in `directory`, telling `onProgress` the seconds of output written so far. */
    const run = (
      args: ReadonlyArray<string>,
      directory: string,
      onProgress: (seconds: number) => Effect.Effect<void>
    ): Effect.Effect<void, FfmpegFailed | PlatformError> =>
      Effect.scoped(
        Effect.gen(function*() {
          const process = yield* Command.make(ffmpegInstaller.path, ...args).pipe(
            Command.workingDirectory(directory),
            Command.start
          )
          const [, stderr, exitCode] = yield* Effect.all([
            process.stdout.pipe(
              Stream.decodeText(),
              Stream.splitLines,
              Stream.filterMap(progressSeconds),
              Stream.runForEach(onProgress)
            ),
            process.stderr.pipe(
              Stream.decodeText(),
              Stream.runFold("", (text, chunk) => (text + chunk).slice(-16_384))
            ),
            process.exitCode
          ], { concurrency: "unbounded" })
          if (exitCode !== 0) return yield* new FfmpegFailed({ exitCode, detail: lastLines(stderr) })
        })
      ).pipe(Effect.provideService(CommandExecutor.CommandExecutor, executor))

    /** Whether drawtext finds a default font here: it needs fontconfig and at least one installed font. */
    const drawsText = yield* Effect.cached(
      Command.make(
        ffmpegInstaller.path,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        "color=s=64x64:d=0.04",
        "-vf",
        "drawtext=text=Aa",
        "-f",
        "null",
        "-"
      ).pipe(
        Command.exitCode,
        Effect.map((code) => code === 0),
        Effect.orElseSucceed(() => false),
        Effect.provideService(CommandExecutor.CommandExecutor, executor)
      )
    )

    return { path: ffmpegInstaller.path, run, drawsText } as const
  })
}) {}
