import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { resumePicksFlag } from "./LinkPicks.js"
import { withLogFormat } from "./Logging.js"
import { renderFlags } from "./RenderFlags.js"
import { loadRunExecution } from "./RunModules.js"
import { reportUsageError } from "./UsageErrors.js"

export const resumeCommand = Command.make(
  "resume",
  {
    runDirectory: Args.directory({ name: "RUN_DIR", exists: "yes" }).pipe(
      Args.withDescription("the run directory of an interrupted or crashed run (it holds journal.jsonl)")
    ),
    retryFailed: Options.boolean("retry-failed").pipe(
      Options.withDescription(
        "render failed jobs again, paying for them (by default they stay failed); a failed job whose request or video can still be fetched is fetched, not paid for again"
      )
    ),
    resendUncertain: Options.boolean("resend-uncertain").pipe(
      Options.withDescription(
        "send again the jobs whose earlier submit got no answer that says whether the API took it (lost answer, 502/504, a crash mid-submit); each is named in the report, and may be billed twice (default: off, they stay held)"
      )
    ),
    picks: resumePicksFlag,
    ...renderFlags
  },
  (args) =>
    Effect.flatMap(loadRunExecution, ({ resumeRun }) =>
      resumeRun({
        runDirectory: args.runDirectory,
        flags: args,
        retryFailed: args.retryFailed,
        resendUncertain: args.resendUncertain,
        expectManifestSha256: undefined,
        picks: args.picks
      })).pipe(
        Effect.scoped,
        withLogFormat(args.logFormat),
        Effect.catchTag("UsageError", reportUsageError)
      )
).pipe(
  Command.withDescription(
    "Continue an interrupted or crashed run from its journal. Verified videos are kept; a finished video is downloaded again from its recorded URL; a job the API accepted is polled again, never submitted again, while the API still knows it; only on its 404 is it submitted again, and the report says so. A failed job whose request or video can still be fetched is fetched for free; a failed generation stays failed unless --retry-failed. A submit whose outcome is unknown stays held unless --resend-uncertain. Jobs never submitted (planning cut short included) are submitted. The report covers every job. Exit codes as for `run`."
  )
)
