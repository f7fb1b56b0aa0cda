import { imageSize } from "image-size"

// What the model takes as a first or last frame: segmind-v2-api.md, "Local images" (read 2026-11-26):
// "jpeg/png/webp, sides 300–6000 px, aspect 0.4–2.5, under 30 MB".
export const FRAME_FORMATS = ["jpeg", "png", "webp"] as const
export const FRAME_SIDE_MIN = 300
export const FRAME_SIDE_MAX = 6000
/** width / height, inclusive */
export const FRAME_ASPECT_MIN = 0.4
export const FRAME_ASPECT_MAX = 2.5
/** a frame must be smaller than this */
export const FRAME_MAX_BYTES = 30 * 1024 * 1024

/** Enough leading bytes to read the pixel size of any accepted format (what image-size reads of a file). */
export const FRAME_HEADER_BYTES = 512 * 1024

export type FrameFormat = typeof FRAME_FORMATS[number]

/** What a frame's header says: its format (`jpeg`, `png`, `webp`, or another image format) and pixel size. */
export interface FrameImage {
  readonly format: string
  readonly width: number
  readonly height: number
}

const FORMAT_NAMES: Record<FrameFormat, string> = { jpeg: "JPEG", png: "PNG", webp: "WebP" }
const ALLOWED_FORMATS = "JPEG, PNG or WebP"

const isFrameFormat = (format: string): format is FrameFormat => format in FORMAT_NAMES

/** The image a file's leading bytes describe, whatever its name says; undefined when they are no image. */
export const frameImageOf = (header: Uint8Array): FrameImage | undefined => {
  try {
    const { height, type, width } = imageSize(header)
    return type === undefined ? undefined : { format: type === "jpg" ? "jpeg" : type, width, height }
  } catch {
    return undefined
  }
}

/** The MIME type an accepted format is sent as. */
export const frameMimeType = (format: FrameFormat): string => `image/${format}`

const withinAspect = (aspect: number) => aspect >= FRAME_ASPECT_MIN && aspect <= FRAME_ASPECT_MAX

/** Three significant digits, more when rounding would carry an aspect across a limit. */
const aspectText = (aspect: number): string => {
  for (let digits = 3; digits < 7; digits++) {
    const text = aspect.toPrecision(digits)
    if (withinAspect(Number(text)) === withinAspect(aspect)) return text
  }
  return String(aspect)
}

/**
 * Why a frame of `bytes` bytes whose header reads as `image` cannot be sent,
 * as a phrase that follows its name ("is 3000×300 (aspect 10.0): aspect must
 * be between 0.4 and 2.5"); undefined when it is within every limit.
 */
export const frameProblem = (image: FrameImage | undefined, bytes: number): string | undefined => {
  if (bytes >= FRAME_MAX_BYTES) return `is ${bytes} bytes: a frame must be under 30 MB (${FRAME_MAX_BYTES} bytes)`
  if (image === undefined) return `is not an image: its bytes are not ${ALLOWED_FORMATS}`
  if (!isFrameFormat(image.format)) {
    return `is a ${image.format.toUpperCase()} image: a frame must be ${ALLOWED_FORMATS}`
  }
  const { height, width } = image
  const aspect = width / height
  const rules = [
    ...([width, height].every((side) => side >= FRAME_SIDE_MIN && side <= FRAME_SIDE_MAX)
      ? []
      : [`each side must be from ${FRAME_SIDE_MIN} to ${FRAME_SIDE_MAX} px`]),
    ...(withinAspect(aspect) ? [] : [`aspect must be between ${FRAME_ASPECT_MIN} and ${FRAME_ASPECT_MAX}`])
  ]
  return rules.length === 0 ? undefined : `is ${width}×${height} (aspect ${aspectText(aspect)}): ${rules.join("; ")}`
}
