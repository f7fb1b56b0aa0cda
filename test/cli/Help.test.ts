import { describe, expect, it } from "@effect/vitest"
import { Console, Effect } from "effect"
import { colourWanted, withShotlistConsole } from "../../src/cli/Logging.js"
import { canRedraw } from "../../src/cli/ProgressView.js"
import { runChildCli } from "../support/ChildCli.js"

/** Help as a pipe gets it: stdout is no terminal, and NO_COLOR is unset (ChildCli sets it otherwise). */
const helpOf = (...args: ReadonlyArray<string>) => runChildCli([...args], { NO_COLOR: "" })

const lines = (text: string) => text.split("\n")

/** Each flag of a command's help with its description: `  --flag VALUE` then lines indented six spaces. */
const flagEntries = (help: string): ReadonlyArray<{ readonly flag: string; readonly text: string }> => {
  const options = help.slice(help.indexOf("\nOPTIONS\n"))
  const entries: Array<{ flag: string; text: string }> = []
  for (const line of lines(options)) {
    if (/^ {2}--/.test(line)) entries.push({ flag: line.trim(), text: "" })
    else if (/^ {6}\S/.test(line) && entries.length > 0) entries[entries.length - 1]!.text += ` ${line.trim()}`
  }
  return entries
}

const SAYS_DEFAULT = /\bdefault\b|\boptional\b|\bnone\b|no limit/i

describe("help that reads well", () => {
  it.scopedLive("shotlist --help, piped: plain text, usage as typed, every line within 100 columns, each command with what it does", () =>
    Effect.gen(function*() {
      const outcome = yield* helpOf("--help")
      expect(outcome.code).toBe(0)
      expect(outcome.stdout).not.toContain("\x1b[")
      expect(outcome.stdout).not.toContain("$ ")
      for (const line of lines(outcome.stdout)) expect(line.length, line).toBeLessThanOrEqual(100)
      expect(outcome.stdout).toMatch(/^USAGE\n {2}shotlist COMMAND/m)
      const table = outcome.stdout.slice(outcome.stdout.indexOf("\nCOMMANDS\n"), outcome.stdout.indexOf("\nFLAGS\n"))
      for (
        const [command, says] of [
          ["run MANIFEST", "Validate MANIFEST"],
          ["resume RUN_DIR", "Continue an interrupted"],
          ["replay REPORT_JSON", "Render again"],
          ["plan MANIFEST", "Validate MANIFEST"],
          ["status RUN_DIR", "What a run did"],
          ["list \\[OUTPUT_DIR\\]", "The runs under an output folder"],
          ["pick RUN_DIR SHOT=JOB", "Record the variant"],
          ["pin RUN_DIR", "Write a run's picks"],
          ["assemble RUN_DIR", "Join one take per shot"],
          ["prune \\[OUTPUT_DIR\\]", "Remove old runs"],
          ["schema", "Print the JSON Schema"],
          ["emulator", "Serve a local emulator"]
        ]
      ) {
        expect(table).toMatch(new RegExp(`^ {2}${command} +${says}`, "m"))
      }
      expect(outcome.stdout).toContain("--version")
    }))

  it.scopedLive("shotlist with no command shows the same overview", () =>
    Effect.gen(function*() {
      const outcome = yield* helpOf()
      expect(outcome.code).toBe(0)
      expect(outcome.stdout).toContain("COMMANDS")
      expect(outcome.stdout).not.toContain("\x1b[")
    }))

  it.scopedLive("shotlist run --help, piped: `shotlist run …` usage, no ANSI, and every flag states its default", () =>
    Effect.gen(function*() {
      const outcome = yield* helpOf("run", "--help")
      expect(outcome.code).toBe(0)
      expect(outcome.stdout).not.toContain("\x1b[")
      expect(outcome.stdout).not.toContain("$ ")
      expect(outcome.stdout).toMatch(/^USAGE\n {2}shotlist run \[--out directory\]/)
      for (const line of lines(outcome.stdout)) expect(line.length, line).toBeLessThanOrEqual(100)
      const flags = flagEntries(outcome.stdout)
      expect(flags.map((entry) => entry.flag.split(" ")[0])).toEqual(
        expect.arrayContaining(["--out", "--only", "--concurrency", "--rpm", "--emulator", "--notify", "--max-cost"])
      )
      for (const { flag, text } of flags) expect(text, flag).toMatch(SAYS_DEFAULT)
    }))

  it.scopedLive("every command's help states each flag's default and fits 100 columns", () =>
    Effect.gen(function*() {
      for (
        const command of [
          "resume",
          "replay",
          "plan",
          "status",
          "list",
          "pick",
          "pin",
          "assemble",
          "prune",
          "schema",
          "emulator"
        ]
      ) {
        const outcome = yield* helpOf(command, "--help")
        expect(outcome.code, command).toBe(0)
        expect(outcome.stdout).toMatch(new RegExp(`^USAGE\\n {2}shotlist ${command}\\b`))
        expect(outcome.stdout).not.toContain("\x1b[")
        for (const line of lines(outcome.stdout)) expect(line.length, line).toBeLessThanOrEqual(100)
        for (const { flag, text } of flagEntries(outcome.stdout)) {
          expect(text, `${command} ${flag}`).toMatch(SAYS_DEFAULT)
        }
      }
    }))

  it.scopedLive("help for a command that does not exist is a usage error naming the commands", () =>
    Effect.gen(function*() {
      const outcome = yield* helpOf("rn", "--help")
      expect(outcome.code).toBe(2)
      expect(outcome.stderr.trim()).toMatch(/^shotlist: no command "rn"; the commands are run, resume/)
    }))

  it.scopedLive("--wizard without a terminal is refused at once: exit 2, one line", () =>
    Effect.gen(function*() {
      for (const args of [["--wizard"], ["run", "--wizard"]]) {
        const outcome = yield* helpOf(...args)
        expect(outcome.code, args.join(" ")).toBe(2)
        expect(lines(outcome.stderr.trim())).toHaveLength(1)
        expect(outcome.stderr).toMatch(/^shotlist: --wizard asks its questions on a terminal/)
      }
    }))

  it.scopedLive("@effect/cli's own complaints are marked as shotlist's, in one plain line", () =>
    Effect.gen(function*() {
      const outcome = yield* helpOf("run")
      expect(outcome.code).toBe(2)
      expect(outcome.stderr).toBe("shotlist: Missing argument <MANIFEST>\n")
    }))

  it("colour only on a terminal, and never with NO_COLOR set; the live view likewise", () => {
    const before = process.env["NO_COLOR"]
    try {
      delete process.env["NO_COLOR"]
      expect(colourWanted({ isTTY: true })).toBe(true)
      expect(colourWanted({ isTTY: false })).toBe(false)
      expect(colourWanted({})).toBe(false)
      expect(canRedraw({ isTTY: true })).toBe(true)
      process.env["NO_COLOR"] = "1"
      expect(colourWanted({ isTTY: true })).toBe(false)
      expect(canRedraw({ isTTY: true })).toBe(false)
      process.env["NO_COLOR"] = ""
      expect(colourWanted({ isTTY: true })).toBe(true)
    } finally {
      if (before === undefined) delete process.env["NO_COLOR"]
      else process.env["NO_COLOR"] = before
    }
  })

  it.effect("what goes through Console loses its ANSI codes under NO_COLOR, and stderr lines are marked", () =>
    Effect.gen(function*() {
      const before = process.env["NO_COLOR"]
      process.env["NO_COLOR"] = "1"
      yield* Effect.addFinalizer(() => Effect.sync(() => void (process.env["NO_COLOR"] = before ?? "")))
      const printed: Array<string> = []
      yield* Effect.consoleWith((console) =>
        withShotlistConsole(
          Effect.zipRight(Console.log("\x1b[1mUSAGE\x1b[0m"), Console.error("\x1b[31mbad\x1b[0m\n\nworse\n"))
        ).pipe(Effect.withConsole({
          ...console,
          log: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void printed.push(`out ${parts.join(" ")}`)),
          error: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void printed.push(`err ${parts.join(" ")}`))
        }))
      )
      expect(printed).toEqual(["out USAGE", "err shotlist: bad\nshotlist: worse"])
    }).pipe(Effect.scoped))
})
