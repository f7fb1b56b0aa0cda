import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SEEDANCE_MODEL, type SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { estimateJobCost } from "../../src/segmind/ModelCatalog.js"
import { nodeContext, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

interface PlanDocument {
  readonly manifest: string
  readonly name: string
  readonly model: string
  readonly concurrency: number
  readonly rpm: number
  readonly jobs: ReadonlyArray<{
    readonly id: string
    readonly shot: string
    readonly seed: number
    readonly params: SeedanceParams
    readonly reusedFrom: { readonly run: string; readonly job: string; readonly runDirectory: string } | null
    readonly estimatedCostUsd: number
  }>
  readonly totals: {
    readonly jobs: number
    readonly shots: number
    readonly videoSeconds: number
    readonly reused: number
    readonly toRender: number
    readonly estimatedCostUsd: number
    readonly estimatedWallSeconds: number
  }
}

const planJson = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const outcome = yield* runCli(["plan", ...args, "--json"])
    expect(outcome.stderr).toBe("")
    expect(outcome.exitCode).toBe(0)
    return JSON.parse(outcome.stdout) as PlanDocument
  })

const fast = ["--rpm", "6000", "--concurrency", "3", "--expect", "0.3s"]

describe("plan, the dry run", () => {
  it.scopedLive("--json prints one JSON document: each job's id, seed, params, reuse and price, then the totals", () =>
    Effect.gen(function*() {
      const plan = yield* planJson(["manifests/example.yaml", "--no-reuse"])
      expect(plan).toMatchObject({ name: "example", model: SEEDANCE_MODEL, concurrency: 3, rpm: 50, plan: "pro" })
      expect(plan.jobs.map((job) => job.id)).toEqual([
        "harbour",
        "market~seed=11~camera_fixed=true",
        "market~seed=11~camera_fixed=false",
        "market~seed=22~camera_fixed=true",
        "market~seed=22~camera_fixed=false",
        "gulls"
      ])
      for (const job of plan.jobs) {
        expect(job.seed).toBe(job.params.seed)
        expect(job.reusedFrom).toBeNull()
        expect(job.estimatedCostUsd).toBeCloseTo(estimateJobCost(job.params, SEEDANCE_MODEL), 6)
      }
      const [harbour, gulls] = [plan.jobs[0]!, plan.jobs[5]!]
      expect(harbour.params).toMatchObject({ duration: 4, resolution: "480p", generate_audio: true, seed: 12345 })
      // gulls has no audio: half the price of a clip with audio.
      expect(gulls.estimatedCostUsd).toBeLessThan(harbour.estimatedCostUsd)
      expect(plan.totals).toMatchObject({ jobs: 6, shots: 3, videoSeconds: 24, reused: 0, toRender: 6 })
      expect(plan.totals.estimatedCostUsd).toBeCloseTo(
        plan.jobs.reduce((sum, job) => sum + job.estimatedCostUsd, 0),
        5
      )
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("the request budget shows in the wall time: --plan free takes longer than --plan pro", () =>
    Effect.gen(function*() {
      const free = yield* planJson(["manifests/storyboard.yaml", "--no-reuse", "--plan", "free"])
      const pro = yield* planJson(["manifests/storyboard.yaml", "--no-reuse", "--plan", "pro"])
      expect(free.totals.estimatedWallSeconds).toBeGreaterThan(pro.totals.estimatedWallSeconds)
      expect(free.rpm).toBe(5)
      expect(pro.rpm).toBe(50)
      // The manifest's own plan (pro) stands when the flag is absent.
      expect((yield* planJson(["manifests/storyboard.yaml", "--no-reuse"])).totals).toEqual(pro.totals)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("names the jobs an earlier run would supply, and where from, and prices only the rest", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const emulator = yield* testEmulator()
      const six = yield* fs.readFileString("test/fixtures/runs/six-jobs.yaml")
      const board = `${root}/board.yaml`
      yield* fs.writeFileString(board, six.replace("takes: 3", "seed: 5"))
      const rendered = yield* runCli(
        ["run", board, "--base-url", emulator.baseUrl, "--out", `${root}/runs/first`, ...fast],
        { SEGMIND_API_KEY: TEST_KEY }
      )
      expect(rendered.exitCode).toBe(0)
      const requests = (yield* emulator.stats).requests.length

      // One more shot: the four rendered jobs come from the first run, only the new one is priced.
      const grown = `${root}/grown.yaml`
      yield* fs.writeFileString(
        grown,
        `${six.replace("takes: 3", "seed: 5")}  - id: quay\n    prompt: Fishing boats unload at a quay.\n    seed: 9\n`
      )
      // Videos are reused within one API only: planned for Segmind itself, that server's videos count for nothing.
      const elsewhere = yield* planJson([grown, "--reuse-from", `${root}/runs`])
      expect(elsewhere.totals.reused).toBe(0)
      const plan = yield* planJson([grown, "--reuse-from", `${root}/runs`, "--base-url", emulator.baseUrl])
      const reused = plan.jobs.filter((job) => job.reusedFrom !== null)
      expect(reused.map((job) => job.id)).toEqual(["pier", "lanterns~seed=11", "lanterns~seed=22", "street"])
      for (const job of reused) {
        expect(job.reusedFrom).toEqual({ run: "first", job: job.id, runDirectory: `${root}/runs/first` })
        expect(job.estimatedCostUsd).toBe(0)
      }
      const quay = plan.jobs.find((job) => job.id === "quay")!
      expect(quay.reusedFrom).toBeNull()
      expect(plan.totals).toMatchObject({ jobs: 5, reused: 4, toRender: 1 })
      expect(plan.totals.estimatedCostUsd).toBeCloseTo(estimateJobCost(quay.params, SEEDANCE_MODEL), 6)

      const text = yield* runCli(["plan", grown, "--reuse-from", `${root}/runs`, "--base-url", emulator.baseUrl])
      expect(text.exitCode).toBe(0)
      expect(text.stdout).toMatch(/pier\s.*reused from .*runs\/first/)
      expect(text.stdout).toContain("4 jobs reused from earlier runs at no cost, 1 to render")
      // A dry run: the emulator saw nothing more.
      expect((yield* emulator.stats).requests.length).toBe(requests)
    }).pipe(Effect.provide(nodeContext)))
})

describe("plan of an adaptive shot", () => {
  it.scoped("says which aspect the first frame gives it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-adaptive-" })
      yield* fs.copyFile("test/fixtures/runs/frames/start.png", `${directory}/wide.png`)
      yield* fs.writeFileString(
        `${directory}/adaptive.yaml`,
        "version: 1\nshots:\n  - id: wide\n    prompt: A pier at dawn.\n    aspect_ratio: adaptive\n    first_frame: wide.png\n"
      )
      const outcome = yield* runCli(["plan", `${directory}/adaptive.yaml`])
      expect(outcome.exitCode).toBe(0)
      // start.png is 640×360: the API gives such a job the 16:9 shape.
      expect(outcome.stdout).toMatch(/^wide\s.*adaptive → 16:9/m)
    }).pipe(Effect.provide(nodeContext)))
})
