import { FileSystem } from "@effect/platform"
import { Data, Effect, ParseResult, Schema } from "effect"
import { parse } from "yaml"
import { SweepValue } from "../domain/Job.js"

/** One shot's chosen take; seed and sweep restate what the job is, for a reader of the file. */
export const Pick = Schema.Struct({
  job: Schema.String,
  seed: Schema.optional(Schema.Int),
  sweep: Schema.optional(Schema.Record({ key: Schema.String, value: SweepValue }))
})
export type Pick = typeof Pick.Type

/** `RUN_DIR/picks.yaml`: the take picked for each shot, by job id. */
export const PicksFile = Schema.Struct({
  /** the run the picks were made on */
  run: Schema.optional(Schema.String),
  picks: Schema.Record({ key: Schema.String, value: Pick })
})
export type PicksFile = typeof PicksFile.Type

/** A picks file that cannot be read or does not hold picks. */
export class PicksInvalid extends Data.TaggedError("PicksInvalid")<{
  readonly file: string
  readonly reason: string
}> {
  override get message() {
    return `${this.file} is not a picks file: ${this.reason}`
  }
}

const decodePicks = Schema.decodeUnknown(PicksFile, { errors: "all" })

/** Reads and checks a picks file (YAML, so JSON too). */
export const readPicksFile = Effect.fn("PicksFile.read")(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const invalid = (reason: string) => new PicksInvalid({ file, reason })
  const text = yield* fs.readFileString(file).pipe(Effect.mapError((error) => invalid(error.message)))
  const document = yield* Effect.try({
    try: (): unknown => parse(text),
    catch: (error) => invalid(error instanceof Error ? error.message : String(error))
  })
  return yield* decodePicks(document).pipe(
    Effect.mapError((error) => invalid(ParseResult.TreeFormatter.formatErrorSync(error)))
  )
})
