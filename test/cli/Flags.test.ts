import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nodeContext, runCli } from "../support/TestRun.js"

const EXAMPLE = "manifests/example.yaml"

/** The ids `plan --json` lists for these arguments. */
const plannedIds = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const outcome = yield* runCli(["plan", EXAMPLE, "--no-reuse", "--json", ...args])
    expect(outcome.stderr).toBe("")
    expect(outcome.exitCode).toBe(0)
    const document = JSON.parse(outcome.stdout) as { readonly jobs: ReadonlyArray<{ readonly id: string }> }
    return document.jobs.map((job) => job.id)
  })

const MARKET = [
  "market~seed=11~camera_fixed=true",
  "market~seed=11~camera_fixed=false",
  "market~seed=22~camera_fixed=true",
  "market~seed=22~camera_fixed=false"
]

describe("flags mean what they say", () => {
  it.scopedLive("a duration without a unit is refused with both readings, before anything runs", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const outcome = yield* runCli(["run", EXAMPLE, "--emulator", "--out", out, "--job-deadline", "15"])
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain("--job-deadline 15 has no unit: did you mean 15s or 15m?")
      expect(yield* fs.exists(`${out}/journal.jsonl`)).toBe(false)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("--only SHOT selects every job of that shot; a glob over ids still works", () =>
    Effect.gen(function*() {
      expect(yield* plannedIds(["--only", "market"])).toEqual(MARKET)
      expect(yield* plannedIds(["--only", "mark*"])).toEqual(MARKET)
      expect(yield* plannedIds(["--only", "market~seed=11*", "--only", "gulls"])).toEqual([
        ...MARKET.slice(0, 2),
        "gulls"
      ])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("--only=GLOB is the same as --only GLOB", () =>
    Effect.gen(function*() {
      expect(yield* plannedIds(["--only=market"])).toEqual(MARKET)
      expect(yield* plannedIds(["--only=market~seed=22*", "--only=harbour"])).toEqual(["harbour", ...MARKET.slice(2)])
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("an --only that matches nothing lists the ids there are, or the shots when there are many", () =>
    Effect.gen(function*() {
      const few = yield* runCli(["plan", EXAMPLE, "--only", "nothing*"])
      expect(few.exitCode).toBe(2)
      expect(few.stderr).toContain(
        `--only "nothing*" matches no job of ${EXAMPLE}; its jobs: harbour, ${MARKET.join(", ")}, gulls`
      )
      const many = yield* runCli(["plan", "test/fixtures/runs/twenty-seeds.yaml", "--only", "tidy"])
      expect(many.exitCode).toBe(2)
      expect(many.stderr).toContain(
        "--only \"tidy\" matches no job of test/fixtures/runs/twenty-seeds.yaml; its shots: tide (20 jobs)"
      )
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("an unknown flag is a usage error that names the flag it resembles", () =>
    Effect.gen(function*() {
      const typo = yield* runCli(["plan", EXAMPLE, "--onyl", "market"])
      expect(typo.exitCode).toBe(2)
      expect(typo.stderr).toContain("Received unknown argument: '--onyl'")
      expect(typo.stderr).toContain("unknown flag --onyl: did you mean --only?")
      // Before the manifest, @effect/cli takes the flag for the manifest's name: the flag is still named.
      const early = yield* runCli(["plan", "--onyl", "market", EXAMPLE])
      expect(early.exitCode).toBe(2)
      expect(early.stderr).toContain("unknown flag --onyl: did you mean --only?")
      const other = yield* runCli(["run", EXAMPLE, "--emulator", "--concurency", "2"])
      expect(other.exitCode).toBe(2)
      expect(other.stderr).toContain("did you mean --concurrency?")
      const far = yield* runCli(["plan", EXAMPLE, "--zzzzzz"])
      expect(far.exitCode).toBe(2)
      expect(far.stderr).not.toContain("did you mean")
    }).pipe(Effect.provide(nodeContext)))
})
