import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync } from "node:fs"
import { nodeContext, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const CORPUS = "test/fixtures/bad-manifests"
const files = readdirSync(CORPUS).filter((name) => name.endsWith(".yaml")).sort()

/** Runs `run FILE` against a fresh emulator: exit 2, a located message, and not one HTTP request. */
const refuse = (file: string) =>
  Effect.gen(function*() {
    const emulator = yield* testEmulator()
    const outcome = yield* runCli(["run", file, "--base-url", emulator.baseUrl], { SEGMIND_API_KEY: TEST_KEY })
    expect(outcome.exitCode).toBe(2)
    expect((yield* emulator.stats).requests).toEqual([])
    return outcome
  })

describe("the bad-manifest corpus", () => {
  it("holds at least 40 broken manifests", () => {
    expect(files.length).toBeGreaterThanOrEqual(40)
  })

  it.scopedLive.each(files.filter((name) => name !== "49-not-utf8.yaml"))(
    "%s exits 2, names file:line:col and the field, and sends nothing",
    (name) =>
      Effect.gen(function*() {
        const file = `${CORPUS}/${name}`
        const outcome = yield* refuse(file)
        expect(outcome.stderr).toMatch(new RegExp(`^${file.replace(/[.]/g, "\\.")}:\\d+:\\d+: `, "m"))
        expect(outcome.stderr).toContain("nothing was submitted")
      }).pipe(Effect.provide(nodeContext))
  )

  it.scopedLive("a manifest that is not UTF-8 exits 2 and says where the first bad byte is", () =>
    Effect.gen(function*() {
      const outcome = yield* refuse(`${CORPUS}/49-not-utf8.yaml`)
      expect(outcome.stderr).toContain("not UTF-8 text (first bad byte at line 4, column 16)")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a manifest over 1 MiB is refused before it is parsed", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = `${dir}/huge.yaml`
      yield* fs.writeFileString(file, `version: 1\nshots:\n  - id: a\n    prompt: x\n# ${"x".repeat(1024 * 1024)}\n`)
      const outcome = yield* refuse(file)
      expect(outcome.stderr).toContain("a manifest may be at most 1048576 bytes")
    }).pipe(Effect.provide(nodeContext)))
})

describe("hostile but valid values", () => {
  it.scopedLive("emoji and right-to-left text in a prompt are sent exactly as written", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const prompt = "Dawn 🌅 over the bay — الفجر فوق الخليج, 👩‍🚀 waves"
      yield* fs.writeFileString(
        `${dir}/m.yaml`,
        `version: 1\nshots:\n  - id: dawn\n    prompt: "${prompt}"\n    duration: 4\n    resolution: 480p\n`
      )
      const emulator = yield* testEmulator()
      const outcome = yield* runCli(["run", `${dir}/m.yaml`, "--base-url", emulator.baseUrl, "--out", `${dir}/run`], {
        SEGMIND_API_KEY: TEST_KEY
      })
      expect(outcome.exitCode).toBe(0)
      expect(((yield* emulator.stats).submitted[0]?.body as { prompt: string }).prompt).toBe(prompt)
      expect(yield* fs.readFileString(`${dir}/run/report.json`)).toContain(prompt)
    }).pipe(Effect.provide(nodeContext)), 60_000)
})
