import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Deferred, Effect, Option, Ref, Schema, Stream } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { type Clip, ClipRenderFailed } from "./ClipRenderer.js"

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
    const inFlight = yield* Ref.make(new Map<string, Deferred.Deferred<Clip, ClipRenderFailed>>())
    yield* fs.makeDirectory(cacheDir, { recursive: true })

    const cached = (target: string, sidecar: string, bytes: number): Effect.Effect<Option.Option<Clip>> =>
      Effect.gen(function*() {
        const known = Schema.decodeUnknownOption(PaddedSidecar)(yield* fs.readFileString(sidecar))
        const info = yield* fs.stat(target)
        return Option.filter(known, (k) => k.bytes === bytes && Number(info.size) === bytes).pipe(
          Option.map((k) => ({ path: target, bytes, sha256: k.sha256 }))
        )
      }).pipe(Effect.orElseSucceed(() => Option.none<Clip>()))

    const writePadded = (
      clip: Clip,
      bytes: number,
      target: string,
      sidecar: string
    ): Effect.Effect<Clip, PlatformError> => {
      const temporary = `${target}.${randomBytes(4).toString("hex")}.tmp`
      const writeFile = Effect.scoped(
        Effect.gen(function*() {
          const file = yield* fs.open(temporary, { flag: "w" })
          const hash = createHash("sha256")
          const write = (chunk: Uint8Array) =>
            Effect.zipRight(Effect.sync(() => hash.update(chunk)), file.writeAll(chunk))
          yield* Stream.runForEach(fs.stream(clip.path), write)
          const padding = bytes - clip.bytes
          const header = freeBoxHeader(padding)
          yield* write(header)
          const zeros = new Uint8Array(Math.min(CHUNK_BYTES, padding))
          for (let left = padding - header.length; left > 0; left -= zeros.length) {
            yield* write(left >= zeros.length ? zeros : zeros.subarray(0, left))
          }
          return hash.digest("hex")
        })
      )
      return Effect.gen(function*() {
        const sha256 = yield* writeFile
        yield* fs.writeFileString(sidecar, JSON.stringify({ bytes, sha256 }))
        yield* fs.rename(temporary, target)
        return { path: target, bytes, sha256 }
      }).pipe(Effect.tapError(() => fs.remove(temporary).pipe(Effect.ignore)))
    }

    /** `clip` padded to `bytes`; a clip already that large (or within a box header of it) is served as it is. */
    return (clip: Clip, bytes: number): Effect.Effect<Clip, ClipRenderFailed> =>
      Effect.gen(function*() {
        if (bytes - clip.bytes < MIN_PADDING) return clip
        const name = `${path.basename(clip.path, ".mp4")}-${clip.sha256.slice(0, 12)}-padded-${bytes}.mp4`
        const target = path.join(cacheDir, name)
        const sidecar = `${target}.json`
        const fresh = yield* Deferred.make<Clip, ClipRenderFailed>()
        const existing = yield* Ref.modify(inFlight, (map) => {
          const found = map.get(name)
          return found === undefined ? [undefined, new Map(map).set(name, fresh)] : [found, map]
        })
        if (existing !== undefined) return yield* Deferred.await(existing)
        const exit = yield* Effect.exit(
          Effect.flatMap(cached(target, sidecar, bytes), (found) =>
            Option.match(found, {
              onSome: Effect.succeed,
              onNone: () => writePadded(clip, bytes, target, sidecar)
            })).pipe(Effect.mapError((error) =>
              new ClipRenderFailed({ message: `could not pad ${clip.path}: ${error.message}` })
            ))
        )
        yield* Deferred.done(fresh, exit)
        return yield* exit
      })
  })
