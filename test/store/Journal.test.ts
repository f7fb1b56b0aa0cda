import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { writeFileAtomic } from "../../src/store/AtomicFile.js"
import { Journal, JournalEvent } from "../../src/store/Journal.js"
import { readJournal } from "../../src/store/JournalReader.js"

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

  it.scoped("a journal a crash left without its last newline, whole or torn, stays readable with every event after two reopens that append", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const line = (jobId: string) =>
        JSON.stringify({ _tag: "submitting", at: new Date(0).toISOString(), jobId, attempt: 1 })
      const appendTwice = (file: string) =>
        Effect.forEach(["x", "y"], (jobId) =>
          Effect.scoped(
            Effect.flatMap(Journal.open(file), (journal) => journal.append({ _tag: "submitting", jobId, attempt: 1 }))
          ), { discard: true })
      const jobIds = (file: string) =>
        Effect.map(readJournal(file), ({ events, tornLine }) => ({
          tornLine,
          jobIds: events.map((event) => (event._tag === "submitting" ? event.jobId : event._tag))
        }))

      // The crash came after a whole line's bytes, before its newline: the event is kept.
      yield* fs.writeFileString(`${dir}/unterminated.jsonl`, `${line("a")}\n${line("b")}`)
      yield* appendTwice(`${dir}/unterminated.jsonl`)
      expect(yield* jobIds(`${dir}/unterminated.jsonl`)).toEqual({ tornLine: false, jobIds: ["a", "b", "x", "y"] })

      // The crash came mid-line: the torn line recorded nothing acted on and is cut off.
      yield* fs.writeFileString(`${dir}/torn.jsonl`, `${line("a")}\n{"_tag":"submitted","jobId":"b","requ`)
      yield* appendTwice(`${dir}/torn.jsonl`)
      expect(yield* jobIds(`${dir}/torn.jsonl`)).toEqual({ tornLine: false, jobIds: ["a", "x", "y"] })
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
