import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Cause, Clock, Context, Deferred, Effect, Either, Exit, Layer, Option, Ref, Schema, type Scope } from "effect"
import { Job } from "../domain/Job.js"
import {
  ErrorRecord,
  FrameRecord,
  JobReport,
  ManifestRef,
  ReplayOf,
  Resubmitted,
  ReusedFrom,
  VideoOutput
} from "../domain/JobReport.js"
import { SeedanceParams } from "../domain/SeedanceParams.js"
import { Metrics } from "../segmind/WireSchemas.js"
import { namingFile } from "./DiskErrors.js"

const At = { at: Schema.String }

/**
 * One line of `journal.jsonl`. Each is fsynced before the step it records is
 * acted on, so a crashed run can be rebuilt from it.
 */
export const JournalEvent = Schema.Union(
  /** the first line: what a resume needs to carry the run on where it stopped */
  Schema.TaggedStruct("run", {
    ...At,
    runId: Schema.String,
    manifest: ManifestRef,
    /** the manifest's `name` */
    name: Schema.optional(Schema.String),
    model: Schema.String,
    baseUrl: Schema.String,
    /** rendered on the embedded emulator, which does not outlive the process */
    emulator: Schema.Boolean,
    concurrency: Schema.Int,
    rpm: Schema.Number,
    replayOf: Schema.optional(ReplayOf),
    /** the `--only` patterns that narrowed the manifest's jobs */
    only: Schema.optional(Schema.Array(Schema.String)),
    /** how many `planned` lines follow: fewer means a crash cut the planning short */
    jobCount: Schema.optional(Schema.Int)
  }),
  /** a `resume` took the run up again */
  Schema.TaggedStruct("resumed", { ...At, pid: Schema.Int }),
  Schema.TaggedStruct("planned", { ...At, job: Job }),
  /** written just before a submit is sent: a crash after it leaves the job "uncertain", not "new" */
  Schema.TaggedStruct("submitting", {
    ...At,
    jobId: Schema.String,
    attempt: Schema.Int,
    /** set when a resume sends the job again, and why: kept until a request id comes back */
    resubmitted: Schema.optional(Resubmitted)
  }),
  Schema.TaggedStruct("submitted", {
    ...At,
    jobId: Schema.String,
    requestId: Schema.String,
    statusUrl: Schema.String,
    responseUrl: Schema.String,
    /** the exact body sent (local frames' upload URLs filled in) */
    params: SeedanceParams,
    frames: Schema.optional(Schema.Array(FrameRecord)),
    /** set when a resume sent this job again, and why */
    resubmitted: Schema.optional(Resubmitted)
  }),
  Schema.TaggedStruct("status", { ...At, jobId: Schema.String, requestId: Schema.String, status: Schema.String }),
  /** the finished request's video, written before it is downloaded: the file outlives the request (days, not an hour) */
  Schema.TaggedStruct("result", {
    ...At,
    jobId: Schema.String,
    requestId: Schema.String,
    videoUrl: Schema.String,
    metrics: Metrics
  }),
  Schema.TaggedStruct("downloaded", {
    ...At,
    jobId: Schema.String,
    /** absent for a video reused from an earlier run */
    requestId: Schema.optional(Schema.String),
    /** path (relative to the run directory), bytes, sha256 and what the MP4 holds */
    output: VideoOutput,
    /** canonical hash of model + exact body, the key of `--reuse` */
    paramsKey: Schema.String,
    reusedFrom: Schema.optional(ReusedFrom)
  }),
  /** a call failed transiently and is tried again after `waitMs` */
  Schema.TaggedStruct("retry", {
    ...At,
    jobId: Schema.String,
    requestId: Schema.optional(Schema.String),
    call: Schema.Literal("submit", "status", "result", "download", "upload"),
    /** the try that failed, 1 for the first */
    attempt: Schema.Int,
    error: ErrorRecord,
    waitMs: Schema.Number
  }),
  Schema.TaggedStruct("failed", {
    ...At,
    jobId: Schema.String,
    requestId: Schema.optional(Schema.String),
    error: ErrorRecord
  }),
  /** the job's report entry as it ended (completed, failed or skipped) */
  Schema.TaggedStruct("finished", { ...At, jobId: Schema.String, report: JobReport })
)
export type JournalEvent = typeof JournalEvent.Type

/** What a caller writes: the time stamp is added by the journal. */
export type JournalEntry = JournalEvent extends infer E ? (E extends { readonly at: string } ? Omit<E, "at"> : never)
  : never

const encodeEvent = Schema.encodeSync(Schema.parseJson(JournalEvent))
const decodeEvent = Schema.decodeUnknownEither(Schema.parseJson(JournalEvent))

const NEWLINE = 0x0a

/**
 * A crash mid-write can leave the last line without its newline; the next
 * line would be glued onto it. A whole event gets its newline; a torn line,
 * which recorded nothing acted on, is cut off (as the reader ignores it).
 */
const endWithWholeLine = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file).pipe(
      Effect.catchTag(
        "SystemError",
        (e) => (e.reason === "NotFound" ? Effect.succeed(new Uint8Array()) : Effect.fail(e))
      )
    )
    if (bytes.length === 0 || bytes[bytes.length - 1] === NEWLINE) return
    const lastLineStart = bytes.lastIndexOf(NEWLINE) + 1
    if (Either.isRight(decodeEvent(new TextDecoder().decode(bytes.subarray(lastLineStart))))) {
      yield* fs.writeFile(file, new Uint8Array([NEWLINE]), { flag: "a" })
    } else {
      yield* fs.truncate(file, BigInt(lastLineStart))
    }
  })

/** A line waiting for the writer, and the caller waiting for it to be on disk. */
interface QueuedLine {
  readonly line: string
  readonly durable: Deferred.Deferred<void, PlatformError>
}

/**
 * The run's append-only, fsynced event log. Lines appended while an fsync
 * runs go down together under the next write and fsync (a group commit);
 * each append still returns only once its own line is on disk.
 */
export class Journal extends Context.Tag("shotlist/Journal")<
  Journal,
  {
    readonly append: (entry: JournalEntry) => Effect.Effect<void, PlatformError>
  }
>() {
  static readonly open = (
    file: string
  ): Effect.Effect<Context.Tag.Service<Journal>, PlatformError, FileSystem.FileSystem | Scope.Scope> =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      yield* endWithWholeLine(file)
      const handle = yield* fs.open(file, { flag: "a" })
      const encoder = new TextEncoder()
      // In append order; the writer takes them all at once, so lines never interleave. Closed with the run's scope.
      const queue = yield* Ref.make<{ readonly lines: ReadonlyArray<QueuedLine>; readonly closed: boolean }>({
        lines: [],
        closed: false
      })
      const linesQueued = yield* Effect.makeLatch(false)
      // A failed write (a full disk) may leave a torn line: nothing may follow it, or the journal would be corrupt.
      const failed = yield* Ref.make(Option.none<PlatformError>())

      const writeBatch = (batch: ReadonlyArray<QueuedLine>) =>
        handle.writeAll(encoder.encode(batch.map((queuedLine) => queuedLine.line).join(""))).pipe(
          Effect.zipRight(handle.sync),
          Effect.mapError(namingFile(file)),
          Effect.exit,
          Effect.tap((written) =>
            Exit.isFailure(written) ? Ref.set(failed, Cause.failureOption(written.cause)) : Effect.void
          ),
          Effect.flatMap((written) =>
            Effect.forEach(batch, (queuedLine) => Deferred.done(queuedLine.durable, written), { discard: true })
          )
        )

      // Every line queued so far, in one write and one fsync; once taken, a batch is written whole and its callers told.
      const writeQueued = Effect.gen(function*() {
        yield* linesQueued.close
        const batch = yield* Ref.modify(queue, (state) => [state.lines, { ...state, lines: [] }])
        // Empty when the lines that woke the writer were taken back (their callers interrupted).
        if (batch.length === 0) return
        const earlier = yield* Ref.get(failed)
        if (Option.isNone(earlier)) return yield* writeBatch(batch)
        yield* Effect.forEach(batch, (queuedLine) => Deferred.fail(queuedLine.durable, earlier.value), {
          discard: true
        })
      }).pipe(Effect.uninterruptible)
      // Lines left when the scope closes had no run to record: their callers end (a defect), never wait forever.
      yield* Effect.addFinalizer(() =>
        Ref.modify(queue, (state) => [state.lines, { lines: [], closed: true }]).pipe(
          Effect.flatMap((left) =>
            Effect.forEach(left, (queuedLine) => Deferred.die(queuedLine.durable, new Error(`${file} was closed`)), {
              discard: true
            })
          )
        )
      )
      yield* Effect.forkScoped(Effect.forever(Effect.zipRight(linesQueued.await, writeQueued)))

      const append = (entry: JournalEntry) =>
        Effect.gen(function*() {
          const earlier = yield* Ref.get(failed)
          if (Option.isSome(earlier)) return yield* Effect.fail(earlier.value)
          const at = new Date(yield* Clock.currentTimeMillis).toISOString()
          const queuedLine: QueuedLine = {
            line: encodeEvent({ ...entry, at } as JournalEvent) + "\n",
            durable: yield* Deferred.make<void, PlatformError>()
          }
          const closed = yield* Ref.modify(queue, (state) =>
            state.closed ? [true, state] : [false, { ...state, lines: [...state.lines, queuedLine] }])
          if (closed) {
            return yield* Effect.dieMessage(`${file} was closed`)
          }
          yield* linesQueued.open
          // Interrupted while still queued, the line is taken back unwritten, as one waiting for its turn always was.
          yield* Deferred.await(queuedLine.durable).pipe(
            Effect.onInterrupt(() =>
              Ref.update(queue, (state) => ({
                ...state,
                lines: state.lines.filter((line) =>
                  line !== queuedLine
                )
              }))
            )
          )
        })
      return { append }
    })

  static readonly layer = (file: string) => Layer.scoped(Journal, Journal.open(file))
}
