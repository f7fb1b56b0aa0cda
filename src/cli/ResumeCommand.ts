import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { withLogFormat } from "./Logging.js"
import { renderFlags } from "./RenderFlags.js"
import { resumeRun } from "./RunExecution.js"
import { reportUsageError } from "./UsageErrors.js"

export const resumeCommand = Command.make(
  "resume",
  {
    runDirectory: Args.directory({ name: "RUN_DIR", exists: "yes" }).pipe(
      Args.withDescription("the run directory of an interrupted or crashed run (it holds journal.jsonl)")
    ),
    retryFailed: Options.boolean("retry-failed").pipe(
      Options.withDescription(
        "render failed jobs again (by default they stay failed); a job whose request may still end is polled, not paid for again"
      )
    ),
    ...renderFlags
  },
  (args) =>
    resumeRun({
      runDirectory: args.runDirectory,
      flags: args,
      retryFailed: args.retryFailed,
      expectManifestSha256: undefined
    }).pipe(
      Effect.scoped,
      withLogFormat(args.logFormat),
      Effect.catchTag("UsageError", reportUsageError)
    )
).pipe(
  Command.withDescription(
    "Continue an interrupted or crashed run from its journal. Verified videos are kept; a job the API accepted is polled again, never submitted again, while the API keeps it (1 h); after that, or on a 404, it is submitted again and the report says so. Jobs never submitted are submitted; failed jobs stay failed unless --retry-failed. The report covers every job. Exit codes as for `run`."
  )
)
