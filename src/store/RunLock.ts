import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Data, Effect, Either, Schema, type Scope } from "effect"
import { hostname } from "node:os"
import { runFiles } from "./RunDirectory.js"

/** Another live process works in the run directory. */
export class RunLocked extends Data.TaggedError("RunLocked")<{
  readonly runDirectory: string
  readonly pid: number
  readonly host: string
  readonly since: string
}> {
  override get message() {
    return `${this.runDirectory} is in use by shotlist (pid ${this.pid} on ${this.host}, since ${this.since}); wait for it to end or stop it first`
  }
}

const LockHolder = Schema.Struct({ pid: Schema.Int, host: Schema.String, since: Schema.String })
type LockHolder = typeof LockHolder.Type
const decodeHolder = Schema.decodeUnknownEither(Schema.parseJson(LockHolder))

/** Whether a process of this machine is alive (signal 0 only checks). */
const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Holds `RUN_DIR/.lock` for the scope: created exclusively, so two processes
 * never work in one run directory. A lock left by a dead process of this host
 * (a crash, a kill -9) is taken over; an unreadable one too.
 */
export const acquireRunLock = (
  runDirectory: string
): Effect.Effect<void, RunLocked | PlatformError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = runFiles(path, runDirectory).lock
    const holder: LockHolder = {
      pid: process.pid,
      host: hostname(),
      since: new Date(yield* Clock.currentTimeMillis).toISOString()
    }

    const create = Effect.scoped(
      Effect.gen(function*() {
        const handle = yield* fs.open(file, { flag: "wx" })
        yield* handle.writeAll(new TextEncoder().encode(JSON.stringify(holder) + "\n"))
        yield* handle.sync
      })
    )

    for (let attempt = 0;; attempt++) {
      const created = yield* Effect.either(create)
      if (Either.isRight(created)) break
      const error = created.left
      if (error._tag !== "SystemError" || error.reason !== "AlreadyExists" || attempt > 2) return yield* error
      const existing = yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))
      const other = decodeHolder(existing)
      if (Either.isRight(other) && (other.right.host !== holder.host || processAlive(other.right.pid))) {
        return yield* new RunLocked({ runDirectory, ...other.right })
      }
      // Stale (its process is gone) or half-written: take it over.
      yield* Effect.logWarning(
        Either.isRight(other)
          ? `taking over the lock of ${runDirectory} left by pid ${other.right.pid}, which is no longer running`
          : `taking over the unreadable lock of ${runDirectory}`
      )
      yield* fs.remove(file).pipe(
        Effect.catchTag("SystemError", (e) => (e.reason === "NotFound" ? Effect.void : Effect.fail(e)))
      )
    }

    yield* Effect.addFinalizer(() => fs.remove(file).pipe(Effect.ignore))
  })
