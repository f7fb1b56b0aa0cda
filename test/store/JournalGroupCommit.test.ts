import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { Journal } from "../../src/store/Journal.js"

/** What the slowed disk saw: fsyncs made, and the text each finished fsync made durable. */
interface DiskLog {
  syncs: number
  written: string
  durable: string
}

/** The node file system, whose files' fsync takes `syncMs` and makes durable only what was written before it began. */
const slowSyncDisk = (log: DiskLog, syncMs: number) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs): FileSystem.FileSystem => ({
      ...fs,
      open: (path, options) =>
        Effect.map(fs.open(path, options), (file) => {
          const slowed = Object.create(file) as FileSystem.File
          // `sync` is a getter on node's file: defined over, not assigned.
          return Object.defineProperties(slowed, {
            writeAll: {
              value: (bytes: Uint8Array) =>
                Effect.tap(file.writeAll(bytes), () => void (log.written += new TextDecoder().decode(bytes)))
            },
            sync: {
              get: () =>
                Effect.suspend(() => {
                  const before = log.written
                  log.syncs += 1
                  return file.sync.pipe(
                    Effect.zipRight(Effect.sleep(syncMs)),
                    Effect.tap(() => void (log.durable = before))
                  )
                })
            }
          })
        })
    }))
  ).pipe(Layer.provide(NodeContext.layer))

const jobIdsIn = (text: string) => text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line).jobId)

describe("Journal group commit", () => {
  it.scopedLive("20 appends at once take fewer than 20 fsyncs, and each returns only once its own line is durable", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const file = `${yield* fs.makeTempDirectoryScoped()}/journal.jsonl`
      const log: DiskLog = { syncs: 0, written: "", durable: "" }
      const journal = yield* Journal.open(file).pipe(Effect.provide(slowSyncDisk(log, 30)))
      const ids = Array.from({ length: 20 }, (_, i) => `job-${i}`)
      // Each append, as it returns, notes whether its line was in what the last finished fsync covered.
      const durableOnReturn = yield* Effect.forEach(
        ids,
        (jobId) =>
          journal.append({ _tag: "submitting", jobId, attempt: 1 }).pipe(
            Effect.map(() => jobIdsIn(log.durable).includes(jobId))
          ),
        { concurrency: "unbounded" }
      )
      expect(durableOnReturn).toEqual(ids.map(() => true))
      expect(log.syncs).toBeGreaterThan(0)
      expect(log.syncs).toBeLessThan(ids.length)
      expect(jobIdsIn(yield* fs.readFileString(file)).sort()).toEqual([...ids].sort())
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("an append interrupted while its line waits behind a running fsync writes nothing; later appends carry on", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const file = `${yield* fs.makeTempDirectoryScoped()}/journal.jsonl`
      const log: DiskLog = { syncs: 0, written: "", durable: "" }
      const journal = yield* Journal.open(file).pipe(Effect.provide(slowSyncDisk(log, 200)))
      const first = yield* Effect.fork(journal.append({ _tag: "submitting", jobId: "a", attempt: 1 }))
      // "a" is in its fsync; "b" queues behind it and is interrupted there.
      yield* Effect.sleep("50 millis")
      const second = yield* Effect.fork(journal.append({ _tag: "submitting", jobId: "b", attempt: 1 }))
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(second)
      yield* Fiber.join(first)
      yield* Effect.sleep("50 millis")
      expect(jobIdsIn(yield* fs.readFileString(file))).toEqual(["a"])
      yield* journal.append({ _tag: "submitting", jobId: "c", attempt: 1 })
      expect(jobIdsIn(yield* fs.readFileString(file))).toEqual(["a", "c"])
      expect(jobIdsIn(log.durable)).toEqual(["a", "c"])
    }).pipe(Effect.provide(NodeContext.layer)))
})
