import { type AspectRatio, PIXEL_SIZES, type Resolution } from "./SeedanceParams.js"

/** An aspect ratio with a pixel size: every one but `adaptive`. */
export type SizedAspect = Exclude<AspectRatio, "adaptive">

const SIZED_ASPECTS: ReadonlyArray<readonly [SizedAspect, number]> = [
  ["16:9", 16 / 9],
  ["4:3", 4 / 3],
  ["1:1", 1],
  ["3:4", 3 / 4],
  ["9:16", 9 / 16]
]

/**
 * The aspect an `adaptive` job gets from its first frame: the API's ratio
 * nearest the frame's (on a log scale, so 2:1 and 1:2 land symmetrically).
 */
export const adaptiveAspect = (firstFrame: { readonly width: number; readonly height: number }): SizedAspect => {
  const distance = (ratio: number) => Math.abs(Math.log(firstFrame.width / firstFrame.height / ratio))
  return SIZED_ASPECTS.reduce((best, candidate) => distance(candidate[1]) < distance(best[1]) ? candidate : best)[0]
}

/** The output pixel size of an `adaptive` job at `resolution`, from its first frame's size. */
export const adaptivePixelSize = (
  resolution: Resolution,
  firstFrame: { readonly width: number; readonly height: number }
): readonly [number, number] => PIXEL_SIZES[resolution][adaptiveAspect(firstFrame)]
