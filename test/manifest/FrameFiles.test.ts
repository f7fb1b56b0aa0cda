import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { statSync } from "node:fs"
import { resolve } from "node:path"
import { formatIssue } from "../../src/manifest/ManifestErrors.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const FRAMES = resolve("test/fixtures/frames")

/** A manifest beside a `frames/` folder holding every fixture frame. */
const manifestWith = (text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-frames-" })
    yield* fs.copy(FRAMES, `${dir}/frames`)
    yield* fs.writeFileString(`${dir}/m.yaml`, text)
    return { dir, file: `${dir}/m.yaml` }
  })

const oneShot = (frame: string) =>
  `version: 1
shots:
  - id: opening
    prompt: The scene comes to life.
    first_frame: ${frame}
`

/** The manifest's issues, as the CLI prints them minus the file. */
const issuesOf = (text: string) =>
  Effect.gen(function*() {
    const { file } = yield* manifestWith(text)
    const error = yield* Effect.flip(loadManifest(file))
    if (error._tag !== "ManifestInvalid") return [error.message]
    return error.issues.map((issue) => formatIssue(issue).slice(file.length + 1))
  })

describe("local frames are checked by their bytes before anything is sent", () => {
  it.scoped.each(
    [
      ["frames/text-named.png", "frames/text-named.png is not an image: its bytes are not JPEG, PNG or WebP"],
      ["frames/gif-named.png", "frames/gif-named.png is a GIF image: a frame must be JPEG, PNG or WebP"],
      [
        "frames/tiny-100x100.png",
        "frames/tiny-100x100.png is 100×100 (aspect 1.00): each side must be from 300 to 6000 px"
      ],
      [
        "frames/strip-3000x300.png",
        "frames/strip-3000x300.png is 3000×300 (aspect 10.0): aspect must be between 0.4 and 2.5"
      ],
      ["frames", "frames is a directory, not an image file"]
    ] as const
  )(
    "first_frame: %s is refused at its node, naming the shot, what was found and what is allowed",
    ([frame, message]) =>
      Effect.gen(function*() {
        // A directory is named like a frame, so the schema's name rule lets it through to the disk check.
        const written = frame === "frames" ? "frames.png" : frame
        const text = oneShot(written)
        const { dir, file } = yield* manifestWith(text)
        if (frame === "frames") {
          yield* FileSystem.FileSystem.pipe(Effect.flatMap((fs) => fs.makeDirectory(`${dir}/frames.png`)))
        }
        const error = yield* Effect.flip(loadManifest(file))
        expect(error._tag).toBe("ManifestInvalid")
        const issues = error._tag === "ManifestInvalid" ? error.issues : []
        expect(issues.map((issue) => formatIssue(issue).slice(file.length + 1))).toEqual([
          `5:18: shot "opening": shots[0].first_frame: ${message.replace(/^frames /, "frames.png ")}`
        ])
      }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a FIFO named like a frame is refused without being opened", () =>
    Effect.gen(function*() {
      const { dir, file } = yield* manifestWith(oneShot("frames/pipe.png"))
      execFileSync("mkfifo", [`${dir}/frames/pipe.png`])
      const error = yield* Effect.flip(loadManifest(file))
      expect(error._tag === "ManifestInvalid" ? error.issues.map((i) => i.message) : []).toEqual([
        "frames/pipe.png is a FIFO, not a regular file"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a frame of 30 MB or more is refused by its size, and only its header is read", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const { dir, file } = yield* manifestWith(oneShot("frames/huge.png"))
      // A valid PNG header, then a sparse hole: 40 MB on paper, nothing on disk.
      yield* fs.copyFile(`${FRAMES}/red-640x360.png`, `${dir}/frames/huge.png`)
      yield* fs.truncate(`${dir}/frames/huge.png`, 40 * 1024 * 1024)
      const error = yield* Effect.flip(loadManifest(file))
      expect(error._tag === "ManifestInvalid" ? error.issues.map((i) => i.message) : []).toEqual([
        "frames/huge.png is 41943040 bytes: a frame must be under 30 MB (31457280 bytes)"
      ])
      expect(statSync(`${dir}/frames/huge.png`).blocks * 512).toBeLessThan(1024 * 1024)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a bad frame in defaults is placed at defaults, and each bad frame of a shot at its own field", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(`version: 1
defaults:
  first_frame: frames/tiny-100x100.png
shots:
  - id: a
    prompt: One.
  - id: b
    prompt: Two.
    first_frame: frames/red-640x360.png
    last_frame: frames/strip-3000x300.png
`)
      expect(issues).toEqual([
        "3:16: defaults.first_frame: frames/tiny-100x100.png is 100×100 (aspect 1.00): each side must be from 300 to 6000 px",
        "10:17: shot \"b\": shots[1].last_frame: frames/strip-3000x300.png is 3000×300 (aspect 10.0): aspect must be between 0.4 and 2.5"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("JPEG, PNG and WebP frames within the limits load, with their pixel sizes kept for the plan", () =>
    Effect.gen(function*() {
      const { dir, file } = yield* manifestWith(`version: 1
shots:
  - id: a
    prompt: One.
    aspect_ratio: adaptive
    first_frame: frames/blue-480x640.jpg
    last_frame: frames/green-600x600.webp
  - id: b
    prompt: Two.
    first_frame: frames/red-640x360.png
`)
      const loaded = yield* loadManifest(file)
      expect(Object.fromEntries(loaded.frameImages)).toEqual({
        [`${dir}/frames/blue-480x640.jpg`]: { format: "jpeg", width: 480, height: 640 },
        [`${dir}/frames/green-600x600.webp`]: { format: "webp", width: 600, height: 600 },
        [`${dir}/frames/red-640x360.png`]: { format: "png", width: 640, height: 360 }
      })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive.each(["plan", "run"])(
    "`%s` refuses a manifest with a bad frame: exit 2, and nothing is sent",
    (command) =>
      Effect.gen(function*() {
        const { file } = yield* manifestWith(oneShot("frames/strip-3000x300.png"))
        const emulator = yield* testEmulator()
        const target = command === "run" ? ["--base-url", emulator.baseUrl] : []
        const outcome = yield* runCli([command, file, ...target], { SEGMIND_API_KEY: TEST_KEY })
        expect(outcome.exitCode).toBe(2)
        expect(outcome.stderr).toContain(
          `${file}:5:18: shot "opening": shots[0].first_frame: frames/strip-3000x300.png is 3000×300 (aspect 10.0)`
        )
        expect((yield* emulator.stats).requests).toEqual([])
      }).pipe(Effect.provide(NodeContext.layer))
  )
})
