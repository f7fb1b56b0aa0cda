import { Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Effect, Option } from "effect"
import { readPicksFile } from "../assembly/PicksFile.js"
import type { Job } from "../domain/Job.js"
import type { Manifest } from "../manifest/Manifest.js"
import type { ChainPicks } from "../manifest/ShotLinks.js"
import { LATEST_LINK, latestRunIn } from "../store/LatestLink.js"
import { runFiles } from "../store/RunDirectory.js"
import { displayPath } from "./DisplayPath.js"
import { DEFAULT_OUTPUT } from "./OutputFolderLock.js"
import { type UsageError, usageError } from "./UsageErrors.js"

// Which variant a `first_frame: {from: SHOT}` follows when SHOT renders several: the pick, read from a picks file.

/** `--picks FILE` (run, plan): the picks the chains of the manifest follow. */
export const picksFlag = Options.file("picks", { exists: "yes" }).pipe(
  Options.withDescription(
    "the picks file (picks.yaml, from `shotlist pick` or the contact sheet's export) saying which variant a `first_frame: {from: SHOT}` follows when SHOT renders several (default: the picks.yaml of the manifest's latest run, output/<name>/latest/ or the latest beside --out, else the one last written among the runs there)"
  ),
  Options.optional
)

/** `--picks FILE` of `resume`: only for the jobs a crash kept from being planned; planned links keep the job they follow. */
export const resumePicksFlag = Options.file("picks", { exists: "yes" }).pipe(
  Options.withDescription(
    "the picks file for the `first_frame: {from: SHOT}` links of jobs the run had not planned when it stopped (default: RUN_DIR/picks.yaml); a planned job keeps following the variant it was planned with"
  ),
  Options.optional
)

/** Where a command finds its picks, once the manifest is known: asked only when a link opens on a shot of several videos. */
export type PicksSource = (
  manifest: Manifest
) => Effect.Effect<ChainPicks | undefined, UsageError, FileSystem.FileSystem | Path.Path>

/** The picks of a picks file; one that cannot be read or is not a picks file is a usage error. */
const readChainPicks = (file: string) =>
  readPicksFile(file).pipe(
    Effect.map((picks): ChainPicks => ({
      file,
      jobs: new Map(Object.entries(picks.picks).map(([shot, pick]) => [shot, pick.job]))
    })),
    Effect.catchAll((error) => usageError(`${error.message}; fix it, or name another with --picks FILE`))
  )

/** A run's own `picks.yaml`, when it has one. */
const picksOfRun = (runDirectory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = runFiles(path, runDirectory).picks
    const present = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
    return present ? yield* readChainPicks(file) : undefined
  })

/** The `picks.yaml` written last among the runs in `folder`: a run after the picked one has none of its own. */
const newestPicksIn = (folder: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const names = yield* fs.readDirectory(folder).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    const written = yield* Effect.forEach(
      names.filter((name) => !name.startsWith(".") && name !== LATEST_LINK),
      (name) => {
        const file = runFiles(path, path.join(folder, name)).picks
        return fs.stat(file).pipe(
          Effect.map((info) => [{ file, at: Option.getOrElse(info.mtime, () => new Date(0)).getTime() }]),
          Effect.orElseSucceed(() => [])
        )
      }
    )
    return written.flat().reduce<{ file: string; at: number } | undefined>(
      (newest, entry) => newest === undefined || entry.at > newest.at ? entry : newest,
      undefined
    )?.file
  })

/**
 * `run` and `plan`: `--picks FILE`, else the picks of the manifest's latest
 * run (`output/<name>/latest`, or the `latest` beside `--out`), else the
 * `picks.yaml` last written among the runs there.
 */
export const picksForRun = (flag: Option.Option<string>, out: Option.Option<string>): PicksSource => (manifest) =>
  Option.match(flag, {
    onSome: readChainPicks,
    onNone: () =>
      Effect.gen(function*() {
        const path = yield* Path.Path
        const folder = Option.match(out, {
          onNone: () => path.join(DEFAULT_OUTPUT, manifest.name),
          onSome: (directory) => path.dirname(path.resolve(directory))
        })
        const latest = yield* latestRunIn(folder)
        const own = Option.isNone(latest) ? undefined : yield* picksOfRun(latest.value)
        if (own !== undefined) return own
        const newest = yield* newestPicksIn(folder)
        return newest === undefined ? undefined : yield* readChainPicks(newest)
      })
  })

/**
 * `resume`, planning again the jobs a crash kept from being planned: the
 * links its planned jobs already follow win (nothing may change under them),
 * then `--picks FILE`, then the run's own `picks.yaml`.
 */
export const picksForResume = (
  runDirectory: string,
  planned: ReadonlyArray<Job>,
  flag: Option.Option<string>
): PicksSource =>
() =>
  Effect.gen(function*() {
    const given = Option.isSome(flag) ? yield* readChainPicks(flag.value) : yield* picksOfRun(runDirectory)
    const followed = planned.flatMap((job) =>
      job.firstFrameFrom === undefined ? [] : [[job.firstFrameFrom.shot, job.firstFrameFrom.job] as const]
    )
    if (followed.length === 0) return given
    return {
      file: given === undefined ? `the journal of ${runDirectory}` : given.file,
      jobs: new Map([...(given?.jobs ?? []), ...followed])
    }
  })

/** One line per follower shot: the job whose last frame it opens on, and the file that picked it. */
export const followedLines = (jobs: ReadonlyArray<Job>, picks: ChainPicks | undefined): ReadonlyArray<string> => {
  const lines = new Map<string, string>()
  for (const job of jobs) {
    const from = job.firstFrameFrom
    if (from === undefined || lines.has(job.shot)) continue
    const picked = picks !== undefined && picks.jobs.get(from.shot) === from.job
      ? ` (picked in ${displayPath(picks.file)})`
      : ""
    lines.set(job.shot, `${job.shot} opens on the last frame of ${from.job}${picked}`)
  }
  return [...lines.values()]
}
