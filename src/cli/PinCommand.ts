import { Args, Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { Console, Effect, Option } from "effect"
import type { JobReport } from "../domain/JobReport.js"
import { expandJobs } from "../manifest/JobExpansion.js"
import { loadManifest } from "../manifest/ManifestLoader.js"
import { pinManifest, type ShotPin } from "../manifest/ManifestPin.js"
import { picksProblems, readPicksYaml } from "../report/Picks.js"
import type { Report } from "../report/Report.js"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { sha256Hex } from "../store/FileDigest.js"
import { readRunReport } from "./PickCommand.js"
import { reportUsageError, UsageError, usageError } from "./UsageErrors.js"

/** Frame URLs of local frames are the upload's, which a new run gets anew: they do not tell renders apart. */
const comparableParams = ({ first_frame_url: _first, last_frame_url: _last, ...params }: JobReport["params"]) => params

/** Which of a pinned shot's settings no longer match the picked render (the manifest changed since the run). */
const drift = (report: Report, pins: ReadonlyArray<ShotPin>, manifestFile: string) =>
  Effect.gen(function*() {
    const jobs = yield* expandJobs(yield* loadManifest(manifestFile))
    return pins.flatMap((pin) => {
      const picked = report.jobs.find((job) => job.id === pin.job)
      const now = jobs.find((job) => job.shot === pin.shot)
      if (picked === undefined || now === undefined) return []
      const was = comparableParams(picked.params)
      const is = comparableParams(now.params)
      const changed = Object.keys({ ...was, ...is }).filter((key) =>
        JSON.stringify(was[key as keyof typeof was]) !== JSON.stringify(is[key as keyof typeof is])
      )
      return changed.length === 0 ? [] : [`${pin.shot} (${changed.join(", ")} changed since the run)`]
    })
  })

/** The shots a picks file pins, each checked against the run's report. */
const pinsOf = Effect.fn("PinCommand.pinsOf")(function*(report: Report, picksFile: string, runDirectory: string) {
  const fs = yield* FileSystem.FileSystem
  if (!(yield* fs.exists(picksFile))) {
    return yield* usageError(
      `${picksFile} does not exist: pick first, with \`shotlist pick ${runDirectory} SHOT=JOB…\` or the contact sheet's export (report.html)`
    )
  }
  const picks = yield* readPicksYaml(picksFile, yield* fs.readFileString(picksFile))
  const problems = picksProblems(report, picks)
  if (problems.length > 0) return yield* usageError(`${picksFile}: ${problems.join("\n")}`)
  const pins = Object.entries(picks.picks).map(([shot, pick]): ShotPin => ({
    shot,
    job: pick.job,
    seed: pick.seed,
    values: pick.sweep ?? {}
  }))
  if (pins.length === 0) return yield* usageError(`${picksFile} picks no shot: nothing to pin`)
  return pins
})

/** Writes the pins into the run's manifest, keeping it as it was in `.bak`; what no longer matches its pick. */
const pinRunManifest = Effect.fn("PinCommand.pinRunManifest")(
  function*(report: Report, pins: ReadonlyArray<ShotPin>, manifestCopy: string) {
    const fs = yield* FileSystem.FileSystem
    const manifestFile = report.run.manifest.path
    if (!(yield* fs.exists(manifestFile))) {
      return yield* usageError(
        `the run's manifest ${manifestFile} is gone; the run keeps a copy at ${manifestCopy}: put it back there to pin`
      )
    }
    const original = yield* fs.readFileString(manifestFile)
    if (sha256Hex(original) !== report.run.manifest.sha256) {
      yield* Console.error(`note: ${manifestFile} changed since run ${report.run.id}; pinning its shots by id`)
    }
    const pinned = yield* pinManifest(manifestFile, original, pins, report.run.id)
    yield* writeFileAtomic(`${manifestFile}.bak`, original)
    yield* writeFileAtomic(manifestFile, pinned)
    // A pinned manifest that no longer loads goes back as it was.
    const putBack = (error: { readonly message: string }) =>
      Effect.zipRight(writeFileAtomic(manifestFile, original), usageError(error.message))
    const changed = yield* drift(report, pins, manifestFile).pipe(
      Effect.catchTags({ ManifestInvalid: putBack, ManifestUnreadable: putBack })
    )
    return { manifestFile, changed }
  }
)

export const pinCommand = Command.make(
  "pin",
  {
    runDirectory: Args.directory({ name: "RUN_DIR", exists: "yes" }).pipe(
      Args.withDescription("the run whose picks to keep (it holds report.json, and picks.yaml by default)")
    ),
    picks: Options.file("picks", { exists: "yes" }).pipe(
      Options.withDescription(
        "the picks file (default: RUN_DIR/picks.yaml, as `shotlist pick` or the contact sheet's export writes it)"
      ),
      Options.optional
    )
  },
  (args) =>
    Effect.gen(function*() {
      const { files, report } = yield* readRunReport(args.runDirectory)
      const pins = yield* pinsOf(report, Option.getOrElse(args.picks, () => files.picks), args.runDirectory)
      const { changed, manifestFile } = yield* pinRunManifest(report, pins, files.manifest)
      for (const pin of pins) yield* Console.log(`pinned ${pin.shot}: ${pin.job} (seed ${pin.seed})`)
      yield* Console.log(`${manifestFile}: ${pins.length} shots pinned (the file as it was: ${manifestFile}.bak)`)
      yield* Console.log(
        changed.length > 0
          ? `these render anew next time, their picked videos no longer match: ${changed.join(", ")}`
          : `the next \`shotlist run ${manifestFile}\` reuses the picked videos at no cost`
      )
    }).pipe(
      Effect.catchTags({
        PicksInvalid: (error) => reportUsageError(new UsageError({ message: error.message })),
        PinRefused: (error) => reportUsageError(new UsageError({ message: error.message })),
        UsageError: reportUsageError
      })
    )
).pipe(
  Command.withDescription(
    "Write a run's picks into the manifest it rendered (its report names it; the file as it was is kept as .bak): each picked shot gets the seed and swept values of its pick, its sweep or takes folded into a comment above it, the rest of the file untouched. The next run of the manifest then reuses the picked videos and pays nothing."
  )
)
