import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { decodeAnimaticRecord } from "../../src/assembly/AnimaticRecord.js"
import { FRAMES_PER_SECOND } from "../../src/domain/SeedanceParams.js"
import { sha256OfFile } from "../../src/store/FileDigest.js"
import { inspectMp4 } from "../../src/store/Mp4Inspection.js"
import { runChildCli } from "../support/ChildCli.js"
import { renderManifest, testEmulator } from "../support/TestRun.js"

/** Mixed aspects, a shot with two takes and no audio, and one the emulator's moderation refuses. */
const MANIFEST = `version: 1
name: animatic-e2e
defaults:
  duration: 4
  resolution: 480p
shots:
  - id: pier
    prompt: A wooden pier at dawn, gentle waves.
    seed: 7
  - id: lanterns
    prompt: Paper lanterns drift over a dark river.
    aspect_ratio: "1:1"
    generate_audio: false
    takes: 2
  - id: blocked
    prompt: A forbidden scene the moderation rule rejects.
    seed: 2
  - id: street
    prompt: Rain on a neon-lit street, reflections on the asphalt.
    aspect_ratio: "9:16"
    seed: 9
`

describe("shotlist assemble on a run rendered by the emulator", () => {
  it.scopedLive(
    "the real binary joins the run's takes into a verified 16 s animatic with a black card for the refused shot; --strict names it",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const scratch = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-animatic-e2e-" })
        const manifest = path.join(scratch, "animatic.yaml")
        yield* fs.writeFileString(manifest, MANIFEST)
        const emulator = yield* testEmulator()
        const { report, runDirectory } = yield* renderManifest(manifest, emulator.baseUrl, { concurrency: 3 })
        expect(report.summary).toMatchObject({ total: 5, completed: 4, failed: 1 })

        const strict = yield* runChildCli(["assemble", runDirectory, "--strict"], {})
        expect(strict.code, strict.stderr).toBe(1)
        expect(strict.stderr).toContain("shotlist: --strict: 1 shot(s) have no take to show: blocked (")
        expect(yield* fs.exists(path.join(runDirectory, "animatic.mp4"))).toBe(false)

        const outcome = yield* runChildCli(["assemble", runDirectory], {})
        expect(outcome.code, outcome.stderr).toBe(0)
        const output = path.join(runDirectory, "animatic.mp4")
        expect(outcome.stdout.trim()).toBe(output)
        expect(outcome.stderr.split("\n").slice(0, 4)).toEqual([
          "shotlist: pier: pier (only take)",
          "shotlist: lanterns: lanterns~take=1 (first of 2 completed)",
          "shotlist: blocked: black card, 4 s (no completed take: 1 failed)",
          "shotlist: street: street (only take)"
        ])
        // Every stderr line is shotlist's, as in a cron mail or CI log.
        expect(outcome.stderr.trimEnd().split("\n").filter((line) => !line.startsWith("shotlist: "))).toEqual([])
        // Not a terminal: a start and an end line, no percentages.
        expect(outcome.stderr).toContain(`shotlist: assembling 4 shots (`)
        expect(outcome.stderr).toContain(`shotlist: wrote ${output}: 4 shots (1 black card)`)
        expect(outcome.stderr).not.toContain("%")

        const info = yield* inspectMp4(output)
        const record = yield* fs.readFileString(path.join(runDirectory, "animatic.json")).pipe(
          Effect.flatMap(decodeAnimaticRecord)
        )
        const sum = record.parts.reduce((total, part) => total + part.durationSeconds, 0)
        expect(sum).toBeCloseTo(16, 0)
        expect(Math.abs(info.durationSeconds - sum)).toBeLessThanOrEqual(4 / FRAMES_PER_SECOND)
        expect(Option.getOrThrow(info.video)).toMatchObject({ width: 864, height: 496 })
        expect(Option.isSome(info.audio)).toBe(true)
        expect(record.run).toBe(report.run.id)
        expect(record.output.sha256).toBe(yield* sha256OfFile(output))
        expect(record.parts.map((part) => part.job ?? "card")).toEqual(["pier", "lanterns~take=1", "card", "street"])
        // The contact sheet now opens with the animatic, above the shots.
        const sheet = yield* fs.readFileString(path.join(runDirectory, "report.html"))
        expect(sheet).toMatch(
          /<section class="animatic"[^>]*>\s*<h2>animatic<\/h2>\s*<video controls preload="metadata" src="animatic\.mp4">/
        )
        expect(sheet.indexOf("class=\"animatic\"")).toBeLessThan(sheet.indexOf("<main>"))
      }).pipe(Effect.provide(NodeContext.layer))
  )
})
