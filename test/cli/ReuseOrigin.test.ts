import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--concurrency", "4", "--expect", "1s"]

describe("reuse keeps to the API a video came from", () => {
  it.scopedLive(
    "an emulator run's videos are not reused by a run against an API, two emulator runs share theirs whatever their ports, and a reused job keeps its source's request id and cost",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-origin-" })
        // Every job seeded, so a second run asks for the very same videos.
        const manifest = `${root}/board.yaml`
        yield* fs.writeFileString(
          manifest,
          (yield* fs.readFileString("test/fixtures/runs/six-jobs.yaml")).replace("takes: 3", "seed: 5")
        )
        const run = (out: string, ...target: ReadonlyArray<string>) =>
          runCli(["run", manifest, ...target, "--out", `${root}/runs/${out}`, ...fast], env)

        const onEmulator = yield* run("a", "--emulator")
        expect(onEmulator.exitCode, onEmulator.stderr).toBe(0)
        const a = yield* readReport(`${root}/runs/a/report.json`)
        expect(a.run).toMatchObject({ emulator: true, apiOrigin: "emulator" })

        // Another server on a port of its own, taken as a real API: it renders every job itself.
        const api = yield* testEmulator()
        const onApi = yield* run("b", "--base-url", api.baseUrl)
        expect(onApi.exitCode, onApi.stderr).toBe(0)
        const b = yield* readReport(`${root}/runs/b/report.json`)
        expect(b.summary.reused).toBe(0)
        expect(b.jobs.map((job) => job.reusedFrom)).toEqual([undefined, undefined, undefined, undefined])
        expect((yield* api.stats).submissions).toBe(4)
        expect(b.run).toMatchObject({ emulator: false, apiOrigin: new URL(api.baseUrl).origin })

        // A second embedded emulator (another port) takes the first one's videos, not those of the API.
        const again = yield* run("c", "--emulator")
        expect(again.exitCode, again.stderr).toBe(0)
        const c = yield* readReport(`${root}/runs/c/report.json`)
        expect(c.summary.reused).toBe(4)
        for (const job of c.jobs) {
          const source = a.jobs.find((earlier) => earlier.id === job.id)!
          expect(job.reusedFrom).toEqual({
            run: "a",
            job: job.id,
            requestId: source.requestId,
            cost: source.cost,
            inferenceTime: source.inferenceTime
          })
          expect(source.requestId).toMatch(/.+/)
          expect(source.cost).toBeGreaterThan(0)
          // Reused at no cost: the source's figure is a record, not a bill of this run.
          expect(job.cost).toBeUndefined()
          expect(job.requestId).toBeUndefined()
        }
        expect(c.summary.cost?.usd).toBe(0)

        // The same API again: its own earlier videos are reused, nothing is sent.
        const onApiAgain = yield* run("d", "--base-url", api.baseUrl)
        expect(onApiAgain.exitCode, onApiAgain.stderr).toBe(0)
        const d = yield* readReport(`${root}/runs/d/report.json`)
        expect(d.jobs.map((job) => job.reusedFrom?.run)).toEqual(["b", "b", "b", "b"])
        expect((yield* api.stats).submissions).toBe(4)
      }).pipe(Effect.provide(nodeContext)),
    120_000
  )
})
