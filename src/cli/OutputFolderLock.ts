import { Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Clock, Duration, Effect, Option, Schedule } from "effect"
import { pointLatestAt } from "../store/LatestLink.js"
import { acquireRunLock, inspectRunLock, type RunLocked } from "../store/RunLock.js"
import { timeStamp } from "./TimeStamp.js"
import { usageError } from "./UsageErrors.js"

/** Where `run` puts its run directories when not told: `output/<manifest name>/<time>/`. */
export const DEFAULT_OUTPUT = "output"

/** How often a `run --wait` looks whether the run it waits for has ended. */
const WAIT_POLL = Duration.seconds(2)
/** How long a refused run looks for the run directory of the one it names (that one may be just creating it). */
const FIND_HOLDER_TRIES = 50
const FIND_HOLDER_SPACING = Duration.millis(100)

export const waitFlag = Options.boolean("wait").pipe(
  Options.withDescription(
    "when another run of the same manifest is rendering into output/<name>/ (a slow night overlapping the next cron start), wait for it to end, checking every 2 s, and then reuse what it rendered; by default such a run is refused with exit 2"
  )
)

/** The run directory under `folder` whose own lock `locked`'s holder holds, found once that holder created it. */
const runDirectoryOf = (folder: string, locked: RunLocked) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const candidates = yield* fs.readDirectory(folder).pipe(
      Effect.map((names) => names.filter((name) => !name.startsWith(".")).map((name) => path.join(folder, name))),
      Effect.orElseSucceed((): ReadonlyArray<string> => [])
    )
    const held = yield* Effect.findFirst(candidates, (directory) =>
      inspectRunLock(directory).pipe(
        Effect.map((lock) => lock._tag === "Held" && lock.pid === locked.pid && lock.host === locked.host),
        Effect.orElseSucceed(() => false)
      ))
    return yield* Option.match(held, { onNone: () => Effect.fail("not yet" as const), onSome: Effect.succeed })
  }).pipe(
    Effect.retry(Schedule.intersect(Schedule.spaced(FIND_HOLDER_SPACING), Schedule.recurs(FIND_HOLDER_TRIES))),
    Effect.option
  )

const describeHolder = (folder: string, locked: RunLocked) =>
  Effect.map(
    runDirectoryOf(folder, locked),
    (directory) =>
      `${
        Option.match(directory, { onNone: () => `another run (still starting)`, onSome: (dir) => `the run ${dir}` })
      } (pid ${locked.pid} on ${locked.host}, since ${locked.since})`
  )

/**
 * Holds `output/<name>/.lock` for the scope, so two runs of one manifest never
 * render into its folder at once and pay twice for the same jobs: the second
 * waits (`--wait`) and then reuses what the first rendered, or is refused.
 */
const lockManifestFolder = Effect.fn("OutputFolderLock.lockManifestFolder")(
  function*(folder: string, name: string, wait: boolean) {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(folder, { recursive: true })
    const attempt = acquireRunLock(folder).pipe(
      Effect.as(Option.none<RunLocked>()),
      Effect.catchTag("RunLocked", (locked) => Effect.succeed(Option.some(locked)))
    )
    for (let waiting = false;;) {
      const locked = yield* attempt
      if (Option.isNone(locked)) return
      if (!wait) {
        return yield* usageError(
          `${yield* describeHolder(
            folder,
            locked.value
          )} is rendering ${name} into ${folder}; a second run now would pay for the same jobs. Add --wait to start when it ends and reuse its videos, or stop it first (if no shotlist runs there any more, remove ${locked.value.lockFile})`
        )
      }
      if (!waiting) {
        yield* Effect.logInfo(
          `waiting for ${yield* describeHolder(folder, locked.value)} to end (checking every ${
            Duration.format(WAIT_POLL)
          }; Ctrl-C stops waiting)`
        )
        waiting = true
      }
      yield* Effect.sleep(WAIT_POLL)
    }
  }
)

/** `output/<name>/<time>`, or `<time>-2`, … when a run started in the same second already took it. */
const freshRunDirectory = (folder: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const stamp = timeStamp(new Date(yield* Clock.currentTimeMillis))
    for (let n = 1;; n++) {
      const candidate = path.join(folder, n === 1 ? stamp : `${stamp}-${n}`)
      if (!(yield* fs.exists(candidate))) return candidate
    }
  })

/**
 * The run directory of `run`: `--out` as given, else a new one under
 * `output/<name>/`, chosen while holding that folder's lock for the scope.
 */
export const chooseRunDirectory = Effect.fn("OutputFolderLock.chooseRunDirectory")(
  function*(out: Option.Option<string>, name: string, wait: boolean) {
    if (Option.isSome(out)) {
      if (wait) {
        return yield* usageError(
          "--wait is for runs into the default output/<name>/ folder; a run directory given with --out is locked on its own, and a second run there is refused"
        )
      }
      return out.value
    }
    const path = yield* Path.Path
    const folder = path.join(DEFAULT_OUTPUT, name)
    yield* lockManifestFolder(folder, name, wait)
    return yield* freshRunDirectory(folder)
  }
)

/** Points `output/<name>/latest` at a run that started in the default location; a failure to do so only warns. */
export const markLatestRun = (out: Option.Option<string>, runDirectory: string) =>
  Option.isSome(out) ? Effect.void : pointLatestAt(runDirectory).pipe(
    Effect.catchAll((error) => Effect.logWarning(`could not point latest at ${runDirectory}: ${error.message}`))
  )
