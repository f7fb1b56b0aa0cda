import { Cause, Effect, HashMap, Logger, LogLevel } from "effect"

const clock = (date: Date) => date.toISOString().slice(11, 19)

/** What every line shotlist writes on stderr starts with, so it stands apart in a cron mail or a CI log. */
export const LINE_PREFIX = "shotlist: "

/**
 * ANSI codes only for a terminal, and never with NO_COLOR set (no-color.org:
 * any non-empty value). Read from the process, like `isTTY`: it is a fact of
 * the terminal, not a setting of the run.
 */
export const colourWanted = (stream: { readonly isTTY?: boolean }): boolean =>
  stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""

const ANSI_CODE = /\x1b\[[0-9;?]*[A-Za-z]/g

export const stripAnsi = (text: string): string => text.replace(ANSI_CODE, "")

/** `file:line:col: …`, the compilers' form that editors and CI annotators jump to: it keeps the line's start. */
const LOCATED_DIAGNOSTIC = /^[^\s:][^:]*:\d+:\d+: /

/** Each non-blank line of `text`, prefixed with `shotlist: ` unless it already is, or is a located diagnostic. */
export const prefixLines = (text: string): string =>
  text.split("\n").filter((line) => line.trim().length > 0).map((line) =>
    line.startsWith(LINE_PREFIX.trimEnd()) || LOCATED_DIAGNOSTIC.test(line) ? line : LINE_PREFIX + line
  ).join("\n")

/** The text of a log message, whatever parts it was given as. */
export const messageText = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((part) => (typeof part === "string" ? part : JSON.stringify(part)))
    .join(" ")

/** What a line's text says already: fields for --log-format json only (a job's id and phase, a retry's request, attempt and error). */
const SAID_IN_TEXT = new Set(["job", "phase", "requestId", "attempt", "error"])

const levelWord = (logLevel: LogLevel.LogLevel): string =>
  LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)
    ? `${logLevel.label.toLowerCase().replace("warn", "warning")}: `
    : ""

/**
 * `shotlist: 12:00:01 warning: text key=value`, every line of it (a cause's
 * too) starting `shotlist: `; only fields the text does not say are appended.
 */
export const formatLogLine = (
  { annotations, cause, date, logLevel, message }: Logger.Logger.Options<unknown>
): string => {
  const fields = [...HashMap.entries(annotations)].filter(([key]) => !SAID_IN_TEXT.has(key))
  const extras = fields.length === 0 ? "" : " " + fields.map(([k, v]) => `${k}=${String(v)}`).join(" ")
  const failure = Cause.isEmpty(cause) ? "" : `\n${Cause.pretty(cause)}`
  return prefixLines(`${clock(date)} ${levelWord(logLevel)}${messageText(message)}${extras}${failure}`)
}

/**
 * Progress and diagnostics go to stderr, one plain line each, so stdout
 * carries only results (a plan, a run's summary) and can be piped.
 */
export const stderrLogger = Logger.make((options) => {
  process.stderr.write(formatLogLine(options) + "\n")
})

export const stderrLoggerLayer = Logger.replace(Logger.defaultLogger, stderrLogger)

/** One JSON object a line on stderr: time, level, message and the job's id and phase when the line is about a job. */
export const jsonStderrLogger = Logger.make((options) => {
  const { annotations, cause, date, logLevel, message } = options
  const record: Record<string, unknown> = {
    time: date.toISOString(),
    level: logLevel.label.toLowerCase(),
    message: messageText(message)
  }
  for (const [key, value] of HashMap.entries(annotations)) record[key] = value
  if (!Cause.isEmpty(cause)) record["cause"] = Cause.pretty(cause)
  process.stderr.write(JSON.stringify(record) + "\n")
})

/** `--log-format json` swaps the logger for the whole command; text keeps the plain stderr lines. */
export const withLogFormat =
  (format: "text" | "json") => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    format === "json" ? Effect.provide(effect, Logger.replace(stderrLogger, jsonStderrLogger)) : effect

const textOf = (parts: ReadonlyArray<unknown>): string =>
  parts.map((part) => (typeof part === "string" ? part : String(part))).join(" ")

/**
 * What the commands, and @effect/cli itself, print through `Console`: plain
 * text where colour is not wanted, and every stderr line marked as shotlist's
 * (@effect/cli's own messages, "Missing argument <MANIFEST>", included).
 */
export const withShotlistConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      log: (...parts: ReadonlyArray<unknown>) =>
        colourWanted(process.stdout) ? console.log(...parts) : console.log(stripAnsi(textOf(parts))),
      error: (...parts: ReadonlyArray<unknown>) => {
        const text = prefixLines(colourWanted(process.stderr) ? textOf(parts) : stripAnsi(textOf(parts)))
        return text.length === 0 ? Effect.void : console.error(text)
      }
    })
  )
