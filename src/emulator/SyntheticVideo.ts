import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Cache, Data, Effect, Option, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { temporaryPathFor, writeFileAtomic } from "../store/AtomicFile.js"
import { CACHED_FILES, type Clip, keepSuccesses } from "./ClipRenderer.js"

/** Zeros are written this many at a time: the padded file is never whole in memory. */
const CHUNK_BYTES = 1024 * 1024

const LARGE_BOX = 2 ** 32

/**
 * The header of a top-level ISO BMFF `free` box of `size` bytes (header
 * included): 32-bit size, or size 1 and a 64-bit largesize from 4 GiB on.
 */
export const freeBoxHeader = (size: number): Uint8Array => {
  const large = size >= LARGE_BOX
  const header = new Uint8Array(large ? 16 : 8)
  const view = new DataView(header.buffer)
  view.setUint32(0, large ? 1 : size)
  header.set([0x66, 0x72, 0x65, 0x65], 4)
  if (large) view.setBigUint64(8, BigInt(size))
  return header
}

/** The smallest `free` box: a clip cannot be padded by fewer bytes. */
export const MIN_PADDING = 8

/** What is known of a padded file, kept beside it so a later run need not hash it again. */
const PaddedSidecar = Schema.parseJson(Schema.Struct({ bytes: Schema.Number, sha256: Schema.String }))

/** A clip could not be padded: its padded file could not be written. */
export class ClipPadFailed extends Data.TaggedError("ClipPadFailed")<{
  readonly clip: string
  readonly cause: PlatformError
}> {
  override get message() {
    return `could not pad ${this.clip}: ${this.cause.message}`
  }
}

/** The clip's bytes, then one `free` box of `padding` bytes: its header, then zeros in chunks. */
const paddedBytes = (clipBytes: Stream.Stream<Uint8Array, PlatformError>, padding: number) => {
  const header = freeBoxHeader(padding)
  const zeros = new Uint8Array(Math.min(CHUNK_BYTES, padding))
  const zeroChunks = Stream.unfold(
    padding - header.length,
    (left) =>
      left > 0 ? Option.some([zeros.subarray(0, Math.min(left, zeros.length)), left - zeros.length]) : Option.none()
  )
  return clipBytes.pipe(Stream.concat(Stream.make(header)), Stream.concat(zeroChunks))
}

/** A padded file wanted: `clip` grown to `bytes`. */
interface PaddedKey {
  readonly path: string
  readonly clipBytes: number
  readonly sha256: string
  readonly bytes: number
}

/**
 * Large, valid MP4 files for download benchmarks: a real clip followed by a
 * `free` box of zeros up to the wanted size, so it still parses with the
 * clip's tracks and duration. Written once per (clip, size) into `cacheDir`
 * in chunks; concurrent requests for one file write it once.
 */
export const makeClipPadder = (cacheDir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(cacheDir, { recursive: true })

    const cached = (target: string, sidecar: string, bytes: number): Effect.Effect<Option.Option<Clip>> =>
      Effect.gen(function*() {
        const known = Schema.decodeUnknownOption(PaddedSidecar)(yield* fs.readFileString(sidecar))
        const info = yield* fs.stat(target)
        return Option.filter(known, (k) => k.bytes === bytes && Number(info.size) === bytes).pipe(
          Option.map((k) => ({ path: target, bytes, sha256: k.sha256 }))
        )
      }).pipe(Effect.orElseSucceed(() => Option.none<Clip>()))

    /** Streams the padded bytes into `temporary`, hashing them on the way; the sidecar is written, then the file renamed. */
    const writePadded = (wanted: PaddedKey, temporary: string, target: string, sidecar: string) =>
      Effect.gen(function*() {
        const hash = createHash("sha256")
        yield* Effect.scoped(Effect.gen(function*() {
          const file = yield* fs.open(temporary, { flag: "w" })
          yield* Stream.runForEach(
            paddedBytes(fs.stream(wanted.path), wanted.bytes - wanted.clipBytes),
            (chunk) => Effect.zipRight(Effect.sync(() => hash.update(chunk)), file.writeAll(chunk))
          )
        }))
        const sha256 = hash.digest("hex")
        yield* writeFileAtomic(sidecar, JSON.stringify({ bytes: wanted.bytes, sha256 }))
        yield* fs.rename(temporary, target)
        return { path: target, bytes: wanted.bytes, sha256 }
      }).pipe(Effect.tapError(() => Effect.ignore(fs.remove(temporary))))

    const pad = Effect.fn("SyntheticVideo.pad")(function*(wanted: PaddedKey) {
      const name = `${path.basename(wanted.path, ".mp4")}-${wanted.sha256.slice(0, 12)}-padded-${wanted.bytes}.mp4`
      const target = path.join(cacheDir, name)
      const sidecar = `${target}.json`
      const found = yield* cached(target, sidecar, wanted.bytes)
      if (Option.isSome(found)) return found.value
      return yield* writePadded(wanted, temporaryPathFor(path, target), target, sidecar).pipe(
        Effect.mapError((cause) => new ClipPadFailed({ clip: wanted.path, cause }))
      )
    })

    const padded = yield* Cache.makeWith({ capacity: CACHED_FILES, lookup: pad, timeToLive: keepSuccesses })

    /** `clip` padded to `bytes`; a clip already that large (or within a box header of it) is served as it is. */
    return (clip: Clip, bytes: number): Effect.Effect<Clip, ClipPadFailed> =>
      bytes - clip.bytes < MIN_PADDING
        ? Effect.succeed(clip)
        : padded.get(Data.struct({ path: clip.path, clipBytes: clip.bytes, sha256: clip.sha256, bytes }))
  })
