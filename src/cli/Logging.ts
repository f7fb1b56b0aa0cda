import { Cause, HashMap, Logger, LogLevel } from "effect"

const clock = (date: Date) => date.toISOString().slice(11, 19)

/**
 * Progress and diagnostics go to stderr, one plain line each, so stdout
 * carries only results (a plan, a run's summary) and can be piped.
 */
export const stderrLogger = Logger.make(({ annotations, cause, date, logLevel, message }) => {
  const text = (Array.isArray(message) ? message : [message]).map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join(" ")
  const level = LogLevel.greaterThanEqual(logLevel, LogLevel.Warning) ? `${logLevel.label} ` : ""
  const extras = HashMap.isEmpty(annotations) ? "" : " " + [...HashMap.entries(annotations)].map(([k, v]) => `${k}=${String(v)}`).join(" ")
  const failure = Cause.isEmpty(cause) ? "" : `\n${Cause.pretty(cause)}`
  process.stderr.write(`${clock(date)} ${level}${text}${extras}${failure}\n`)
})

export const stderrLoggerLayer = Logger.replace(Logger.defaultLogger, stderrLogger)
