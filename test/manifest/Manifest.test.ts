import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { type Plan, renderPlan } from "../../src/cli/PlanTable.js"
import { SEEDANCE_MODEL } from "../../src/domain/SeedanceParams.js"
import { expandJobs, jobIdProblems, longestJobIdBytes } from "../../src/manifest/JobExpansion.js"
import { filterJobs } from "../../src/manifest/JobFilter.js"
import { JOB_ID_MAX_BYTES, type Shot } from "../../src/manifest/Manifest.js"
import { formatIssue, type ManifestIssue } from "../../src/manifest/ManifestErrors.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { estimateRun } from "../../src/segmind/ModelCatalog.js"

/** Writes `text` as a manifest in a fresh folder (with a frame file beside it) and loads it. */
const load = (text: string | Uint8Array, name = "storyboard.yaml") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    yield* fs.copyFile("test/fixtures/frames/red-640x360.png", `${dir}/frame.png`)
    const file = `${dir}/${name}`
    yield* typeof text === "string" ? fs.writeFileString(file, text) : fs.writeFile(file, text)
    return yield* loadManifest(file)
  })

const issuesOf = (text: string) =>
  load(text).pipe(
    Effect.flip,
    Effect.map((error) => (error._tag === "ManifestInvalid" ? error.issues : [])),
    Effect.map((issues) =>
      issues.map((i: ManifestIssue) => ({
        line: i.line,
        column: i.column,
        path: i.path,
        shot: i.shot,
        message: i.message
      }))
    )
  )

const oneShot = (fields: string) =>
  `version: 1
shots:
  - id: cliff
    prompt: Waves crash below the headland.
${fields}`

describe("manifest validation", () => {
  it.scoped.each([
    ["duration: 20", {
      line: 5,
      column: 15,
      path: "shots[0].duration",
      message: "duration must be an integer number of seconds from 4 to 12 (got 20)"
    }],
    ["resolution: 4k", {
      line: 5,
      column: 17,
      path: "shots[0].resolution",
      message: "resolution must be one of 480p, 720p, 1080p (got \"4k\")"
    }],
    ["aspect_ratio: \"21:9\"", {
      line: 5,
      column: 19,
      path: "shots[0].aspect_ratio",
      message: "aspect_ratio must be one of \"adaptive\", \"16:9\", \"4:3\", \"1:1\", \"3:4\", \"9:16\" (got \"21:9\")"
    }],
    ["seed: 0", {
      line: 5,
      column: 11,
      path: "shots[0].seed",
      message: "seed must be an integer from 1 to 999999 (got 0)"
    }],
    ["seed: 1.5", {
      line: 5,
      column: 11,
      path: "shots[0].seed",
      message: "seed must be an integer from 1 to 999999 (got 1.5)"
    }],
    ["camera_fixed: yes", {
      line: 5,
      column: 19,
      path: "shots[0].camera_fixed",
      message: "camera_fixed must be true or false (got \"yes\")"
    }],
    ["durations: 5", {
      line: 5,
      column: 5,
      path: "shots[0].durations",
      message: expect.stringContaining("unknown key \"durations\" (did you mean \"duration\"?)")
    }],
    ["takes: 3\n    seed: 4", {
      line: 5,
      column: 12,
      path: "shots[0].takes",
      message: "give either takes or a seed, not both: each take gets its own seed, derived from seed_base"
    }],
    ["sweep:\n      style: [a, b]", {
      line: 6,
      column: 7,
      path: "shots[0].sweep.style",
      message: expect.stringContaining("unknown key \"style\"")
    }],
    ["sweep:\n      seed: []", {
      line: 6,
      column: 13,
      path: "shots[0].sweep.seed",
      message: "sweep.seed must be a non-empty list of values"
    }],
    ["sweep:\n      duration: [5, 30]", {
      line: 6,
      column: 21,
      path: "shots[0].sweep.duration[1]",
      message: expect.stringContaining("(got 30)")
    }],
    ["last_frame: https://example.com/end.png", {
      line: 5,
      column: 17,
      path: "shots[0].last_frame",
      message: "last_frame needs a first_frame"
    }],
    ["aspect_ratio: adaptive", {
      line: 5,
      column: 19,
      path: "shots[0].aspect_ratio",
      message: expect.stringContaining("needs a first_frame")
    }],
    ["first_frame: frames/missing.png", {
      line: 5,
      column: 18,
      path: "shots[0].first_frame",
      message: "frames/missing.png: no such file (paths are relative to the manifest)"
    }],
    ["first_frame: notes.txt", {
      line: 5,
      column: 18,
      path: "shots[0].first_frame",
      message: expect.stringContaining("must be a .png, .jpg, .jpeg or .webp file")
    }]
  ])(
    "%s is refused at its line and column, naming the shot and what is allowed",
    ([fields, expected]) =>
      Effect.gen(function*() {
        const issues = yield* issuesOf(oneShot(`    ${fields}\n`))
        expect(issues).toEqual([{ shot: "cliff", ...(expected as object) }])
      }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("a prompt of 2001 characters is refused; one of 2000 is fine", () =>
    Effect.gen(function*() {
      const long = yield* issuesOf(`version: 1\nshots:\n  - id: a\n    prompt: ${"x".repeat(2001)}\n`)
      expect(long[0]?.message).toBe("prompt must be at most 2000 characters (got 2001)")
      const loaded = yield* load(`version: 1\nshots:\n  - id: a\n    prompt: ${"x".repeat(2000)}\n`)
      expect(loaded.manifest.shots[0]?.prompt).toHaveLength(2000)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("every problem of a file is reported at once, in file order", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(`version: 1
shots:
  - id: one
    prompt: First.
    duration: 99
  - id: two
    prompt: ""
  - id: one
    prompt: Third.
    resolution: 8k
`)
      expect(issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
        "5:15 shots[0].duration",
        "7:13 shots[1].prompt",
        "8:9 shots[2].id",
        "10:17 shots[2].resolution"
      ])
      expect(issues[2]?.message).toBe("id \"one\" is already used by the shot on line 3; ids must be unique")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("structural problems are located too: version, ids, missing prompt, empty shots", () =>
    Effect.gen(function*() {
      expect((yield* issuesOf("version: 2\nshots: []\n")).map((i) => i.path)).toEqual(["version", "shots"])
      const bad = yield* issuesOf("version: 1\nshots:\n  - id: has space\n    prompt: x\n  - id: ok\n")
      expect(bad.map((i) => `${i.line}:${i.path}`)).toEqual(["3:shots[0].id", "5:shots[1].prompt"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a YAML syntax error is reported with its line, and nothing else is tried", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf("version: 1\nshots:\n  - id: a\n    prompt: [unclosed\n")
      expect(issues).toHaveLength(1)
      expect(issues[0]?.message).toMatch(/^YAML: /)
      expect(issues[0]?.line).toBeGreaterThanOrEqual(4)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a file that is not UTF-8, or missing, is unreadable, not a crash", () =>
    Effect.gen(function*() {
      const latin1 = yield* Effect.flip(load(new Uint8Array([0x76, 0x65, 0x72, 0x3a, 0x20, 0xe9, 0xff, 0x0a])))
      expect(latin1).toMatchObject({ _tag: "ManifestUnreadable", reason: expect.stringContaining("not UTF-8") })
      const missing = yield* Effect.flip(loadManifest("no/such/manifest.yaml"))
      expect(missing).toMatchObject({
        _tag: "ManifestUnreadable",
        file: "no/such/manifest.yaml",
        reason: "no such file"
      })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a name that would escape the output folder is refused", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf("version: 1\nname: ../../etc\nshots:\n  - id: a\n    prompt: x\n")
      expect(issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual(["2:7 name"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("formatIssue gives file:line:col, the shot and the field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(load(oneShot("    duration: 3\n")))
      expect(error._tag).toBe("ManifestInvalid")
      if (error._tag === "ManifestInvalid") {
        expect(formatIssue(error.issues[0]!)).toBe(
          `${error.file}:5:15: shot "cliff": shots[0].duration: duration must be an integer number of seconds from 4 to 12 (got 3)`
        )
      }
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("one validator, every problem at once", () => {
  it.scoped("a rule across fields, a missing frame file and a bad value are reported together", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(`version: 1
name: true
shots:
  - id: one
    prompt: First.
    takes: 2
    seed: 4
    duration: 99
  - id: "two words"
    prompt: Second.
    first_frame: gone.png
`)
      expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
        "2:7 name: name must be a plain folder name: letters, digits, \".\", \"_\", \"-\", starting with a letter or digit (got true)",
        "6:12 shots[0].takes: give either takes or a seed, not both: each take gets its own seed, derived from seed_base",
        "8:15 shots[0].duration: duration must be an integer number of seconds from 4 to 12 (got 99)",
        "9:9 shots[1].id: id must be 1-64 letters, digits, _ and -, starting with a letter or digit (got \"two words\")",
        "11:18 shots[1].first_frame: gone.png: no such file (paths are relative to the manifest)"
      ])
      expect(issues[3]?.shot).toBe("two words")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a sweep value listed twice is refused where it repeats", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(oneShot("    sweep:\n      seed: [1, 2, 1]\n"))
      expect(issues).toEqual([{
        line: 6,
        column: 20,
        path: "shots[0].sweep.seed[2]",
        shot: "cliff",
        message: "1 is listed twice; each sweep value renders once"
      }])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("an unknown key is named as written, at the key, with the keys allowed in its map", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf("version: 1\n5: x\nretry:\n  tryes: 3\nshots:\n  - id: a\n    prompt: x\n")
      expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
        "2:1 5: unknown key \"5\"; allowed: version, name, seed_base, model, concurrency, plan, rpm, retry, defaults, shots",
        "4:3 retry.tryes: unknown key \"tryes\" (did you mean \"tries\"?); allowed: tries, base, cap"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a manifest that is not a map is told every top-level key, retry included", () =>
    Effect.gen(function*() {
      expect((yield* issuesOf("- a\n- b\n")).map((i) => i.message)).toEqual([
        "a manifest is a map with version, shots and optional name, seed_base, model, concurrency, plan, rpm, retry, defaults"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("YAML aliases are read as the values they name", () =>
    Effect.gen(function*() {
      const loaded = yield* load(
        "version: 1\nshots:\n  - id: a\n    prompt: &p Same.\n    duration: &d 6\n  - id: b\n    prompt: *p\n    duration: *d\n"
      )
      expect(loaded.manifest.shots.map((shot) => [shot.id, shot.prompt, shot.duration])).toEqual([
        ["a", "Same.", 6],
        ["b", "Same.", 6]
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a sweep keeps the order it is written in", () =>
    Effect.gen(function*() {
      const loaded = yield* load(oneShot("    sweep:\n      camera_fixed: [false, true]\n      seed: [3, 1]\n"))
      expect(loaded.manifest.shots[0]?.sweep).toEqual([["camera_fixed", [false, true]], ["seed", [3, 1]]])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("the errors carry their data and say it", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(loadManifest("no/such/manifest.yaml"))
      expect(missing.message).toBe("cannot read no/such/manifest.yaml: no such file")
      const invalid = yield* Effect.flip(load(oneShot("    duration: 3\n    seed: 0\n")))
      expect(invalid.message).toMatch(/storyboard\.yaml: 2 problems; nothing was submitted$/)
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("expansion into jobs", () => {
  const storyboard = `version: 1
defaults:
  duration: 6
  resolution: 1080p
  generate_audio: false
shots:
  - id: opening
    prompt: "Dawn 🌅 over the bay — الفجر فوق الخليج"
    seed: 12345
    first_frame: https://example.com/opening.jpg
  - id: cliff
    prompt: The car rounds the headland.
    duration: 10
    sweep:
      seed: [11, 22, 33]
      camera_fixed: [true, false]
  - id: ending
    prompt: Tail lights fade.
    takes: 4
  - id: frame
    prompt: Square and tall.
    seed: 5
    sweep:
      aspect_ratio: ["1:1", "9:16"]
`

  it.scoped("sweeps are cartesian products, first key slowest; takes make numbered jobs; ids are file-safe", () =>
    Effect.gen(function*() {
      const jobs = yield* expandJobs(yield* load(storyboard))
      expect(jobs.map((job) => job.id)).toEqual([
        "opening",
        "cliff~seed=11~camera_fixed=true",
        "cliff~seed=11~camera_fixed=false",
        "cliff~seed=22~camera_fixed=true",
        "cliff~seed=22~camera_fixed=false",
        "cliff~seed=33~camera_fixed=true",
        "cliff~seed=33~camera_fixed=false",
        "ending~take=1",
        "ending~take=2",
        "ending~take=3",
        "ending~take=4",
        "frame~aspect_ratio=1x1",
        "frame~aspect_ratio=9x16"
      ])
      expect(jobs.find((job) => job.id === "cliff~seed=22~camera_fixed=false")).toMatchObject({
        shot: "cliff",
        sweep: { seed: 22, camera_fixed: false },
        seed: 22,
        seedDrawn: false
      })
      expect(jobs.find((job) => job.id === "frame~aspect_ratio=9x16")?.params.aspect_ratio).toBe("9:16")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("every field of the body is explicit: shot over defaults over the model's defaults", () =>
    Effect.gen(function*() {
      const jobs = yield* expandJobs(yield* load(storyboard))
      expect(jobs[0]?.params).toEqual({
        prompt: "Dawn 🌅 over the bay — الفجر فوق الخليج",
        duration: 6,
        resolution: "1080p",
        aspect_ratio: "16:9",
        seed: 12345,
        camera_fixed: false,
        generate_audio: false,
        skip_moderation: false,
        first_frame_url: "https://example.com/opening.jpg"
      })
      expect(jobs[1]?.params).toMatchObject({ duration: 10, camera_fixed: true, seed: 11 })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("takes draw seeds in 1..999999, marked as drawn, the same for the same Random", () =>
    Effect.gen(function*() {
      const loaded = yield* load(storyboard)
      const first = yield* Effect.withRandom(expandJobs(loaded), Random.make(42))
      const again = yield* Effect.withRandom(expandJobs(loaded), Random.make(42))
      const takes = first.filter((job) => job.take !== undefined)
      expect(takes).toHaveLength(4)
      for (const job of takes) {
        expect(job.seedDrawn).toBe(true)
        expect(job.seed).toBeGreaterThanOrEqual(1)
        expect(job.seed).toBeLessThanOrEqual(999_999)
        expect(job.params.seed).toBe(job.seed)
      }
      expect(new Set(takes.map((job) => job.seed)).size).toBe(4)
      expect(again.map((job) => job.seed)).toEqual(first.map((job) => job.seed))
      // Ids do not depend on the draw: they are stable across runs.
      const other = yield* Effect.withRandom(expandJobs(loaded), Random.make(7))
      expect(other.map((job) => job.id)).toEqual(first.map((job) => job.id))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a local frame is resolved against the manifest's folder and left for upload", () =>
    Effect.gen(function*() {
      const loaded = yield* load("version: 1\nshots:\n  - id: a\n    prompt: x\n    first_frame: frame.png\n")
      const [job] = yield* expandJobs(loaded)
      expect(job?.firstFrame).toEqual({
        _tag: "File",
        path: "frame.png",
        absolutePath: `${loaded.directory}/frame.png`
      })
      expect(job?.params.first_frame_url).toBeUndefined()
      expect(loaded.manifest.name).toBe("storyboard")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("--only globs keep matching jobs and name the patterns that match none", () =>
    Effect.gen(function*() {
      const jobs = yield* expandJobs(yield* load(storyboard))
      const picked = filterJobs(jobs, ["cliff~seed=1?~*", "opening", "nope*"])
      expect(picked.jobs.map((job) => job.id)).toEqual([
        "opening",
        "cliff~seed=11~camera_fixed=true",
        "cliff~seed=11~camera_fixed=false"
      ])
      expect(picked.unmatched).toEqual(["nope*"])
      expect(filterJobs(jobs, []).jobs).toHaveLength(jobs.length)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("the plan lists every job, the totals and the estimated cost and wall time", () =>
    Effect.gen(function*() {
      const jobs = yield* expandJobs(yield* load(storyboard))
      const planOf = (model: string, concurrency: number, rpm: number): Plan => ({
        manifest: "storyboard.yaml",
        name: "storyboard",
        model,
        concurrency,
        rpm,
        jobs: jobs.map((job) => ({ job, reusedFrom: undefined })),
        estimate: estimateRun(jobs, { model, concurrency, rpm })
      })
      const plan = renderPlan(planOf(SEEDANCE_MODEL, 4, 45))
      for (const job of jobs) expect(plan).toContain(job.id)
      expect(plan).toContain("13 jobs from 4 shots, 102 s of video")
      expect(plan).toMatch(/ending~take=1\s+\d+\s+derived\s/)
      // Silent 1080p clips of 6 and 10 s, priced per job; 4 waves of ~100 s at concurrency 4.
      expect(plan).toContain("estimate: $9.38 for 13 jobs, about 7 min at concurrency 4 and 45 API calls/min")
      const unknown = renderPlan(planOf("other-model", 13, 45))
      expect(unknown).toContain(
        "about 2 min at concurrency 13 and 45 API calls/min (other-model is not in shotlist's price table"
      )
      // At 5 calls a minute the request budget, not the waves, sets the pace.
      expect(renderPlan(planOf(SEEDANCE_MODEL, 4, 5))).toContain("the request budget sets the pace")
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("ids and names safe on every file system", () => {
  it.scoped.each(["CON", "nul", "Com1", "lpt9", "aux", "PRN"])(
    "the device name %s is refused as a shot id, at the id",
    (id) =>
      Effect.gen(function*() {
        expect(yield* issuesOf(`version: 1\nshots:\n  - id: ${id}\n    prompt: x\n`)).toEqual([{
          line: 3,
          column: 9,
          path: "shots[0].id",
          shot: id,
          message:
            `id "${id}" is a device name Windows reserves (CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9, in any case); choose another`
        }])
      }).pipe(Effect.provide(NodeContext.layer))
  )

  it.scoped("names that only contain a device name are fine", () =>
    Effect.gen(function*() {
      const loaded = yield* load(
        "version: 1\nname: console\nshots:\n  - id: CONSOLE\n    prompt: x\n  - id: com10\n    prompt: y\n  - id: nul_2\n    prompt: z\n"
      )
      expect(loaded.manifest.shots.map((shot) => shot.id)).toEqual(["CONSOLE", "com10", "nul_2"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a device name as the run's name, with or without an extension, is refused", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf("version: 1\nname: aux.v2\nshots:\n  - id: a\n    prompt: x\n")
      expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
        "2:7 name: name \"aux.v2\" is a device name Windows reserves (CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9, in any case); choose another"
      ])
      const stem = yield* Effect.flip(load("version: 1\nshots:\n  - id: a\n    prompt: x\n", "nul.yaml"))
      expect(stem._tag === "ManifestInvalid" ? stem.issues.map((i) => i.message) : []).toEqual([
        "name \"nul\" is a device name Windows reserves (CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9, in any case); choose another"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("two shot ids that differ only in case are refused at the second", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(
        "version: 1\nshots:\n  - id: Alley\n    prompt: x\n  - id: street\n    prompt: y\n  - id: alley\n    prompt: z\n"
      )
      expect(issues).toEqual([{
        line: 7,
        column: 9,
        path: "shots[2].id",
        shot: "alley",
        message:
          "id \"alley\" differs from \"Alley\" (the shot on line 3) only in case; Windows and macOS would write both jobs to one file: ids must differ in more than case"
      }])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a name longer than a file name less the run's time stamp is refused, at name or for the file", () =>
    Effect.gen(function*() {
      const fits = yield* load(`version: 1\nname: ${"n".repeat(239)}\nshots:\n  - id: a\n    prompt: x\n`)
      expect(fits.manifest.name).toHaveLength(239)
      const long = yield* issuesOf(`version: 1\nname: ${"n".repeat(240)}\nshots:\n  - id: a\n    prompt: x\n`)
      expect(long.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
        "2:7 name: name is 240 bytes; a run's folder name may be at most 239 (a file name's 255 less the run's time stamp)"
      ])
      const stem = yield* Effect.flip(load("version: 1\nshots:\n  - id: a\n    prompt: x\n", `${"s".repeat(240)}.yaml`))
      expect(stem._tag === "ManifestInvalid" ? stem.issues.map((i) => `${i.path}: ${i.message}`) : []).toEqual([
        "name: name is 240 bytes; a run's folder name may be at most 239 (a file name's 255 less the run's time stamp)"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("the longest job id a valid manifest can make still fits a file name, with its download's temporary name", () =>
    Effect.gen(function*() {
      const jobs = yield* expandJobs(
        yield* load(`version: 1
shots:
  - id: ${"x".repeat(64)}
    prompt: Every axis at its longest.
    first_frame: frame.png
    takes: 100
    sweep:
      duration: [10, 12]
      resolution: [480p, 1080p]
      aspect_ratio: [adaptive, "16:9"]
      camera_fixed: [true, false]
      generate_audio: [true, false]
      skip_moderation: [true, false]
`)
      )
      const longest = Math.max(...jobs.map((job) => Buffer.byteLength(job.id)))
      expect(longest).toBe(longestJobIdBytes(jobs[0]!.shot, [
        ["duration", [10, 12]],
        ["resolution", ["480p", "1080p"]],
        ["aspect_ratio", ["adaptive", "16:9"]],
        ["camera_fixed", [true, false]],
        ["generate_audio", [true, false]],
        ["skip_moderation", [true, false]]
      ], 100))
      // `.<id>.mp4.<8 hex>.part` beside the video while it downloads
      expect(longest + 19).toBeLessThanOrEqual(255)
      expect(longest).toBeLessThanOrEqual(JOB_ID_MAX_BYTES)
    }).pipe(Effect.provide(NodeContext.layer)))

  it("job ids too long for a file name, or equal but for case within a shot, are manifest problems at their field", () => {
    const shot = (id: string, sweep: Shot["sweep"], takes?: number): Shot => ({
      id,
      prompt: "x",
      ...(sweep === undefined ? {} : { sweep }),
      ...(takes === undefined ? {} : { takes })
    })
    expect(jobIdProblems([shot("a".repeat(64), [["seed", [1, 999_999]]], 100)])).toEqual([])
    expect(jobIdProblems([shot("ok", undefined), shot("b".repeat(230), [["seed", [1, 999_999]]], 100)])).toEqual([{
      path: ["shots", 1, "id"],
      message: `job id "${
        "b".repeat(230)
      }~seed=999999~take=100" is 251 bytes; a job id may be at most ${JOB_ID_MAX_BYTES}, to fit a file name with its .mp4 and download suffixes`
    }])
    expect(jobIdProblems([shot("c", [["resolution", ["720P", "720p"]]])])).toEqual([{
      path: ["shots", 0, "sweep", "resolution", 1],
      message:
        "\"720p\" and \"720P\" give the same job id but for case (c~resolution=720p); ids must differ in more than case"
    }])
  })
})

describe("takes and seeds", () => {
  it.scoped.each([
    [
      "takes: 3\n    seed: 4",
      "5:12",
      "give either takes or a seed, not both: each take gets its own seed, derived from seed_base"
    ],
    [
      "takes: 3\n    sweep:\n      seed: [1, 2]",
      "5:12",
      "give either takes or a seed list, not both: each take gets its own seed, derived from seed_base, and a sweep.seed list renders one job per seed"
    ]
  ])("%s is refused: give either takes or seeds", ([fields, at, message]) =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(oneShot(`    ${fields}\n`))
      expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
        `${at} shots[0].takes: ${message}`
      ])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a seed in defaults and takes on a shot: the message says where the seed comes from", () =>
    Effect.gen(function*() {
      const issues = yield* issuesOf(
        "version: 1\ndefaults:\n  seed: 4\nshots:\n  - id: a\n    prompt: x\n    takes: 2\n"
      )
      expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
        "7:12 shots[0].takes: give either takes or a seed, not both: defaults gives every shot its seed, and each take needs its own (derived from seed_base); move the seed to the shots that keep it"
      ])
    }).pipe(Effect.provide(NodeContext.layer)))
})
