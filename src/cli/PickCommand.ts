import { Args, Command } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Console, Effect, Either } from "effect"
import type { JobReport } from "../domain/JobReport.js"
import { pickOf, pickOfArgument, type Picks, picksProblems, picksYaml, readPicksYaml } from "../report/Picks.js"
import { decodeReport } from "../report/ReportFile.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { runFiles } from "../store/RunDirectory.js"
import { reportUsageError, usageError } from "./UsageErrors.js"

/** A run directory's report and files; a folder without a readable report is a usage error. */
export const readRunReport = (runDirectory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files = runFiles(path, runDirectory)
    const report = yield* fs.readFileString(files.report).pipe(
      Effect.flatMap(decodeReport),
      Effect.catchAll((error) =>
        usageError(
          `${runDirectory} holds no readable report.json (${error.message.split("\n")[0]}): is it a run directory?`
        )
      )
    )
    return { report, files }
  })

/** The picks already in RUN_DIR/picks.yaml, to add to; none when there is no such file. */
const earlierPicks = (file: string, runId: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(file))) return {}
    const picks = yield* fs.readFileString(file).pipe(
      Effect.flatMap((text) => readPicksYaml(file, text)),
      Effect.catchAll((error) => usageError(`${error.message}; move it away to start the picks afresh`))
    )
    if (picks.run !== runId) {
      return yield* usageError(`${file} holds picks of run ${picks.run}, not ${runId}; move it away to start afresh`)
    }
    return picks.picks
  })

export const pickCommand = Command.make(
  "pick",
  {
    runDirectory: Args.directory({ name: "RUN_DIR", exists: "yes" }).pipe(
      Args.withDescription("the run whose variants you pick from (it holds report.json)")
    ),
    picks: Args.text({ name: "SHOT=JOB" }).pipe(
      Args.withDescription(
        "the job to keep for a shot, e.g. `cliff=cliff~seed=22~camera_fixed=true` (or the job id alone)"
      ),
      Args.atLeast(1)
    )
  },
  (args) =>
    Effect.gen(function*() {
      const { files, report } = yield* readRunReport(args.runDirectory)
      const chosen = args.picks.map((argument) => pickOfArgument(report, argument))
      const problems = chosen.flatMap((choice) => (Either.isLeft(choice) ? [choice.left] : []))
      if (problems.length > 0) return yield* usageError(problems.join("\n"))
      const jobs = chosen.flatMap((choice): ReadonlyArray<JobReport> => (Either.isRight(choice) ? [choice.right] : []))
      const twice = jobs.filter((job, i) => jobs.findIndex((other) => other.shot === job.shot) !== i)
      if (twice.length > 0) {
        return yield* usageError(`one pick per shot: shot "${twice[0]?.shot}" is picked more than once`)
      }
      const picks: Picks = {
        run: report.run.id,
        picks: {
          ...(yield* earlierPicks(files.picks, report.run.id)),
          ...Object.fromEntries(jobs.map((job) => [job.shot, pickOf(job)]))
        }
      }
      const stale = picksProblems(report, picks)
      if (stale.length > 0) return yield* usageError(`${files.picks}: ${stale.join("; ")}`)
      yield* writeFileAtomic(files.picks, picksYaml(picks))
      for (const job of jobs) yield* Console.log(`picked ${job.shot}: ${job.id} (seed ${job.seed})`)
      yield* Console.log(
        `${files.picks}: ${
          Object.keys(picks.picks).length
        } shots picked; write them into the manifest with: shotlist pin ${args.runDirectory}`
      )
    }).pipe(Effect.catchTag("UsageError", reportUsageError))
).pipe(
  Command.withDescription(
    "Record the variant to keep for each shot of a run (RUN_DIR/picks.yaml, added to what is there), checked against its report: an unknown shot or job exits 2 and lists the ones the run has. The contact sheet (report.html) exports the same file. Then `shotlist pin RUN_DIR`."
  )
)
