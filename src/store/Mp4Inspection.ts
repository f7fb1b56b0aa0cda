import { FileSystem } from "@effect/platform"
import { Data, Effect, Either, Option } from "effect"

/** A file that is not a readable MP4 (truncated, an HTML error page, …). */
export class Mp4Invalid extends Data.TaggedError("Mp4Invalid")<{
  readonly path: string
  readonly reason: string
}> {}

export interface Mp4Info {
  readonly durationSeconds: number
  readonly video: Option.Option<{ readonly width: number; readonly height: number; readonly durationSeconds: number }>
  readonly audio: Option.Option<{ readonly durationSeconds: number }>
  readonly tracks: number
}

interface Box {
  readonly type: string
  /** where the box's payload starts and ends, in the buffer or file it was read from */
  readonly start: number
  readonly end: number
}

/** Bytes enough to tell an MP4 from anything else: its first box header. */
export const MP4_SIGNATURE_BYTES = 8

/** An MP4 (ISO BMFF) opens with an `ftyp` box; an error page or a JSON body does not. */
export const startsLikeMp4 = (head: Uint8Array): boolean =>
  head.length >= MP4_SIGNATURE_BYTES && String.fromCharCode(...head.subarray(4, 8)) === "ftyp"

/** The moov box of a video is kilobytes; anything this large is not one. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024

const boxesIn = (data: Uint8Array, from: number, to: number): Either.Either<ReadonlyArray<Box>, string> => {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const boxes: Array<Box> = []
  let offset = from
  while (offset + 8 <= to) {
    let size = view.getUint32(offset)
    const type = String.fromCharCode(...data.subarray(offset + 4, offset + 8))
    let header = 8
    if (size === 1) {
      if (offset + 16 > to) return Either.left(`box ${type} is cut off`)
      size = Number(view.getBigUint64(offset + 8))
      header = 16
    } else if (size === 0) {
      size = to - offset
    }
    if (size < header || offset + size > to) {
      return Either.left(`box ${type} claims ${size} bytes, ${to - offset} remain`)
    }
    boxes.push({ type, start: offset + header, end: offset + size })
    offset += size
  }
  return Either.right(boxes)
}

const child = (data: Uint8Array, box: Box, type: string): Option.Option<Box> =>
  Either.match(boxesIn(data, box.start, box.end), {
    onLeft: () => Option.none(),
    onRight: (boxes) => Option.fromNullable(boxes.find((b) => b.type === type))
  })

/** mvhd and mdhd share a layout: version, flags, times, then timescale and duration. */
const timedHeader = (data: Uint8Array, box: Box): Option.Option<number> => {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (box.end - box.start < 24) return Option.none()
  const version = data[box.start]
  const [timescale, duration] = version === 1
    ? [view.getUint32(box.start + 20), Number(view.getBigUint64(box.start + 24))]
    : [view.getUint32(box.start + 12), view.getUint32(box.start + 16)]
  return timescale > 0 ? Option.some(duration / timescale) : Option.none()
}

/** Width and height close the tkhd box, as 16.16 fixed point numbers. */
const trackSize = (data: Uint8Array, box: Box): Option.Option<{ width: number; height: number }> => {
  if (box.end - box.start < 84) return Option.none()
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return Option.some({ width: view.getUint32(box.end - 8) / 65536, height: view.getUint32(box.end - 4) / 65536 })
}

const handlerType = (data: Uint8Array, box: Box): string =>
  box.end - box.start >= 12 ? String.fromCharCode(...data.subarray(box.start + 8, box.start + 12)) : ""

const describeMoov = (moov: Uint8Array): Either.Either<Mp4Info, string> =>
  Either.gen(function*() {
    const root: Box = { type: "moov", start: 0, end: moov.length }
    const boxes = yield* boxesIn(moov, 0, moov.length)
    let video: Mp4Info["video"] = Option.none()
    let audio: Mp4Info["audio"] = Option.none()
    let tracks = 0
    let longest = 0
    for (const trak of boxes.filter((b) => b.type === "trak")) {
      tracks++
      const mdia = child(moov, trak, "mdia")
      const handler = Option.flatMap(mdia, (m) => child(moov, m, "hdlr")).pipe(Option.map((h) => handlerType(moov, h)))
      const duration = Option.flatMap(mdia, (m) => child(moov, m, "mdhd")).pipe(
        Option.flatMap((h) => timedHeader(moov, h)),
        Option.getOrElse(() => 0)
      )
      longest = Math.max(longest, duration)
      if (Option.contains(handler, "vide") && Option.isNone(video)) {
        const size = Option.flatMap(child(moov, trak, "tkhd"), (t) => trackSize(moov, t))
        video = Option.some({
          width: Option.match(size, { onNone: () => 0, onSome: (s) => s.width }),
          height: Option.match(size, { onNone: () => 0, onSome: (s) => s.height }),
          durationSeconds: duration
        })
      }
      if (Option.contains(handler, "soun") && Option.isNone(audio)) audio = Option.some({ durationSeconds: duration })
    }
    const movie = child(moov, root, "mvhd").pipe(Option.flatMap((h) => timedHeader(moov, h)))
    return { durationSeconds: Option.getOrElse(movie, () => longest), video, audio, tracks }
  })

/**
 * Reads an MP4's structure without loading the file: top-level box headers
 * are read at their offsets (the media data is skipped), only `moov` whole.
 */
export const inspectMp4 = (path: string): Effect.Effect<Mp4Info, Mp4Invalid, FileSystem.FileSystem> =>
  Effect.scoped(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const invalid = (reason: string) => new Mp4Invalid({ path, reason })
      const file = yield* fs.open(path, { flag: "r" }).pipe(Effect.mapError((e) => invalid(e.message)))
      const size = Number((yield* file.stat.pipe(Effect.mapError((e) => invalid(e.message)))).size)
      const readAt = (offset: number, length: number) =>
        Effect.gen(function*() {
          yield* file.seek(offset, "start")
          const bytes = yield* file.readAlloc(length).pipe(Effect.mapError((e) => invalid(e.message)))
          return Option.getOrElse(bytes, () => new Uint8Array(0))
        })

      let offset = 0
      let sawFtyp = false
      let moov: Option.Option<Uint8Array> = Option.none()
      while (offset + 8 <= size) {
        const header = yield* readAt(offset, 16)
        if (header.length < 8) return yield* Effect.fail(invalid(`cut off at byte ${offset}`))
        const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
        const type = String.fromCharCode(...header.subarray(4, 8))
        let boxSize = view.getUint32(0)
        let headerSize = 8
        if (boxSize === 1) {
          if (header.length < 16) return yield* Effect.fail(invalid(`box ${type} is cut off`))
          boxSize = Number(view.getBigUint64(8))
          headerSize = 16
        } else if (boxSize === 0) {
          boxSize = size - offset
        }
        if (offset === 0 && type !== "ftyp") return yield* Effect.fail(invalid("no ftyp box at the start: not an MP4"))
        if (boxSize < headerSize || offset + boxSize > size) {
          return yield* Effect.fail(
            invalid(`box ${type} at byte ${offset} claims ${boxSize} bytes, ${size - offset} remain (truncated)`)
          )
        }
        if (type === "ftyp") sawFtyp = true
        if (type === "moov") {
          if (boxSize > MAX_MOOV_BYTES) {
            return yield* Effect.fail(invalid(`moov box of ${boxSize} bytes is implausible`))
          }
          moov = Option.some(yield* readAt(offset + headerSize, boxSize - headerSize))
        }
        offset += boxSize
      }
      if (offset !== size) return yield* Effect.fail(invalid(`${size - offset} stray bytes at the end (truncated)`))
      if (!sawFtyp) return yield* Effect.fail(invalid("no ftyp box: not an MP4"))
      if (Option.isNone(moov)) return yield* Effect.fail(invalid("no moov box: the file is incomplete"))
      return yield* Either.match(describeMoov(moov.value), {
        onLeft: (reason) => Effect.fail(invalid(reason)),
        onRight: Effect.succeed
      })
    })
  )

export interface VideoExpectation {
  readonly durationSeconds: number
  readonly audio: boolean
  /** seconds the video may differ from the request */
  readonly tolerance?: number
}

export class Mp4Mismatch extends Data.TaggedError("Mp4Mismatch")<{ readonly reason: string }> {}

/**
 * Does the file hold what was asked for: a video track of the duration, and
 * audio when requested (a silent track when not requested is tolerated).
 */
export const checkVideo = (info: Mp4Info, expect: VideoExpectation): Either.Either<Mp4Info, Mp4Mismatch> => {
  const tolerance = expect.tolerance ?? 0.5
  if (Option.isNone(info.video)) return Either.left(new Mp4Mismatch({ reason: "the file has no video track" }))
  const lasts = info.video.value.durationSeconds > 0 ? info.video.value.durationSeconds : info.durationSeconds
  if (Math.abs(lasts - expect.durationSeconds) > tolerance) {
    return Either.left(
      new Mp4Mismatch({ reason: `video lasts ${lasts.toFixed(2)} s, ${expect.durationSeconds} s were requested` })
    )
  }
  if (expect.audio && Option.isNone(info.audio)) {
    return Either.left(new Mp4Mismatch({ reason: "no audio track, generate_audio was true" }))
  }
  return Either.right(info)
}
