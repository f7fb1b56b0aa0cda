import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { expandJobs } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"

/** Writes `text` as a manifest beside two good frames (a.png, b.jpg) and a too-small one, and loads it. */
const load = (text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    yield* fs.makeDirectory(`${dir}/frames`)
    yield* fs.copyFile("test/fixtures/frames/red-640x360.png", `${dir}/frames/a.png`)
    yield* fs.copyFile("test/fixtures/frames/blue-480x640.jpg", `${dir}/b.jpg`)
    yield* fs.copyFile("test/fixtures/frames/tiny-100x100.png", `${dir}/tiny.png`)
    yield* fs.writeFileString(`${dir}/storyboard.yaml`, text)
    return { dir, loaded: yield* loadManifest(`${dir}/storyboard.yaml`) }
  })

const issuesOf = (text: string) =>
  load(text).pipe(
    Effect.flip,
    Effect.map((error) =>
      error._tag === "ManifestInvalid"
        ? error.issues.map(({ column, line, message, path }) => ({ line, column, path, message }))
        : []
    )
  )

describe("sweeps over prompts", () => {
  it.scoped("named variants give ids by name, the text in params.prompt and the name in the sweep", () =>
    Effect.gen(function*() {
      const { loaded } = yield* load(`version: 1
shots:
  - id: sea
    sweep:
      prompt:
        calm: A calm sea at dawn.
        storm: A storm over the sea.
      seed: [3, 4]
`)
      const jobs = yield* expandJobs(loaded)
      expect(jobs.map((job) => job.id)).toEqual([
        "sea~prompt=calm~seed=3",
        "sea~prompt=calm~seed=4",
        "sea~prompt=storm~seed=3",
        "sea~prompt=storm~seed=4"
      ])
      expect(jobs.map((job) => job.params.prompt)).toEqual([
        "A calm sea at dawn.",
        "A calm sea at dawn.",
        "A storm over the sea.",
        "A storm over the sea."
      ])
      expect(jobs[2]?.sweep).toEqual({ prompt: "storm", seed: 3 })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a prompt in defaults is replaced by the shot's variants", () =>
    Effect.gen(function*() {
      const { loaded } = yield* load(`version: 1
defaults:
  prompt: The default.
shots:
  - id: sea
    sweep:
      prompt: {calm: Calm., storm: Stormy.}
`)
      const jobs = yield* expandJobs(loaded)
      expect(jobs.map((job) => [job.id, job.params.prompt])).toEqual([
        ["sea~prompt=calm", "Calm."],
        ["sea~prompt=storm", "Stormy."]
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("bad variants are refused at line:col: not a map, empty, an unsafe name, an empty text, twice", () =>
    Effect.gen(function*() {
      expect(
        yield* issuesOf(`version: 1
shots:
  - id: a
    sweep:
      prompt: [calm, storm]
  - id: b
    sweep:
      prompt: {}
  - id: c
    sweep:
      prompt:
        "two words": A sea.
        ok: "  "
  - id: d
    prompt: Also here.
    sweep:
      prompt: {calm: A sea.}
`)
      ).toEqual([
        {
          line: 5,
          column: 15,
          path: "shots[0].sweep.prompt",
          message:
            "sweep.prompt must map one or more variant names (1-64 letters, digits, _ and -, starting with a letter or digit) to non-empty prompts"
        },
        {
          line: 8,
          column: 15,
          path: "shots[1].sweep.prompt",
          message:
            "sweep.prompt must map one or more variant names (1-64 letters, digits, _ and -, starting with a letter or digit) to non-empty prompts"
        },
        {
          line: 12,
          column: 9,
          path: "shots[2].sweep.prompt.two words",
          message:
            "a prompt variant's name must be 1-64 letters, digits, _ and -, starting with a letter or digit (got \"two words\")"
        },
        { line: 13, column: 13, path: "shots[2].sweep.prompt.ok", message: "prompt must not be empty" },
        {
          line: 17,
          column: 15,
          path: "shots[3].sweep.prompt",
          message: "prompt is given both on the shot and in its sweep; keep one"
        }
      ])
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("sweeps over first frames", () => {
  it.scoped("ids use each file's stem, each frame is checked and kept by its absolute path, axes combine", () =>
    Effect.gen(function*() {
      const { dir, loaded } = yield* load(`version: 1
shots:
  - id: open
    prompt: The door opens.
    aspect_ratio: adaptive
    sweep:
      first_frame: [frames/a.png, b.jpg]
      camera_fixed: [true, false]
`)
      const jobs = yield* expandJobs(loaded)
      expect(jobs.map((job) => job.id)).toEqual([
        "open~first_frame=a~camera_fixed=true",
        "open~first_frame=a~camera_fixed=false",
        "open~first_frame=b~camera_fixed=true",
        "open~first_frame=b~camera_fixed=false"
      ])
      expect(jobs[0]?.firstFrame).toEqual({ _tag: "File", path: "frames/a.png", absolutePath: `${dir}/frames/a.png` })
      expect(jobs[3]?.firstFrame).toEqual({ _tag: "File", path: "b.jpg", absolutePath: `${dir}/b.jpg` })
      expect(jobs[3]?.sweep).toEqual({ first_frame: "b.jpg", camera_fixed: false })
      expect(loaded.frameImages.get(`${dir}/b.jpg`)).toMatchObject({ width: 480, height: 640 })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a URL frame in a sweep is sent as is, named by its file's stem", () =>
    Effect.gen(function*() {
      const { loaded } = yield* load(`version: 1
shots:
  - id: open
    prompt: The door opens.
    sweep:
      first_frame: ["https://example.com/stills/door.png?v=2", frames/a.png]
`)
      const jobs = yield* expandJobs(loaded)
      expect(jobs.map((job) => job.id)).toEqual(["open~first_frame=door", "open~first_frame=a"])
      expect(jobs[0]?.params.first_frame_url).toBe("https://example.com/stills/door.png?v=2")
      expect(jobs[1]?.params.first_frame_url).toBeUndefined()
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("bad frame lists are refused at each frame: missing, too small, another scheme, not a list, same stem", () =>
    Effect.gen(function*() {
      expect(
        yield* issuesOf(`version: 1
shots:
  - id: a
    prompt: A door.
    sweep:
      first_frame: [missing.png, tiny.png, "ftp://host/x.png"]
  - id: b
    prompt: A door.
    sweep:
      first_frame: frames/a.png
  - id: c
    prompt: A door.
    sweep:
      first_frame: [frames/a.png, a.png]
  - id: d
    prompt: A door.
    first_frame: b.jpg
    sweep:
      first_frame: [frames/a.png]
`)
      ).toEqual([
        {
          line: 6,
          column: 21,
          path: "shots[0].sweep.first_frame[0]",
          message: "missing.png: no such file (paths are relative to the manifest)"
        },
        {
          line: 6,
          column: 34,
          path: "shots[0].sweep.first_frame[1]",
          message: expect.stringMatching(/^tiny\.png .*100/)
        },
        {
          line: 6,
          column: 44,
          path: "shots[0].sweep.first_frame[2]",
          message: "a frame must be an http(s) URL or a local file (got \"ftp://host/x.png\")"
        },
        {
          line: 10,
          column: 20,
          path: "shots[1].sweep.first_frame",
          message: "sweep.first_frame must be a non-empty list of values"
        },
        {
          line: 14,
          column: 35,
          path: "shots[2].sweep.first_frame[1]",
          message: "a.png: no such file (paths are relative to the manifest)"
        },
        {
          line: 19,
          column: 20,
          path: "shots[3].sweep.first_frame",
          message: "first_frame is given both on the shot and in its sweep; keep one"
        }
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("two frames with one stem would give one job id: refused at the second", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* fs.makeDirectory(`${dir}/x`)
      yield* fs.copyFile("test/fixtures/frames/red-640x360.png", `${dir}/x/a.png`)
      yield* fs.copyFile("test/fixtures/frames/red-640x360.png", `${dir}/a.png`)
      yield* fs.writeFileString(
        `${dir}/m.yaml`,
        "version: 1\nshots:\n  - id: c\n    prompt: A door.\n    sweep:\n      first_frame: [x/a.png, a.png]\n"
      )
      const error = yield* Effect.flip(loadManifest(`${dir}/m.yaml`))
      expect(error._tag === "ManifestInvalid" ? error.issues.map((i) => [i.line, i.column, i.message]) : []).toEqual([
        [6, 30, "\"a.png\" and \"x/a.png\" give the same job id (c~first_frame=a); ids must differ in more than case"]
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a swept first frame lets a shot use adaptive and last_frame", () =>
    Effect.gen(function*() {
      const { loaded } = yield* load(`version: 1
shots:
  - id: open
    prompt: The door opens.
    aspect_ratio: adaptive
    last_frame: b.jpg
    sweep:
      first_frame: [frames/a.png]
`)
      const jobs = yield* expandJobs(loaded)
      expect(jobs.map((job) => [job.id, job.lastFrame?._tag])).toEqual([["open~first_frame=a", "File"]])
    }).pipe(Effect.provide(NodeContext.layer)))
})
