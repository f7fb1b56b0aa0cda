import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const board = (door: string) =>
  `version: 1
defaults:
  duration: 4
  resolution: 480p
shots:
  - id: door
    prompt: ${door}
    seed: 7
  - id: open
    prompt: The door opens.
    seed: 8
    first_frame: {from: door}
`

describe("reuse follows the links between shots", () => {
  it.scopedLive(
    "an unchanged chain is reused whole; a changed source renders again, and so does its follower",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-chain-reuse-" })
        const manifest = `${root}/board.yaml`
        const api = yield* testEmulator()
        const run = (out: string) =>
          runCli(
            ["run", manifest, "--base-url", api.baseUrl, "--out", `${root}/runs/${out}`, "--expect", "1s"],
            { SEGMIND_API_KEY: TEST_KEY }
          ).pipe(Effect.zipRight(readReport(`${root}/runs/${out}/report.json`)))

        yield* fs.writeFileString(manifest, board("A closed door."))
        const first = yield* run("a")
        expect(first.summary).toMatchObject({ completed: 2, reused: 0 })
        const again = yield* run("b")
        expect(again.summary).toMatchObject({ completed: 2, reused: 2 })
        expect((yield* api.stats).submissions).toBe(2)

        yield* fs.writeFileString(manifest, board("A red door."))
        const changed = yield* run("c")
        expect(changed.summary).toMatchObject({ completed: 2, reused: 0 })
        expect((yield* api.stats).submissions).toBe(4)
        const frameOf = (report: typeof first) => report.jobs.find((job) => job.id === "open")?.frames?.[0]?.sha256
        expect(frameOf(first)).toMatch(/^[0-9a-f]{64}$/)
        expect(frameOf(changed)).toMatch(/^[0-9a-f]{64}$/)
        expect(frameOf(changed)).not.toBe(frameOf(first))
      }).pipe(Effect.provide(nodeContext)),
    90_000
  )
})
