import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { writeFileAtomic } from "../../src/store/AtomicFile.js"
import { Journal, JournalEvent } from "../../src/store/Journal.js"

const decodeLine = Schema.decodeUnknownSync(Schema.parseJson(JournalEvent))

describe("Journal", () => {
  it.scoped("appends one schema-encoded event per line, concurrent writers never interleave", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = `${dir}/journal.jsonl`
      const journal = yield* Journal.open(file)
      yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        (i) => journal.append({ _tag: "status", jobId: `job-${i}`, requestId: `r-${i}`, status: "PROCESSING" }),
        { concurrency: 10, discard: true }
      )
      const lines = (yield* fs.readFileString(file)).trimEnd().split("\n")
      expect(lines).toHaveLength(50)
      const events = lines.map((line) => decodeLine(line))
      expect(new Set(events.map((e) => (e._tag === "status" ? e.jobId : ""))).size).toBe(50)
      for (const event of events) expect(Number.isNaN(Date.parse(event.at))).toBe(false)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("reopening a journal appends after what is there", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = `${dir}/journal.jsonl`
      yield* Effect.scoped(
        Effect.flatMap(Journal.open(file), (j) => j.append({ _tag: "submitting", jobId: "a", attempt: 1 }))
      )
      yield* Effect.scoped(
        Effect.flatMap(Journal.open(file), (j) => j.append({ _tag: "submitting", jobId: "b", attempt: 1 }))
      )
      const tags = (yield* fs.readFileString(file)).trimEnd().split("\n").map((l) => decodeLine(l))
      expect(tags.map((e) => (e._tag === "submitting" ? e.jobId : ""))).toEqual(["a", "b"])
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("writeFileAtomic", () => {
  it.scoped("replaces a file whole and leaves no temporary file behind", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = `${dir}/report.json`
      yield* writeFileAtomic(file, "first")
      yield* writeFileAtomic(file, "second, longer content")
      expect(yield* fs.readFileString(file)).toBe("second, longer content")
      expect(yield* fs.readDirectory(dir)).toEqual(["report.json"])
    }).pipe(Effect.provide(NodeContext.layer)))
})
