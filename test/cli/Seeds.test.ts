import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "3", "--expect", "0.3s"]

/** `id -> seed` from the rows of `shotlist plan`. */
const planSeeds = (stdout: string): Record<string, number> =>
  Object.fromEntries(
    [...stdout.matchAll(/^(\S+)\s+(\d+)\s+(?:given|swept|derived)\s/gm)].map(([, id, seed]) => [id, Number(seed)])
  )

describe("seeds from the command line", () => {
  it.scopedLive(
    "plan prints exactly the seeds run sends, and a second run of the same manifest pays for nothing",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped()
        const plan = yield* runCli(["plan", SIX])
        expect(plan.exitCode).toBe(0)
        const planned = planSeeds(plan.stdout)
        expect(Object.keys(planned)).toHaveLength(6)
        expect(plan.stdout).toMatch(/^street~take=2\s+\d+\s+derived\s/m)

        const emulator = yield* testEmulator()
        const first = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", `${root}/a`, ...fast], env)
        expect(first.exitCode).toBe(0)
        const report = yield* readReport(`${root}/a/report.json`)
        expect(Object.fromEntries(report.jobs.map((job) => [job.id, job.seed]))).toEqual(planned)
        const sent = (yield* emulator.stats).submitted.map(({ body }) => (body as { seed: number }).seed)
        expect(sent.sort()).toEqual(Object.values(planned).sort())

        const nightly = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", `${root}/b`, ...fast], env)
        expect(nightly.exitCode).toBe(0)
        expect(nightly.stdout).toContain("6 jobs: 6 completed (6 reused from earlier runs)")
        expect((yield* emulator.stats).submissions).toBe(6)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )

  it.scopedLive(
    "--reseed draws a fresh seed_base for plan and run, says which, and writing it back gives the same seeds",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped()
        const usual = planSeeds((yield* runCli(["plan", SIX])).stdout)
        const reseeded = yield* runCli(["plan", SIX, "--reseed"])
        expect(reseeded.exitCode).toBe(0)
        const fresh = planSeeds(reseeded.stdout)
        const base = /--reseed: seed_base (\d+)/.exec(reseeded.stdout)?.[1]
        expect(base).toBeDefined()
        expect(reseeded.stdout).toContain(`write \`seed_base: ${base}\` in the manifest to render these seeds again`)
        expect(fresh["street~take=1"]).not.toBe(usual["street~take=1"])
        expect(fresh["pier"]).toBe(usual["pier"])

        const pinned = `${root}/six-jobs.yaml`
        yield* fs.writeFileString(pinned, `seed_base: ${base}\n${yield* fs.readFileString(SIX)}`)
        expect(planSeeds((yield* runCli(["plan", pinned])).stdout)).toEqual(fresh)

        const emulator = yield* testEmulator()
        const run = yield* runCli(
          ["run", SIX, "--reseed", "--base-url", emulator.baseUrl, "--out", `${root}/run`, ...fast],
          env
        )
        expect(run.exitCode).toBe(0)
        const report = yield* readReport(`${root}/run/report.json`)
        const take = report.jobs.find((job) => job.id === "street~take=1")
        expect(take?.seedDrawn).toBe(true)
        expect(take?.seed).not.toBe(usual["street~take=1"])
        expect(take?.params.seed).toBe(take?.seed)
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )
})

describe("a run that multiplies past the cap", () => {
  const crowd = `version: 1
name: crowd
shots:
  - id: crowd
    prompt: A crowd on the quay.
    takes: 100
    sweep:
      resolution: [480p, 720p, 1080p]
      aspect_ratio: ["16:9", "4:3", "1:1", "3:4", "9:16"]
`

  it.scopedLive(
    "without --max-jobs 1,500 jobs exit 2 naming the sweep, nothing sent; --max-jobs lifts the cap",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped()
        const file = `${root}/crowd.yaml`
        yield* fs.writeFileString(file, crowd)
        const emulator = yield* testEmulator()
        const refused = yield* runCli(["run", file, "--base-url", emulator.baseUrl, "--out", `${root}/run`], env)
        expect(refused.exitCode).toBe(2)
        expect(refused.stderr).toContain(
          `${file}:8:7: shot "crowd": shots[0].sweep: sweep resolution (3) × aspect_ratio (5) × takes (100) = 1500 jobs; the run would render 1500, over the 1000 a run renders unless --max-jobs allows more`
        )
        expect(refused.stderr).toContain("nothing was submitted")
        expect(yield* fs.exists(`${root}/run`)).toBe(false)

        // An explicit --max-jobs replaces the cap: here the cost budget is what refuses.
        const allowed = yield* runCli(
          [
            "run",
            file,
            "--max-jobs",
            "1500",
            "--max-cost",
            "1",
            "--base-url",
            emulator.baseUrl,
            "--out",
            `${root}/run`
          ],
          env
        )
        expect(allowed.exitCode).toBe(2)
        expect(allowed.stderr).toContain("over --max-cost $1.00")
        expect((yield* emulator.stats).requests).toEqual([])

        // plan has no cap: it shows what the manifest means.
        const plan = yield* runCli(["plan", file])
        expect(plan.exitCode).toBe(0)
        expect(plan.stdout).toContain("… 500 more jobs (show them with --only)")
      }).pipe(Effect.provide(nodeContext)),
    60_000
  )
})
