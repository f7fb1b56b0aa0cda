import { Context, Effect, Layer, Ref } from "effect"
import type { Report } from "../report/Report.js"

/** SPEC §2. */
export const ExitCode = {
  Ok: 0,
  JobsFailed: 1,
  Usage: 2,
  Aborted: 3,
  Interrupted: 130
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** The code the process ends with; commands set it, `main.ts` exits with it. */
export class ProcessExitCode extends Context.Tag("shotlist/ProcessExitCode")<ProcessExitCode, Ref.Ref<ExitCode>>() {
  static readonly layer = Layer.effect(ProcessExitCode, Ref.make<ExitCode>(ExitCode.Ok))
}

export const setExitCode = (code: ExitCode) => Effect.flatMap(ProcessExitCode, (ref) => Ref.set(ref, code))

export const exitCodeOf = (report: Report): ExitCode =>
  report.run.aborted !== undefined
    ? ExitCode.Aborted
    : report.summary.failed > 0 || report.summary.skipped > 0
    ? ExitCode.JobsFailed
    : ExitCode.Ok
