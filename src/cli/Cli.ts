import { CliConfig, Command, HelpDoc, Usage, ValidationError } from "@effect/cli"
import { Console, Effect } from "effect"
import { closestKey } from "../domain/ClosestName.js"
import { TOOL_NAME, TOOL_VERSION } from "../domain/Tool.js"
import { assembleCommand } from "./AssembleCommand.js"
import { emulatorCommand } from "./EmulatorCommand.js"
import { ExitCode, setExitCode } from "./ExitCode.js"
import { commandHelp, type HelpSubject, helpSubject, overviewHelp } from "./HelpText.js"
import { listCommand } from "./ListCommand.js"
import { withShotlistConsole } from "./Logging.js"
import { pickCommand } from "./PickCommand.js"
import { pinCommand } from "./PinCommand.js"
import { planCommand } from "./PlanCommand.js"
import { pruneCommand } from "./PruneCommand.js"
import { replayCommand } from "./ReplayCommand.js"
import { resumeCommand } from "./ResumeCommand.js"
import { runCommand } from "./RunCommand.js"
import { schemaCommand } from "./SchemaCommand.js"
import { statusCommand } from "./StatusCommand.js"

const DESCRIPTION =
  "Render storyboards of video shots with Seedance 1.5 Pro on Segmind's async API, reproducibly. Start with `shotlist plan MANIFEST`, then `shotlist run MANIFEST` (add --emulator to try it for free)."

const shotlist = Command.make("shotlist").pipe(
  Command.withDescription(DESCRIPTION),
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

/** Each subcommand, in the order help lists them; its usage lists its flags. */
const subcommands: Readonly<Record<string, () => HelpSubject>> = {
  run: () => helpSubject(runCommand),
  resume: () => helpSubject(resumeCommand),
  replay: () => helpSubject(replayCommand),
  plan: () => helpSubject(planCommand),
  status: () => helpSubject(statusCommand),
  list: () => helpSubject(listCommand),
  pick: () => helpSubject(pickCommand),
  pin: () => helpSubject(pinCommand),
  assemble: () => helpSubject(assembleCommand),
  prune: () => helpSubject(pruneCommand),
  schema: () => helpSubject(schemaCommand),
  emulator: () => helpSubject(emulatorCommand)
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

/** Built-in flags that take a value, which is no command name. */
const BUILT_IN_VALUED = new Set(["--log-level", "--completions"])

/** The arguments before `--`, where flags are. */
const optionsOf = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const args = splitInlineValues(argv.slice(2))
  const end = args.indexOf("--")
  return end === -1 ? args : args.slice(0, end)
}

/** The first argument that is neither a flag nor a built-in flag's value: the command's name, when one was given. */
const commandNameOf = (options: ReadonlyArray<string>): string | undefined =>
  options.find((arg, index) => !arg.startsWith("-") && !BUILT_IN_VALUED.has(options[index - 1] ?? ""))

const subjectOf = (name: string | undefined) =>
  name === undefined || !Object.hasOwn(subcommands, name) ? undefined : subcommands[name]

/**
 * "did you mean --only?" for each flag of the command line its subcommand does
 * not take, when one it takes is close. @effect/cli names an unknown flag but
 * suggests one only when the flag comes before the arguments.
 */
const suggestFlags = (argv: ReadonlyArray<string>, error: ValidationError.ValidationError) =>
  Effect.gen(function*() {
    if (ValidationError.isCorrectedFlag(error)) return
    const options = optionsOf(argv)
    const subject = subjectOf(commandNameOf(options))
    if (subject === undefined) return
    const known = flagsOf(subject().usage)
    for (const arg of options) {
      if (!arg.startsWith("--") || known.includes(arg) || BUILT_IN_FLAGS.has(arg)) continue
      const close = closestKey(arg.slice(2), known.map((flag) => flag.slice(2)))
      if (close !== undefined) yield* Console.error(`shotlist: unknown flag ${arg}: did you mean --${close}?`)
    }
  })

/**
 * `--help` (or no command at all) answered here rather than by @effect/cli:
 * plain text at 100 columns, usage lines as typed (`shotlist run …`), every
 * flag with its default. An unknown command is a usage error.
 */
const answerHelp = (options: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const name = commandNameOf(options)
    const subject = subjectOf(name)
    if (name !== undefined && subject === undefined) {
      yield* Console.error(
        `shotlist: no command ${JSON.stringify(name)}; the commands are ${Object.keys(subcommands).join(", ")}`
      )
      return yield* setExitCode(ExitCode.Usage)
    }
    yield* Console.log(
      subject === undefined
        ? overviewHelp(TOOL_VERSION, DESCRIPTION, Object.entries(subcommands).map(([each, of]) => [each, of()]))
        : commandHelp(subject())
    )
  })

const wantsHelp = (options: ReadonlyArray<string>) =>
  options.length === 0 || options.includes("--help") || options.includes("-h")

/** The wizard asks its questions on a terminal; without one it would wait forever on a closed stdin. */
const refuseWizardWithoutTerminal = Console.error(
  "shotlist: --wizard asks its questions on a terminal and there is none here; give the command's flags instead (shotlist COMMAND --help lists them)"
).pipe(Effect.zipRight(setExitCode(ExitCode.Usage)))

/** The command line, run; a command line @effect/cli refused (it said why) ends with exit 2. */
export const cli = (argv: ReadonlyArray<string>) => {
  const options = optionsOf(argv)
  const run = wantsHelp(options)
    ? answerHelp(options)
    : options.includes("--wizard") && !(process.stdin.isTTY === true && process.stdout.isTTY === true)
    ? refuseWizardWithoutTerminal
    : runShotlist(splitInlineValues(argv)).pipe(
      Effect.catchIf(
        ValidationError.isValidationError,
        (error) => Effect.zipRight(suggestFlags(argv, error), setExitCode(ExitCode.Usage))
      )
    )
  return withShotlistConsole(run)
}
