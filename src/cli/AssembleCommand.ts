import { Args, Command, Options } from "@effect/cli"
import { Path } from "@effect/platform"
import { Console, Effect, Option, Ref } from "effect"
import type { AssemblyListener } from "../assembly/Animatic.js"
import { ExitCode, setExitCode } from "./ExitCode.js"
import { LINE_PREFIX } from "./Logging.js"

/** The assembly code and ffmpeg's installer, loaded by this command only, not at every start. */
const loadAssembly = Effect.promise(() =>
  Promise.all([import("../assembly/Animatic.js"), import("../assembly/Ffmpeg.js")])
)

/** On a terminal, one line rewritten with ffmpeg's percentage; lines said in between clear it first. */
const terminalListener = Effect.gen(function*() {
  const shown = yield* Ref.make<number | undefined>(undefined)
  const clear = Effect.flatMap(
    Ref.getAndSet(shown, undefined),
    (percent) => Effect.sync(() => void (percent === undefined || process.stderr.write("\r\x1b[K")))
  )
  const listener: AssemblyListener = {
    line: (text) => Effect.zipRight(clear, Console.error(text)),
    progress: (fraction) =>
      Effect.gen(function*() {
        const percent = Math.floor(fraction * 100)
        if ((yield* Ref.getAndSet(shown, percent)) === percent) return
        process.stderr.write(`\r${LINE_PREFIX}assembling: ${String(percent).padStart(3)}%`)
      })
  }
  return { listener, clear }
})

/** Elsewhere (a log file, CI), the start and end lines say enough; the CLI's console marks each `shotlist: `. */
const plainListener: AssemblyListener = { line: (text) => Console.error(text), progress: () => Effect.void }

const fail = (code: ExitCode) => (error: { readonly message: string }) =>
  Console.error(`shotlist: ${error.message}`).pipe(Effect.zipRight(setExitCode(code)))

export const assembleCommand = Command.make(
  "assemble",
  {
    runDirectory: Args.directory({ name: "RUN_DIR", exists: "yes" }).pipe(
      Args.withDescription("the run directory whose takes to join")
    ),
    picks: Options.file("picks", { exists: "yes" }).pipe(
      Options.withDescription(
        "the picks file choosing a take per shot (default: RUN_DIR/picks.yaml when there is one)"
      ),
      Options.optional
    ),
    out: Options.file("out").pipe(
      Options.withDescription("the MP4 to write (default: RUN_DIR/animatic.mp4)"),
      Options.optional
    ),
    label: Options.boolean("label").pipe(
      Options.withDescription("burn each shot's id and seed into its picture (default: off)")
    ),
    strict: Options.boolean("strict").pipe(
      Options.withDescription(
        "fail (exit 1), naming them, when shots have no completed take (default: off: black cards stand in)"
      )
    )
  },
  (args) =>
    Effect.flatMap(loadAssembly, ([{ assembleAnimatic }, { Ffmpeg }]) =>
      Effect.gen(function*() {
        const path = yield* Path.Path
        const terminal = process.stderr.isTTY === true ? yield* terminalListener : undefined
        const record = yield* assembleAnimatic({
          runDirectory: args.runDirectory,
          picksFile: Option.getOrUndefined(args.picks),
          output: Option.getOrUndefined(args.out),
          label: args.label,
          strict: args.strict
        }, terminal?.listener ?? plainListener).pipe(Effect.ensuring(terminal?.clear ?? Effect.void))
        yield* Console.log(path.resolve(args.runDirectory, record.output.path))
      }).pipe(
        Effect.catchTags({
          RunReportUnreadable: fail(ExitCode.Usage),
          NothingToAssemble: fail(ExitCode.Usage),
          PicksInvalid: fail(ExitCode.Usage),
          PicksMismatch: fail(ExitCode.Usage),
          ShotsMissing: fail(ExitCode.JobsFailed),
          FfmpegFailed: fail(ExitCode.JobsFailed),
          AnimaticMismatch: fail(ExitCode.JobsFailed),
          SystemError: fail(ExitCode.JobsFailed),
          BadArgument: fail(ExitCode.JobsFailed)
        }),
        Effect.provide(Ffmpeg.Default)
      ))
).pipe(
  Command.withDescription(
    "Join one take per shot, in storyboard order, into one MP4 (RUN_DIR/animatic.mp4): the pick of RUN_DIR/picks.yaml (or --picks), else the shot's only or first completed take; a shot without one becomes a black card as long as it asked for. Every take is fitted to one frame size (letterboxed), 24 fps, with audio (silence where a take has none); the file is checked and recorded in RUN_DIR/animatic.json. Needs ffmpeg, which comes with the npm package @ffmpeg-installer/ffmpeg. Exit 0 when written, 1 when --strict finds shots without a take or ffmpeg or the check fails, 2 when RUN_DIR or the picks cannot be used."
  )
)
