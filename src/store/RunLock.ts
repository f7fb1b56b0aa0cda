import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Data, Duration, Effect, Either, Option, Schema, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { temporaryPathFor } from "./AtomicFile.js"
import { sha256Hex } from "./FileDigest.js"
import { currentBootId, processAlive, processStartTime } from "./ProcessIdentity.js"
import { runFiles } from "./RunDirectory.js"

/** Another live process works in the run directory. */
export class RunLocked extends Data.TaggedError("RunLocked")<{
  readonly runDirectory: string
  readonly lockFile: string
  readonly pid: number
  readonly host: string
  readonly since: string
}> {
  override get message() {
    return `${this.runDirectory} is in use by shotlist (pid ${this.pid} on ${this.host}, since ${this.since}); wait for it to end or stop it first (if no shotlist runs there any more, remove ${this.lockFile})`
  }
}

/** What `.lock` says of its holder: enough to tell a live holder from a dead one whose pid was reused. */
const LockHolder = Schema.Struct({
  pid: Schema.Int,
  host: Schema.String,
  since: Schema.String,
  /** the holder's boot of its host (Linux) */
  bootId: Schema.optional(Schema.String),
  /** when the holder's process started, in clock ticks since boot (Linux) */
  startTime: Schema.optional(Schema.String),
  /** unique per acquisition, so no two holders' lock files read the same */
  token: Schema.optional(Schema.String)
})
type LockHolder = typeof LockHolder.Type
const decodeHolder = Schema.decodeUnknownEither(Schema.parseJson(LockHolder))
const encodeHolder = Schema.encodeSync(Schema.parseJson(LockHolder))

/** `.lock`, a takeover claim on it, or the temporary file either is written in first. */
export const isRunLockFile = (name: string): boolean =>
  name === ".lock" || name.startsWith(".lock.") || name.startsWith("..lock.")

/**
 * A holder is dead if it ran on this host and its boot is over, its pid is
 * gone, or its pid now belongs to a process started at another time.
 */
const holderAlive = (holder: LockHolder, here: LockHolder) =>
  Effect.gen(function*() {
    if (holder.host !== here.host) return true
    if (holder.bootId !== undefined && here.bootId !== undefined && holder.bootId !== here.bootId) return false
    if (!processAlive(holder.pid)) return false
    if (holder.startTime === undefined) return true
    const started = yield* processStartTime(holder.pid)
    return started === undefined || started === holder.startTime
  })

const readIfExists = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.map(Option.some),
    Effect.catchTag("SystemError", (e) => (e.reason === "NotFound" ? Effect.succeedNone : Effect.fail(e)))
  )

/** Who holds a lock, read without taking it: `alive` false for a holder that is gone (a crash, a kill -9). */
export type LockInspection =
  | { readonly _tag: "Free" }
  | {
    readonly _tag: "Held"
    readonly pid: number
    readonly host: string
    readonly since: string
    readonly alive: boolean
  }
  /** a lock file that does not decode: the next run takes it over */
  | { readonly _tag: "Unreadable" }

/** Reads `DIRECTORY/.lock` and judges its holder as `acquireRunLock` would; writes nothing. */
export const inspectRunLock = (
  directory: string
): Effect.Effect<LockInspection, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const text = yield* readIfExists(runFiles(path, directory).lock)
    if (Option.isNone(text)) return { _tag: "Free" }
    const holder = decodeHolder(text.value)
    if (Either.isLeft(holder)) return { _tag: "Unreadable" }
    const here: LockHolder = { pid: process.pid, host: hostname(), since: "", bootId: yield* currentBootId }
    const { host, pid, since } = holder.right
    return { _tag: "Held", pid, host, since, alive: yield* holderAlive(holder.right, here) }
  })

/**
 * Creates `file` holding `text` unless it exists. Written aside and then hard
 * linked: `link` never replaces, and no reader ever sees the file half written.
 */
const createExclusive = (file: string, text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const temporary = temporaryPathFor(path, file)
    yield* Effect.scoped(
      Effect.gen(function*() {
        const handle = yield* fs.open(temporary, { flag: "wx" })
        yield* handle.writeAll(new TextEncoder().encode(text))
        yield* handle.sync
      })
    )
    return yield* fs.link(temporary, file).pipe(
      Effect.as(true),
      Effect.catchTag("SystemError", (e) => (e.reason === "AlreadyExists" ? Effect.succeed(false) : Effect.fail(e))),
      Effect.ensuring(fs.remove(temporary).pipe(Effect.ignore))
    )
  })

type Takeover =
  | { readonly _tag: "Won" }
  /** the file no longer holds what was judged stale: judge it again */
  | { readonly _tag: "Changed" }
  /** a live process is taking it over right now */
  | { readonly _tag: "Busy"; readonly claimer: LockHolder }

/**
 * Replaces `file`, judged stale while it held `staleText`, with `mine`; atomic
 * among any number of processes. The one that creates the claim
 * `<file>.takeover-<hash of staleText>` alone may replace that content: it
 * checks the file still holds it and renames its claim over it. A claim left
 * by a taker that died is itself taken over the same way.
 */
const takeOver = (file: string, staleText: string, mine: string, here: LockHolder): Effect.Effect<
  Takeover,
  PlatformError,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const claim = `${file}.takeover-${sha256Hex(staleText).slice(0, 16)}`
    if (!(yield* createExclusive(claim, mine))) {
      const claimText = yield* readIfExists(claim)
      if (Option.isNone(claimText)) return { _tag: "Changed" }
      const claimer = decodeHolder(claimText.value)
      if (Either.isRight(claimer) && (yield* holderAlive(claimer.right, here))) {
        return { _tag: "Busy", claimer: claimer.right }
      }
      const claimed = yield* takeOver(claim, claimText.value, mine, here)
      if (claimed._tag !== "Won") return claimed
    }
    const current = yield* readIfExists(file)
    if (Option.isSome(current) && current.value === staleText) {
      yield* fs.rename(claim, file)
      return { _tag: "Won" }
    }
    yield* fs.remove(claim)
    return { _tag: "Changed" }
  })

/** How long a process waits for another that is taking a stale lock over right now. */
const BUSY_WAIT = Duration.millis(10)
const BUSY_TRIES = 200

/**
 * Holds `RUN_DIR/.lock` for the scope, so two processes never work in one run
 * directory. A lock left by a dead process of this host (a crash, a kill -9),
 * or an unreadable one, is taken over; among processes that try at once,
 * exactly one wins and the others are `RunLocked`.
 */
export const acquireRunLock = (
  runDirectory: string
): Effect.Effect<void, RunLocked | PlatformError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const lockFile = runFiles(path, runDirectory).lock
    const here: LockHolder = {
      pid: process.pid,
      host: hostname(),
      since: new Date(yield* Clock.currentTimeMillis).toISOString(),
      bootId: yield* currentBootId,
      startTime: yield* processStartTime(process.pid),
      token: randomBytes(8).toString("hex")
    }
    const mine = encodeHolder(here) + "\n"
    const locked = (holder: LockHolder) => new RunLocked({ runDirectory, lockFile, ...holder })

    for (let busy = 0;;) {
      if (yield* createExclusive(lockFile, mine)) break
      const existing = yield* readIfExists(lockFile)
      if (Option.isNone(existing)) continue
      const other = decodeHolder(existing.value)
      if (Either.isRight(other) && (yield* holderAlive(other.right, here))) return yield* locked(other.right)
      const takeover = yield* takeOver(lockFile, existing.value, mine, here)
      if (takeover._tag === "Won") {
        yield* Effect.logWarning(
          Either.isRight(other)
            ? `took over the lock of ${runDirectory} left by pid ${other.right.pid}, which is no longer running`
            : `took over the unreadable lock of ${runDirectory}`
        )
        break
      }
      if (takeover._tag === "Busy") {
        if (++busy > BUSY_TRIES) return yield* locked(takeover.claimer)
        yield* Effect.sleep(BUSY_WAIT)
      }
    }

    // Only a lock that is still this one's is removed.
    yield* Effect.addFinalizer(() =>
      readIfExists(lockFile).pipe(
        Effect.flatMap((text) => Option.contains(text, mine) ? fs.remove(lockFile) : Effect.void),
        Effect.ignore
      )
    )
  })
