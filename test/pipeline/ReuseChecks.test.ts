import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SEEDANCE_MODEL } from "../../src/domain/SeedanceParams.js"
import { buildReuseIndex, paramsKeyOf } from "../../src/pipeline/ReuseCache.js"
import { sha256Hex } from "../../src/store/FileDigest.js"
import { testEmulator } from "../support/TestRun.js"
import { emulated, jobOf, renderJob } from "./JobHarness.js"

const at = new Date(0).toISOString()

describe("videos of earlier runs, taken instead of rendering", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped("an earlier file that matches its journaled sha256 but is not an MP4 is not reused: the job is rendered", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped()
        const job = jobOf("again")
        // A hand-made earlier run: its journal vouches for a file that is no video at all.
        const bytes = new TextEncoder().encode("<html>not a video</html>")
        yield* fs.makeDirectory(`${root}/earlier/videos`, { recursive: true })
        yield* fs.writeFile(`${root}/earlier/videos/again.mp4`, bytes)
        const output = { path: "videos/again.mp4", bytes: bytes.length, sha256: sha256Hex(bytes), sourceUrl: "x" }
        const events = [
          {
            _tag: "run",
            at,
            runId: "earlier",
            manifest: { path: "board.yaml", sha256: "0" },
            model: SEEDANCE_MODEL,
            baseUrl: "https://api.test",
            emulator: false,
            concurrency: 1,
            rpm: 45
          },
          { _tag: "planned", at, job },
          { _tag: "downloaded", at, jobId: job.id, output, paramsKey: paramsKeyOf(SEEDANCE_MODEL, job, {}) }
        ]
        yield* fs.writeFileString(
          `${root}/earlier/journal.jsonl`,
          events.map((event) => JSON.stringify(event)).join("\n") + "\n"
        )
        const reuse = yield* buildReuseIndex(root, `${root}/now`, undefined)
        expect(reuse.size).toBe(1)

        const emulator = yield* testEmulator()
        const { report, runDirectory } = yield* renderJob(emulated(emulator), job, { reuse })
        expect(report.status).toBe("completed")
        expect(report.reusedFrom).toBeUndefined()
        expect((yield* emulator.stats).submissions).toBe(1)
        expect(yield* fs.readFileString(`${runDirectory}/videos/again.mp4`)).not.toContain("not a video")
      }))
  })
})
