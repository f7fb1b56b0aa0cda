import { CliConfig, Command, HelpDoc, Usage, ValidationError } from "@effect/cli"
import { Console, Effect } from "effect"
import { closestKey } from "../domain/ClosestName.js"
import { TOOL_NAME, TOOL_VERSION } from "../domain/Tool.js"
import { assembleCommand } from "./AssembleCommand.js"
import { emulatorCommand } from "./EmulatorCommand.js"
import { ExitCode, setExitCode } from "./ExitCode.js"
import { listCommand } from "./ListCommand.js"
import { pickCommand } from "./PickCommand.js"
import { pinCommand } from "./PinCommand.js"
import { planCommand } from "./PlanCommand.js"
import { pruneCommand } from "./PruneCommand.js"
import { replayCommand } from "./ReplayCommand.js"
import { resumeCommand } from "./ResumeCommand.js"
import { runCommand } from "./RunCommand.js"
import { schemaCommand } from "./SchemaCommand.js"
import { statusCommand } from "./StatusCommand.js"

const shotlist = Command.make("shotlist").pipe(
  Command.withDescription(
    "Render storyboards of video shots with Seedance 1.5 Pro on Segmind's async API, reproducibly. Start with `shotlist plan MANIFEST`, then `shotlist run MANIFEST` (add --emulator to try it for free)."
  ),
  Command.withSubcommands([
    runCommand,
    resumeCommand,
    replayCommand,
    planCommand,
    statusCommand,
    listCommand,
    pickCommand,
    pinCommand,
    assembleCommand,
    pruneCommand,
    schemaCommand,
    emulatorCommand
  ])
)

/** Each subcommand's usage, which lists its flags. */
const usages: Readonly<Record<string, () => Usage.Usage>> = {
  run: () => Command.getUsage(runCommand),
  resume: () => Command.getUsage(resumeCommand),
  replay: () => Command.getUsage(replayCommand),
  plan: () => Command.getUsage(planCommand),
  status: () => Command.getUsage(statusCommand),
  list: () => Command.getUsage(listCommand),
  prune: () => Command.getUsage(pruneCommand),
  schema: () => Command.getUsage(schemaCommand),
  emulator: () => Command.getUsage(emulatorCommand),
  pick: () => Command.getUsage(pickCommand),
  pin: () => Command.getUsage(pinCommand),
  assemble: () => Command.getUsage(assembleCommand)
}

const runShotlist = Command.run(shotlist, { name: TOOL_NAME, version: TOOL_VERSION })

/** `--only=GLOB` as `--only GLOB`: @effect/cli reads `=` for single options but not for repeated ones. */
export const splitInlineValues = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const end = argv.indexOf("--")
  const options = end === -1 ? argv : argv.slice(0, end)
  const rest = end === -1 ? [] : argv.slice(end)
  return [
    ...options.flatMap((arg) => {
      const equals = arg.indexOf("=")
      return /^--[A-Za-z][\w-]*=/.test(arg) ? [arg.slice(0, equals), arg.slice(equals + 1)] : [arg]
    }),
    ...rest
  ]
}

/** The long flags a subcommand takes, as its usage line lists them. */
const flagsOf = (usage: Usage.Usage): ReadonlyArray<string> =>
  Usage.enumerate(usage, CliConfig.defaultConfig).flatMap((span) =>
    HelpDoc.toAnsiText(HelpDoc.p(span)).match(/--[a-z][a-z0-9-]*/g) ?? []
  )

/** Flags @effect/cli answers itself, whatever the subcommand. */
const BUILT_IN_FLAGS = new Set(["--help", "--version", "--wizard", "--completions", "--log-level"])

/**
 * "did you mean --only?" for each flag of the command line its subcommand does
 * not take, when one it takes is close. @effect/cli names an unknown flag but
 * suggests one only when the flag comes before the arguments.
 */
const suggestFlags = (argv: ReadonlyArray<string>, error: ValidationError.ValidationError) =>
  Effect.gen(function*() {
    if (ValidationError.isCorrectedFlag(error)) return
    const args = splitInlineValues(argv.slice(2))
    const end = args.indexOf("--")
    const options = end === -1 ? args : args.slice(0, end)
    const command = options.find((arg) => !arg.startsWith("-"))
    const usage = command === undefined || !Object.hasOwn(usages, command) ? undefined : usages[command]
    if (usage === undefined) return
    const known = flagsOf(usage())
    for (const arg of options) {
      if (!arg.startsWith("--") || known.includes(arg) || BUILT_IN_FLAGS.has(arg)) continue
      const close = closestKey(arg.slice(2), known.map((flag) => flag.slice(2)))
      if (close !== undefined) yield* Console.error(`shotlist: unknown flag ${arg}: did you mean --${close}?`)
    }
  })

/** The command line, run; a command line @effect/cli refused (it said why) ends with exit 2. */
export const cli = (argv: ReadonlyArray<string>) =>
  runShotlist(splitInlineValues(argv)).pipe(
    Effect.catchIf(
      ValidationError.isValidationError,
      (error) => Effect.zipRight(suggestFlags(argv, error), setExitCode(ExitCode.Usage))
    )
  )
