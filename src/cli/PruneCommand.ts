import { Args, Command, Options } from "@effect/cli"
import { Path } from "@effect/platform"
import { Clock, Console, Duration, Effect, Either, Option } from "effect"
import { listRuns, type RunListing } from "../store/RunIndex.js"
import {
  DEFAULT_KEEP,
  type FreedSpace,
  measureRuns,
  type PrunePolicy,
  type PruneVerdict,
  pruneVerdicts,
  removeLeftoversIn,
  removeRun,
  repairLatest
} from "../store/RunPrune.js"
import { type DurationProblem, parseDurationText } from "./DurationText.js"
import { DEFAULT_OUTPUT } from "./OutputFolderLock.js"
import { reportUsageError, usageError } from "./UsageErrors.js"

const DAY_MS = 86_400_000

/** `30d`, `2w`, or any duration `--deadline` takes (`12h`, `90m`): how old a run must be to go. */
export const parseAge = (text: string): Either.Either<Duration.Duration, string> => {
  const days = /^\s*(\d+(?:\.\d+)?)\s*(d|w)\s*$/.exec(text)
  const millis = days === null ? undefined : Number(days[1]) * (days[2] === "w" ? 7 * DAY_MS : DAY_MS)
  const parsed: Either.Either<Duration.Duration, DurationProblem> = millis === undefined
    ? parseDurationText(text)
    : millis > 0
    ? Either.right(Duration.millis(millis))
    : Either.left({ _tag: "NotADuration", text })
  return Either.mapLeft(parsed, (problem) =>
    problem._tag === "NoUnit"
      ? `--older-than ${problem.amount} has no unit: did you mean ${problem.amount}d?`
      : `--older-than takes an age with a unit, like 30d, 2w or 12h (got ${JSON.stringify(text)})`)
}

/** `1234567` -> `1.2 MB`. */
export const formatBytes = (bytes: number): string =>
  bytes < 1e3
    ? `${bytes} B`
    : bytes < 1e6
    ? `${(bytes / 1e3).toFixed(1)} kB`
    : bytes < 1e9
    ? `${(bytes / 1e6).toFixed(1)} MB`
    : `${(bytes / 1e9).toFixed(2)} GB`

const describe = (verdict: PruneVerdict) =>
  `${verdict.run.runDirectory} (${verdict.run.name}, started ${
    verdict.run.startedAt ?? "?"
  }, ${verdict.run.total} jobs)`

const freedText = (space: FreedSpace) =>
  `${space.freed} bytes (${formatBytes(space.freed)})${
    space.shared > 0 ? `; ${formatBytes(space.shared)} more stay, linked by kept runs` : ""
  }`

/** The policy the flags ask for, or what is wrong with them. */
const prunePolicyOf = (
  flags: { readonly keep: Option.Option<number>; readonly olderThan: Option.Option<string> },
  includeResumable: boolean
) =>
  Effect.gen(function*() {
    const keep = Option.getOrUndefined(flags.keep)
    if (keep !== undefined && keep < 0) return yield* usageError(`--keep must be 0 or more (got ${keep})`)
    const olderThan = Option.isNone(flags.olderThan) ? undefined : parseAge(flags.olderThan.value)
    if (olderThan !== undefined && Either.isLeft(olderThan)) return yield* usageError(olderThan.left)
    return {
      keep,
      olderThanMs: olderThan === undefined ? undefined : Duration.toMillis(olderThan.right),
      includeResumable,
      nowMs: yield* Clock.currentTimeMillis
    } satisfies PrunePolicy
  })

/** Removes the doomed runs one by one, saying so; then tidies their folders. The runs removed. */
const removeDoomed = (doomed: ReadonlyArray<PruneVerdict>, listing: RunListing, includeResumable: boolean) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const removed = new Set<string>()
    for (const verdict of doomed) {
      const removal = yield* removeRun(verdict.run.runDirectory, includeResumable)
      if (removal._tag === "Left") {
        yield* Console.log(`kept ${describe(verdict)}: ${removal.reason}`)
        continue
      }
      removed.add(removal.runDirectory)
      yield* Console.log(`removed ${describe(verdict)}`)
    }
    const remaining = listing.runs.filter((run) => !removed.has(run.runDirectory))
    for (const folder of new Set(listing.runs.map((run) => path.dirname(path.resolve(run.runDirectory))))) {
      yield* removeLeftoversIn(folder)
      yield* repairLatest(folder, remaining)
    }
    return removed
  })

export const pruneCommand = Command.make(
  "prune",
  {
    root: Args.directory({ name: "OUTPUT_DIR" }).pipe(
      Args.withDescription(`the output folder whose old runs to remove (default: ${DEFAULT_OUTPUT})`),
      Args.optional
    ),
    keep: Options.integer("keep").pipe(
      Options.withDescription(
        `runs to keep per manifest, the newest (default ${DEFAULT_KEEP}, unless only --older-than is given); with --older-than, a run goes only when it is both beyond them and older`
      ),
      Options.optional
    ),
    olderThan: Options.text("older-than").pipe(
      Options.withDescription(
        "remove runs that started longer ago than this, with a unit: 30d, 2w, 12h (default: none, age not asked)"
      ),
      Options.optional
    ),
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription("list what would be removed and the space it would free; remove nothing (default: off)")
    ),
    includeResumable: Options.boolean("include-resumable").pipe(
      Options.withDescription(
        "also remove runs with unfinished jobs that `shotlist resume` could carry on (default: off, they are kept)"
      )
    )
  },
  (args) =>
    Effect.gen(function*() {
      const root = Option.getOrElse(args.root, () => DEFAULT_OUTPUT)
      const policy = yield* prunePolicyOf(args, args.includeResumable)
      const listing = yield* listRuns(root)
      const verdicts = yield* pruneVerdicts(listing.runs, policy)
      for (const verdict of verdicts) {
        if (verdict._tag === "Spare") yield* Console.log(`kept ${describe(verdict)}: ${verdict.reason}`)
      }
      for (const entry of listing.unreadable) {
        yield* Console.log(`kept ${entry.runDirectory}: its journal cannot be read (${entry.reason})`)
      }
      const doomed = verdicts.filter((verdict) => verdict._tag === "Remove")
      const doomedDirectories = doomed.map((verdict) => verdict.run.runDirectory)
      // Measured before: once a run is removed, what its files' links were is gone.
      const freedBy = yield* measureRuns(doomedDirectories)
      if (args.dryRun) {
        for (const verdict of doomed) yield* Console.log(`would remove ${describe(verdict)}`)
        return yield* Console.log(
          `dry run: would remove ${doomed.length} of ${verdicts.length} runs, freeing ${
            freedText(freedBy(new Set(doomedDirectories)))
          }; nothing was removed`
        )
      }
      const removed = yield* removeDoomed(doomed, listing, args.includeResumable)
      yield* Console.log(
        `removed ${removed.size} of ${verdicts.length} runs, freed ${freedText(freedBy(removed))}; ${
          verdicts.length - removed.size
        } kept`
      )
    }).pipe(Effect.catchTag("UsageError", reportUsageError))
).pipe(
  Command.withDescription(
    `Remove old runs under an output folder (default: ${DEFAULT_OUTPUT}): per manifest, all but the newest ${DEFAULT_KEEP} (--keep N), or those older than --older-than 30d. Never a run going on now, nor one that can be resumed (unless --include-resumable), nor a video a kept run reuses: reused videos are hard links, so a kept run's copy stays whole. --dry-run lists what would go. Prints what was removed and the bytes freed.`
  )
)
