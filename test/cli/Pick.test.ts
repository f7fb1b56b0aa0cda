import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { SEEDANCE_DEFAULTS } from "../../src/domain/SeedanceParams.js"
import { readPicksYaml } from "../../src/report/Picks.js"
import { Report } from "../../src/report/Report.js"
import { writeReport } from "../../src/report/ReportFile.js"
import { runChildCli } from "../support/ChildCli.js"
import { nodeContext, runCli } from "../support/TestRun.js"

const job = (id: string, shot: string, seed: number, extra: object = {}) => ({
  id,
  shot,
  status: "completed",
  seed,
  seedDrawn: false,
  params: { ...SEEDANCE_DEFAULTS, prompt: `${shot} prompt`, seed },
  attempts: 1,
  output: { path: `videos/${id}.mp4`, bytes: 1, sha256: "00", sourceUrl: "https://files.example.test/x.mp4" },
  ...extra
})

const report = Schema.decodeUnknownSync(Report)({
  schemaVersion: 1,
  tool: { name: "shotlist", version: "0.1.0" },
  run: {
    id: "20260101T000000Z",
    manifest: { path: "/nowhere/board.yaml", sha256: "00" },
    model: "seedance-1.5-pro",
    baseUrl: "http://127.0.0.1:1",
    concurrency: 1,
    rpm: 1,
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:01:00Z"
  },
  summary: { total: 5, completed: 4, failed: 1, skipped: 0, wallMs: 60_000 },
  jobs: [
    job("cliff~seed=11~camera_fixed=true", "cliff", 11, { sweep: { seed: 11, camera_fixed: true } }),
    job("cliff~seed=22~camera_fixed=true", "cliff", 22, { sweep: { seed: 22, camera_fixed: true } }),
    job("ending~take=1", "ending", 501, { take: 1 }),
    job("ending~take=2", "ending", 502, { take: 2 }),
    {
      ...job("storm", "storm", 9),
      status: "failed",
      output: undefined,
      error: { tag: "GenerationFailed", message: "no" }
    }
  ]
})

/** A run directory holding only the report: all `pick` reads. */
const runDirectory = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-pick-" })
  yield* writeReport(`${directory}/report.json`, report)
  return directory
})

describe("shotlist pick", () => {
  it.scopedLive("writes RUN_DIR/picks.yaml, one pick per shot, adding to the picks already there", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const run = yield* runDirectory
      const first = yield* runCli(["pick", run, "cliff=cliff~seed=22~camera_fixed=true"])
      expect(first.stderr).toBe("")
      expect(first.exitCode).toBe(0)
      expect(first.stdout).toContain("picked cliff: cliff~seed=22~camera_fixed=true (seed 22)")
      expect(first.stdout).toContain(`shotlist pin ${run}`)
      // The job id alone names its shot too.
      const second = yield* runCli(["pick", run, "ending~take=2"])
      expect(second.exitCode).toBe(0)
      const file = `${run}/picks.yaml`
      expect(yield* readPicksYaml(file, yield* fs.readFileString(file))).toEqual({
        run: "20260101T000000Z",
        picks: {
          cliff: { job: "cliff~seed=22~camera_fixed=true", seed: 22, sweep: { seed: 22, camera_fixed: true } },
          ending: { job: "ending~take=2", seed: 502, take: 2 }
        }
      })
      // Picking again replaces that shot's pick.
      expect((yield* runCli(["pick", run, "cliff=cliff~seed=11~camera_fixed=true"])).exitCode).toBe(0)
      const again = yield* readPicksYaml(file, yield* fs.readFileString(file))
      expect(again.picks["cliff"]?.job).toBe("cliff~seed=11~camera_fixed=true")
      expect(again.picks["ending"]?.job).toBe("ending~take=2")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a typo exits 2 with the ids the run has, and writes nothing", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const run = yield* runDirectory
      const shot = yield* runCli(["pick", run, "clif=cliff~seed=22~camera_fixed=true"])
      expect(shot.exitCode).toBe(2)
      expect(shot.stderr).toContain(
        `no shot "clif" in run 20260101T000000Z (did you mean "cliff"?); its shots: cliff, ending, storm`
      )
      const jobTypo = yield* runCli(["pick", run, "ending=ending~take=3"])
      expect(jobTypo.exitCode).toBe(2)
      expect(jobTypo.stderr).toContain(
        `no job "ending~take=3" in shot "ending" (did you mean "ending~take=1"?); its jobs: ending~take=1, ending~take=2`
      )
      const failed = yield* runCli(["pick", run, "storm=storm"])
      expect(failed.exitCode).toBe(2)
      expect(failed.stderr).toContain(`job "storm" of shot "storm" is failed: it has no video to keep`)
      const twice = yield* runCli(["pick", run, "ending~take=1", "ending=ending~take=2"])
      expect(twice.exitCode).toBe(2)
      expect(twice.stderr).toContain(`shot "ending" is picked more than once`)
      const neither = yield* runCli(["pick", run, "nothing"])
      expect(neither.exitCode).toBe(2)
      expect(neither.stderr).toContain(`"nothing" is not SHOT=JOB nor a job id of run 20260101T000000Z`)
      expect(yield* fs.exists(`${run}/picks.yaml`)).toBe(false)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("the installed binary exits 2 on a typo, with the shot's jobs on stderr", () =>
    Effect.gen(function*() {
      const run = yield* runDirectory
      const outcome = yield* runChildCli(["pick", run, "cliff=cliff~seed=33"], {})
      expect(outcome.code).toBe(2)
      expect(outcome.stderr).toContain(
        `its jobs: cliff~seed=11~camera_fixed=true, cliff~seed=22~camera_fixed=true`
      )
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a folder without a report is a usage error", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const empty = yield* fs.makeTempDirectoryScoped()
      const outcome = yield* runCli(["pick", empty, "a=b"])
      expect(outcome.exitCode).toBe(2)
      expect(outcome.stderr).toContain(`${empty} holds no readable report.json`)
    }).pipe(Effect.provide(nodeContext)))
})
