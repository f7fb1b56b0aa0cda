/**
 * The smallest MP4 that `inspectMp4` and `checkVideo` accept: `ftyp`, then a
 * `moov` with a movie header and one video (and optionally one audio) track,
 * then an optional `free` box of zeros to reach a wanted size. Built in
 * memory in microseconds, where a real clip needs ffmpeg.
 */

const TIMESCALE = 1000

const u32 = (value: number): Uint8Array => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value)
  return bytes
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0))

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

const box = (type: string, ...payload: ReadonlyArray<Uint8Array>): Uint8Array => {
  const body = concat(payload)
  return concat([u32(8 + body.length), ascii(type), body])
}

/** mvhd and mdhd (version 0): flags, two times, then timescale and duration; the rest zeros. */
const timedHeader = (type: string, seconds: number, payloadBytes: number): Uint8Array => {
  const payload = new Uint8Array(payloadBytes)
  const view = new DataView(payload.buffer)
  view.setUint32(12, TIMESCALE)
  view.setUint32(16, Math.round(seconds * TIMESCALE))
  return box(type, payload)
}

/** tkhd (version 0) closes with width and height in 16.16 fixed point. */
const trackHeader = (width: number, height: number): Uint8Array => {
  const payload = new Uint8Array(84)
  const view = new DataView(payload.buffer)
  view.setUint32(76, width * 65536)
  view.setUint32(80, height * 65536)
  return box("tkhd", payload)
}

const handler = (type: "vide" | "soun"): Uint8Array => box("hdlr", new Uint8Array(8), ascii(type), new Uint8Array(13))

const track = (type: "vide" | "soun", seconds: number): Uint8Array =>
  box(
    "trak",
    trackHeader(type === "vide" ? 864 : 0, type === "vide" ? 496 : 0),
    box("mdia", timedHeader("mdhd", seconds, 24), handler(type))
  )

export interface TinyMp4Options {
  readonly durationSeconds: number
  readonly audio: boolean
  /** the whole file's size, reached with a `free` box; at least the bare file's size plus 8 */
  readonly bytes?: number
}

export const tinyMp4 = (options: TinyMp4Options): Uint8Array => {
  const bare = concat([
    box("ftyp", ascii("isom"), u32(0x200), ascii("isomiso2avc1mp41")),
    box(
      "moov",
      timedHeader("mvhd", options.durationSeconds, 100),
      track("vide", options.durationSeconds),
      ...(options.audio ? [track("soun", options.durationSeconds)] : [])
    )
  ])
  if (options.bytes === undefined) return bare
  return concat([bare, box("free", new Uint8Array(options.bytes - bare.length - 8))])
}
