import { Cause, Effect, HashMap, Logger, LogLevel } from "effect"

const clock = (date: Date) => date.toISOString().slice(11, 19)

/** The text of a log message, whatever parts it was given as. */
export const messageText = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((part) => (typeof part === "string" ? part : JSON.stringify(part)))
    .join(" ")

/** What a line's text says already: fields for --log-format json only (a job's id and phase, a retry's request, attempt and error). */
const SAID_IN_TEXT = new Set(["job", "phase", "requestId", "attempt", "error"])

/** `12:00:01 WARN text key=value`: only fields the text does not say are appended. */
export const formatLogLine = (
  { annotations, cause, date, logLevel, message }: Logger.Logger.Options<unknown>
): string => {
  const level = LogLevel.greaterThanEqual(logLevel, LogLevel.Warning) ? `${logLevel.label} ` : ""
  const fields = [...HashMap.entries(annotations)].filter(([key]) => !SAID_IN_TEXT.has(key))
  const extras = fields.length === 0 ? "" : " " + fields.map(([k, v]) => `${k}=${String(v)}`).join(" ")
  const failure = Cause.isEmpty(cause) ? "" : `\n${Cause.pretty(cause)}`
  return `${clock(date)} ${level}${messageText(message)}${extras}${failure}`
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
