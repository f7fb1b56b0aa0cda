import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { type Plan, renderPlan } from "../../src/cli/PlanTable.js"
import type { Job } from "../../src/domain/Job.js"
import { SEEDANCE_MODEL } from "../../src/domain/SeedanceParams.js"
import { deriveSeed, expandJobs, refuseOversizedRun } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { estimateRun } from "../../src/segmind/ModelCatalog.js"

/** A plan of `jobs` as `shotlist plan` builds it, with nothing reused. */
const planOf = (jobs: ReadonlyArray<Job>): Plan => ({
  manifest: "board.yaml",
  name: "board",
  model: SEEDANCE_MODEL,
  concurrency: 4,
  rpm: 45,
  jobs: jobs.map((job) => ({ job, reusedFrom: undefined })),
  estimate: estimateRun(jobs, { model: SEEDANCE_MODEL, concurrency: 4, rpm: 45 })
})

/** Writes `text` as `name` in a fresh folder and loads it. */
const load = (text: string, name = "board.yaml") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = `${yield* fs.makeTempDirectoryScoped()}/${name}`
    yield* fs.writeFileString(file, text)
    return yield* loadManifest(file)
  })

const board = (top = "") =>
  `version: 1
${top}shots:
  - id: pier
    prompt: A wooden pier at dawn.
    seed: 7
  - id: lanterns
    prompt: Paper lanterns drift over a dark river.
    sweep:
      seed: [11, 22]
  - id: street
    prompt: Rain on a neon-lit street.
    takes: 3
  - id: gulls
    prompt: Gulls over the breakwater.
    sweep:
      camera_fixed: [true, false]
`

const seedsById = (jobs: ReadonlyArray<{ readonly id: string; readonly seed: number }>) =>
  Object.fromEntries(jobs.map((job) => [job.id, job.seed]))

/** Shots whose every take multiplies every sweep axis: 10 shots of 100 × 9 × 3 × 5 × 2 × 2 × 2 jobs, in 3.4 KB. */
const millionJobs = `version: 1
name: million
shots:
${
  Array.from({ length: 10 }, (_, i) =>
    `  - id: shot${i}
    prompt: Shot ${i} of the coast.
    takes: 100
    sweep:
      duration: [4, 5, 6, 7, 8, 9, 10, 11, 12]
      resolution: [480p, 720p, 1080p]
      aspect_ratio: ["16:9", "4:3", "1:1", "3:4", "9:16"]
      camera_fixed: [true, false]
      generate_audio: [true, false]
      skip_moderation: [true, false]
`).join("")
}`

describe("seeds you can count on", () => {
  it.scoped("the same manifest always expands to the same seeds, whatever the random source", () =>
    Effect.gen(function*() {
      const loaded = yield* load(board())
      const first = yield* Effect.withRandom(expandJobs(loaded), Random.make(1))
      const again = yield* Effect.withRandom(expandJobs(loaded), Random.make(2))
      expect(seedsById(again)).toEqual(seedsById(first))
      const derived = first.filter((job) => job.seedDrawn)
      expect(derived.map((job) => job.id)).toEqual([
        "street~take=1",
        "street~take=2",
        "street~take=3",
        "gulls~camera_fixed=true",
        "gulls~camera_fixed=false"
      ])
      for (const job of derived) {
        expect(job.seed).toBe(deriveSeed("board", job.id))
        expect(job.params.seed).toBe(job.seed)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("seed_base changes the derived seeds, never a given or swept one; it defaults to the manifest's name", () =>
    Effect.gen(function*() {
      const byName = seedsById(yield* expandJobs(yield* load(board())))
      const sameBase = seedsById(yield* expandJobs(yield* load(board("seed_base: board\n"), "other.yaml")))
      expect(sameBase).toEqual(byName)
      const otherBase = seedsById(yield* expandJobs(yield* load(board("seed_base: 2026\n"))))
      for (const id of ["pier", "lanterns~seed=11", "lanterns~seed=22"]) expect(otherBase[id]).toBe(byName[id])
      for (const id of ["street~take=1", "street~take=2", "street~take=3", "gulls~camera_fixed=true"]) {
        expect(otherBase[id]).not.toBe(byName[id])
        expect(otherBase[id]).toBe(deriveSeed("2026", id))
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("--reseed's fresh seed_base gives other seeds, and writing it into the manifest gives them back", () =>
    Effect.gen(function*() {
      const loaded = yield* load(board())
      const usual = seedsById(yield* expandJobs(loaded))
      const reseeded = seedsById(yield* expandJobs(loaded, { seedBase: "483920" }))
      expect(reseeded["street~take=2"]).not.toBe(usual["street~take=2"])
      expect(reseeded["pier"]).toBe(7)
      const written = seedsById(yield* expandJobs(yield* load(board("seed_base: 483920\n"))))
      expect(written).toEqual(reseeded)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("takes of a shot get distinct seeds even where the hash collides", () =>
    Effect.gen(function*() {
      // Under this seed_base takes 12 and 31 hash to the same seed.
      expect(deriveSeed("collide-259", "crowd~take=12")).toBe(deriveSeed("collide-259", "crowd~take=31"))
      const loaded = yield* load(
        "version: 1\nseed_base: collide-259\nshots:\n  - id: crowd\n    prompt: A crowd.\n    takes: 40\n"
      )
      const jobs = yield* expandJobs(loaded)
      expect(new Set(jobs.map((job) => job.seed)).size).toBe(40)
      expect(jobs.find((job) => job.id === "crowd~take=12")?.seed).toBe(deriveSeed("collide-259", "crowd~take=12"))
      expect(jobs.map((job) => job.seed)).toEqual((yield* expandJobs(loaded)).map((job) => job.seed))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("takes with other sweep axes: N takes per combination, each with its own derived seed", () =>
    Effect.gen(function*() {
      const jobs = yield* expandJobs(
        yield* load(
          "version: 1\nshots:\n  - id: surf\n    prompt: Surf.\n    takes: 2\n    sweep:\n      camera_fixed: [true, false]\n"
        )
      )
      expect(jobs.map((job) => job.id)).toEqual([
        "surf~camera_fixed=true~take=1",
        "surf~camera_fixed=true~take=2",
        "surf~camera_fixed=false~take=1",
        "surf~camera_fixed=false~take=2"
      ])
      expect(new Set(jobs.map((job) => job.seed)).size).toBe(4)
      expect(jobs.every((job) => job.seedDrawn)).toBe(true)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("the plan says of each seed whether it is given, swept or derived", () =>
    Effect.gen(function*() {
      const jobs = yield* expandJobs(yield* load(board()))
      const plan = renderPlan(planOf(jobs))
      expect(plan).toMatch(/^pier\s+7\s+given\s/m)
      expect(plan).toMatch(/^lanterns~seed=22\s+22\s+swept\s/m)
      expect(plan).toMatch(/^street~take=3\s+\d+\s+derived\s/m)
      expect(plan).toContain("derived: from the manifest's seed_base and the job's id; every run sends these seeds")
      expect(plan).not.toContain("drawn")
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("a manifest that multiplies", () => {
  it.scoped(
    "1,080,000 jobs from 3.4 KB expand without overflowing and the plan shows the first 1000",
    () =>
      Effect.gen(function*() {
        const loaded = yield* load(millionJobs)
        const jobs = yield* expandJobs(loaded)
        expect(jobs).toHaveLength(1_080_000)
        expect(jobs[1_079_999]?.id).toBe(
          "shot9~duration=12~resolution=1080p~aspect_ratio=9x16~camera_fixed=false~generate_audio=false~skip_moderation=false~take=100"
        )
        const plan = renderPlan(planOf(jobs))
        expect(plan.split("\n").filter((line) => line.startsWith("shot"))).toHaveLength(1000)
        expect(plan).toContain("… 1079000 more jobs (show them with --only)")
        expect(plan).toContain("1080000 jobs from 10 shots")
      }).pipe(Effect.provide(NodeContext.layer)),
    120_000
  )

  it.scoped("a run over the cap is a manifest error at the sweep that multiplies, with its axes and total", () =>
    Effect.gen(function*() {
      const loaded = yield* load(`version: 1
shots:
  - id: pier
    prompt: A pier.
  - id: crowd
    prompt: A crowd.
    takes: 100
    sweep:
      resolution: [480p, 720p, 1080p]
      aspect_ratio: ["16:9", "4:3", "1:1", "3:4", "9:16"]
`)
      const jobs = yield* expandJobs(loaded)
      expect(jobs).toHaveLength(1501)
      yield* refuseOversizedRun(loaded, jobs, 1501)
      const error = yield* Effect.flip(refuseOversizedRun(loaded, jobs, 1000))
      expect(error._tag).toBe("ManifestInvalid")
      expect(error.issues).toEqual([{
        file: loaded.file,
        line: 9,
        column: 7,
        shot: "crowd",
        path: "shots[1].sweep",
        message:
          "sweep resolution (3) × aspect_ratio (5) × takes (100) = 1500 jobs; the run would render 1501, over the 1000 a run renders unless --max-jobs allows more"
      }])
    }).pipe(Effect.provide(NodeContext.layer)))
})
