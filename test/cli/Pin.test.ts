import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { parse } from "yaml"
import { pinManifest } from "../../src/manifest/ManifestPin.js"
import { readPicksYaml } from "../../src/report/Picks.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "3", "--expect", "0.3s"]

const BOARD = `# yaml-language-server: $schema=../manifest.schema.json
# A two-shot board, commented by hand.
version: 1
name: lighthouse
defaults:
  duration: 4
  resolution: 480p     # cheap while choosing
shots:
  # The opening: which seed?
  - id: opening
    prompt: >-
      A lighthouse at dusk, waves breaking
      below, slow push in.
    generate_audio: false
    sweep:
      seed: [11, 22]   # two to choose from
    camera_fixed: true
  - id: gull    # kept as it is
    prompt: A gull lands on the railing.
    seed: 7
    aspect_ratio: "9:16"
`

/** BOARD with `opening` pinned to seed 22 by hand: what pin must write, byte for byte. */
const PINNED = BOARD.replace(
  `  # The opening: which seed?
  - id: opening`,
  `  # The opening: which seed?
  # shotlist pin: kept opening~seed=22 of run RUN; it replaced:
  #   sweep:
  #     seed: [11, 22]   # two to choose from
  - id: opening`
).replace(
  `    sweep:
      seed: [11, 22]   # two to choose from
`,
  `    seed: 22
`
)

describe("shotlist pin", () => {
  it.scopedLive("run a 2-seed sweep, pick one, pin it: the next run of the manifest reuses the pick and submits nothing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const board = `${root}/lighthouse.yaml`
      yield* fs.writeFileString(board, BOARD)

      const first = yield* testEmulator()
      const rendered = yield* runCli(
        ["run", board, "--base-url", first.baseUrl, "--out", `${root}/runs/a`, ...fast],
        env
      )
      expect(rendered.exitCode).toBe(0)
      expect((yield* first.stats).submissions).toBe(3)

      const picked = yield* runCli(["pick", `${root}/runs/a`, "opening=opening~seed=22"])
      expect(picked.stderr).toBe("")
      expect(picked.exitCode).toBe(0)
      const runId = (yield* readReport(`${root}/runs/a/report.json`)).run.id
      const picksFile = `${root}/runs/a/picks.yaml`
      expect(yield* readPicksYaml(picksFile, yield* fs.readFileString(picksFile))).toEqual({
        run: runId,
        picks: { opening: { job: "opening~seed=22", seed: 22, sweep: { seed: 22 } } }
      })

      const pinned = yield* runCli(["pin", `${root}/runs/a`])
      expect(pinned.stderr).toBe("")
      expect(pinned.exitCode).toBe(0)
      expect(pinned.stdout).toContain("pinned opening: opening~seed=22 (seed 22)")
      expect(pinned.stdout).toContain("reuses the picked videos at no cost")
      expect(yield* fs.readFileString(board)).toBe(PINNED.replace("RUN", runId))
      expect(yield* fs.readFileString(`${board}.bak`)).toBe(BOARD)

      // Reuse stays within one API: the same server, which sees no new submission.
      const again = yield* runCli(["run", board, "--base-url", first.baseUrl, "--out", `${root}/runs/b`, ...fast], env)
      expect(again.exitCode).toBe(0)
      expect((yield* first.stats).submissions).toBe(3)
      const report = yield* readReport(`${root}/runs/b/report.json`)
      expect(report.jobs.map((job) => [job.id, job.status, job.seed, job.reusedFrom])).toMatchObject([
        ["opening", "completed", 22, { run: runId, job: "opening~seed=22" }],
        ["gull", "completed", 7, { run: runId, job: "gull" }]
      ])
      expect(report.summary.cost?.usd).toBe(0)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("bad picks exit 2 and leave the manifest alone: another run's file, a job the run lacks, no picks file", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const board = `${root}/lighthouse.yaml`
      yield* fs.writeFileString(board, BOARD)
      const emulator = yield* testEmulator()
      const run = `${root}/runs/a`
      expect((yield* runCli(["run", board, "--base-url", emulator.baseUrl, "--out", run, ...fast], env)).exitCode)
        .toBe(0)
      const runId = (yield* readReport(`${run}/report.json`)).run.id

      const none = yield* runCli(["pin", run])
      expect(none.exitCode).toBe(2)
      expect(none.stderr).toContain(`${run}/picks.yaml does not exist: pick first`)

      const other = `${root}/other.yaml`
      yield* fs.writeFileString(other, `run: elsewhere\npicks:\n  opening: { job: "opening~seed=11", seed: 11 }\n`)
      const foreign = yield* runCli(["pin", run, "--picks", other])
      expect(foreign.exitCode).toBe(2)
      expect(foreign.stderr).toContain(`the picks are of run elsewhere, not of run ${runId}`)

      yield* fs.writeFileString(other, `run: "${runId}"\npicks:\n  opening: { job: "opening~seed=33", seed: 33 }\n`)
      const typo = yield* runCli(["pin", run, "--picks", other])
      expect(typo.exitCode).toBe(2)
      expect(typo.stderr).toContain(`no job "opening~seed=33" in shot "opening"`)
      expect(typo.stderr).toContain("its jobs: opening~seed=11, opening~seed=22")

      yield* fs.writeFileString(other, `run: "${runId}"\npicks:\n  opening: { job: "opening~seed=11", seed: 12 }\n`)
      const forged = yield* runCli(["pin", run, "--picks", other])
      expect(forged.exitCode).toBe(2)
      expect(forged.stderr).toContain(`the pick of shot "opening" says`)

      yield* fs.writeFileString(other, `run: [not, a, run]\n`)
      const broken = yield* runCli(["pin", run, "--picks", other])
      expect(broken.exitCode).toBe(2)
      expect(broken.stderr).toContain("is not a picks file")

      expect(yield* fs.readFileString(board)).toBe(BOARD)
      expect(yield* fs.exists(`${board}.bak`)).toBe(false)
    }).pipe(Effect.provide(nodeContext)))
})

describe("pinning a manifest's text", () => {
  const pin = (text: string, pins: Parameters<typeof pinManifest>[2]) =>
    Either.getOrThrow(pinManifest("board.yaml", text, pins, "R1"))

  it("folds takes into a comment, sets the seed and swept values, and leaves every other line as it was", () => {
    const text = `shots:
  - id: a
    prompt: >-
      folded prompt that the YAML library would
      reflow if it wrote the file itself
    takes: 3     # three tries
  - id: b
    prompt: b
    camera_fixed: true   # was true
    sweep:
      camera_fixed: [true, false]
      resolution: [480p, 720p]
      # more values later
    # about the next key
    duration: 6
`
    const pinned = pin(text, [
      { shot: "a", job: "a~take=2", seed: 4242, values: {} },
      {
        shot: "b",
        job: "b~camera_fixed=false~resolution=720p",
        seed: 9,
        values: { camera_fixed: false, resolution: "720p" }
      }
    ])
    expect(pinned).toBe(`shots:
  # shotlist pin: kept a~take=2 of run R1; it replaced:
  #   takes: 3     # three tries
  - id: a
    prompt: >-
      folded prompt that the YAML library would
      reflow if it wrote the file itself
    seed: 4242
  # shotlist pin: kept b~camera_fixed=false~resolution=720p of run R1; it replaced:
  #   sweep:
  #     camera_fixed: [true, false]
  #     resolution: [480p, 720p]
  #     # more values later
  - id: b
    prompt: b
    camera_fixed: false   # was true
    seed: 9
    resolution: 720p
    # about the next key
    duration: 6
`)
  })

  it("a shot already pinned is left alone, so pinning twice changes nothing; a shot without a seed gets it", () => {
    const text = `shots:\n  - id: a\n    prompt: x\n    seed: 5\n  - id: b\n    prompt: y\n`
    const pins = [{ shot: "a", job: "a", seed: 5, values: {} }, { shot: "b", job: "b", seed: 77, values: {} }]
    const once = pin(text, pins)
    expect(once).toBe(
      `shots:\n  - id: a\n    prompt: x\n    seed: 5\n  # shotlist pin: kept b of run R1\n  - id: b\n    prompt: y\n    seed: 77\n`
    )
    expect(pin(once, pins)).toBe(once)
  })

  it("a layout it cannot edit line by line (a flow map) is still pinned right, through the document", () => {
    const text = `shots:\n  - { id: a, prompt: x, sweep: { seed: [1, 2] } }\n  - id: b # untouched\n    prompt: y\n`
    const pinned = pin(text, [{ shot: "a", job: "a~seed=2", seed: 2, values: {} }])
    expect(parse(pinned)).toEqual({ shots: [{ id: "a", prompt: "x", seed: 2 }, { id: "b", prompt: "y" }] })
    expect(pinned).toContain("# shotlist pin: kept a~seed=2 of run R1")
    expect(pinned).toContain("- id: b # untouched")
  })

  it("refuses a manifest without the picked shot, naming the shots it has", () => {
    const refused = pinManifest("board.yaml", "shots:\n  - id: a\n    prompt: x\n", [
      { shot: "z", job: "z", seed: 1, values: {} }
    ], "R1")
    expect(Either.isLeft(refused) && refused.left.message).toBe(
      `cannot pin board.yaml: it has no shot "z" (its shots: a)`
    )
  })
})
