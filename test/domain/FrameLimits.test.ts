import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { adaptiveAspect, adaptivePixelSize } from "../../src/domain/AdaptiveAspect.js"
import { frameImageOf, frameProblem } from "../../src/domain/FrameLimits.js"

const FRAMES = "test/fixtures/frames"
const header = (name: string) => new Uint8Array(readFileSync(`${FRAMES}/${name}`))

describe("frame limits (segmind-v2-api.md, Local images)", () => {
  it.each([
    ["red-640x360.png", { format: "png", width: 640, height: 360 }],
    ["blue-480x640.jpg", { format: "jpeg", width: 480, height: 640 }],
    ["green-600x600.webp", { format: "webp", width: 600, height: 600 }],
    ["gif-named.png", { format: "gif", width: 400, height: 400 }]
  ])("%s is read from its header bytes, whatever its name says", (name, image) => {
    expect(frameImageOf(header(name))).toEqual(image)
  })

  it("text is not an image, even named .png", () => {
    expect(frameImageOf(header("text-named.png"))).toBeUndefined()
    expect(frameImageOf(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined()
  })

  it.each([
    [{ format: "png", width: 640, height: 360 }, 1636, undefined],
    [{ format: "png", width: 300, height: 750 }, 1, undefined],
    [{ format: "jpeg", width: 6000, height: 2400 }, 1, undefined],
    [
      { format: "png", width: 3000, height: 300 },
      1,
      "is 3000×300 (aspect 10.0): aspect must be between 0.4 and 2.5"
    ],
    [
      { format: "png", width: 100, height: 100 },
      1,
      "is 100×100 (aspect 1.00): each side must be from 300 to 6000 px"
    ],
    [
      { format: "png", width: 100, height: 1000 },
      1,
      "is 100×1000 (aspect 0.100): each side must be from 300 to 6000 px; aspect must be between 0.4 and 2.5"
    ],
    [
      { format: "png", width: 6001, height: 3000 },
      1,
      "is 6001×3000 (aspect 2.00): each side must be from 300 to 6000 px"
    ],
    // Rounded to 3 digits it would read 2.50 and look allowed: more digits then.
    [
      { format: "png", width: 2501, height: 1000 },
      1,
      "is 2501×1000 (aspect 2.501): aspect must be between 0.4 and 2.5"
    ],
    [{ format: "gif", width: 400, height: 400 }, 1, "is a GIF image: a frame must be JPEG, PNG or WebP"],
    [undefined, 31, "is not an image: its bytes are not JPEG, PNG or WebP"],
    [
      { format: "png", width: 640, height: 360 },
      30 * 1024 * 1024,
      "is 31457280 bytes: a frame must be under 30 MB (31457280 bytes)"
    ]
  ])("%o of %i bytes: %s", (image, bytes, problem) => {
    expect(frameProblem(image, bytes)).toBe(problem)
  })
})

describe("adaptive aspect: the output follows the first frame", () => {
  it.each(
    [
      [1920, 1080, "16:9"],
      [640, 360, "16:9"],
      [3000, 1200, "16:9"],
      [1024, 768, "4:3"],
      [1400, 1000, "4:3"],
      [600, 600, "1:1"],
      [1100, 1000, "1:1"],
      [480, 640, "3:4"],
      [720, 1280, "9:16"],
      [300, 750, "9:16"]
    ] as const
  )("a %i×%i first frame gives %s", (width, height, aspect) => {
    expect(adaptiveAspect({ width, height })).toBe(aspect)
  })

  it("picks the ratio nearest on a log scale, so a ratio and its inverse land symmetrically", () => {
    // 1.5 lies between 4:3 (1.333) and 16:9 (1.778); in log terms it is nearer 4:3.
    expect(adaptiveAspect({ width: 1500, height: 1000 })).toBe("4:3")
    expect(adaptiveAspect({ width: 1000, height: 1500 })).toBe("3:4")
  })

  it("gives the pixel size of that aspect at the asked resolution", () => {
    expect(adaptivePixelSize("480p", { width: 480, height: 640 })).toEqual([560, 752])
    expect(adaptivePixelSize("1080p", { width: 640, height: 360 })).toEqual([1920, 1080])
  })
})
