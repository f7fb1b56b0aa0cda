import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { extractLastFrame } from "../../src/pipeline/ShotChain.js"
import type { Report } from "../../src/report/Report.js"
import { sha256Hex } from "../../src/store/FileDigest.js"
import { runChildCli } from "../support/ChildCli.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"

/** `open` opens on the last frame of `door`, which renders two takes: the pick says which. */
const BOARD = `version: 1
name: board
defaults:
  duration: 4
  resolution: 480p
shots:
  - id: door
    prompt: A closed door.
    takes: 2
  - id: open
    prompt: The door opens.
    seed: 8
    first_frame: {from: door}
`

const env = { SEGMIND_API_KEY: TEST_KEY }

const jobOf = (report: Report, id: string) => report.jobs.find((job) => job.id === id)!

/** sha256 of the last frame of `job`'s video in the run `runDirectory`, as ffmpeg takes it on its own. */
const lastFrameSha = (runDirectory: string, report: Report, id: string, scratch: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const frame = yield* extractLastFrame(path.join(runDirectory, jobOf(report, id).output!.path), scratch)
    return sha256Hex(yield* fs.readFile(frame))
  })

describe("a chain from a shot of several videos follows its pick", () => {
  it.scopedLive(
    "refused without a pick; --only renders the takes; the latest picks are followed; a changed pick renders the follower again",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-chain-picks-" })
        yield* fs.writeFileString(`${root}/board.yaml`, BOARD)
        const api = yield* testEmulator()
        const common = ["--base-url", api.baseUrl, "--rpm", "6000", "--expect", "1s"]
        // In its own folder, so `output/board/latest` is this test's.
        const shotlist = (...args: ReadonlyArray<string>) => runChildCli(args, env, () => Effect.void, root)
        const latestReport = () => readReport(`${root}/output/board/latest/report.json`)

        const refused = yield* shotlist("run", "board.yaml", ...common)
        expect(refused.code, refused.stderr).toBe(2)
        expect(refused.stderr).toContain(
          `board.yaml:13:25: shot "open": shots[1].first_frame.from: shot "door" renders 2 videos (door~take=1, door~take=2) and no picks were found: pick the one to follow with \`shotlist pick RUN_DIR door=JOB\``
        )
        expect((yield* api.stats).requests).toEqual([])

        const takes = yield* shotlist("run", "board.yaml", "--only", "door", ...common)
        expect(takes.code, takes.stderr).toBe(0)
        const takesDirectory = yield* fs.realPath(`${root}/output/board/latest`)
        const takesPicks = `output/board/${takesDirectory.split("/").pop()}/picks.yaml`
        const takesReport = yield* latestReport()
        expect(takesReport.summary).toMatchObject({ completed: 2 })
        const picked = yield* runCli(["pick", takesDirectory, "door=door~take=2"])
        expect(picked.exitCode, picked.stderr).toBe(0)

        const followed = yield* shotlist("run", "board.yaml", ...common)
        expect(followed.code, followed.stderr).toBe(0)
        expect(followed.stderr).toContain(
          `open opens on the last frame of door~take=2 (picked in ${takesPicks})`
        )
        const first = yield* latestReport()
        expect(first.summary).toMatchObject({ completed: 3, reused: 2 })
        const take2Sha = yield* lastFrameSha(takesDirectory, takesReport, "door~take=2", `${root}/t2.png`)
        expect(jobOf(first, "open").frames).toEqual([
          expect.objectContaining({ source: "from:door", fromJob: "door~take=2", sha256: take2Sha })
        ])
        expect((yield* api.stats).submissions).toBe(3)

        // The latest run has no picks of its own: the picks last written among the runs are followed.
        const plan = yield* shotlist("plan", "board.yaml")
        expect(plan.code, plan.stderr).toBe(0)
        expect(plan.stdout).toContain(
          `open opens on the last frame of door~take=2 (picked in ${takesPicks})`
        )

        // Another pick: the follower opens on another frame, so it is another job, rendered again, not reused.
        expect((yield* runCli(["pick", takesDirectory, "door=door~take=1"])).exitCode).toBe(0)
        const repicked = yield* shotlist("run", "board.yaml", ...common)
        expect(repicked.code, repicked.stderr).toBe(0)
        const second = yield* latestReport()
        expect(second.summary).toMatchObject({ completed: 3, reused: 2 })
        expect(jobOf(second, "open").reusedFrom).toBeUndefined()
        const take1Sha = yield* lastFrameSha(takesDirectory, takesReport, "door~take=1", `${root}/t1.png`)
        expect(take1Sha).not.toBe(take2Sha)
        expect(jobOf(second, "open").frames?.[0]).toMatchObject({ fromJob: "door~take=1", sha256: take1Sha })
        expect((yield* api.stats).submissions).toBe(4)

        // A pick of a take the manifest no longer renders is refused at the link, and nothing is sent.
        yield* fs.writeFileString(
          `${root}/stale.yaml`,
          `run: ${takesReport.run.id}\npicks:\n  door: { job: "door~take=3", seed: 5, take: 3 }\n`
        )
        const before = (yield* api.stats).requests.length
        const stale = yield* shotlist("run", "board.yaml", "--picks", "stale.yaml", ...common)
        expect(stale.code, stale.stderr).toBe(2)
        expect(stale.stderr).toContain(
          `shot "door" renders 2 videos (door~take=1, door~take=2) and stale.yaml picks "door~take=3", which the manifest no longer renders`
        )
        expect((yield* api.stats).requests.length).toBe(before)
      }).pipe(Effect.provide(nodeContext)),
    120_000
  )

  it.scopedLive(
    "killed before the follower's submit, the resume keeps the pick it started with",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-chain-resume-" })
        yield* fs.writeFileString(`${root}/board.yaml`, BOARD)
        const api = yield* testEmulator()
        const common = ["--base-url", api.baseUrl, "--rpm", "6000", "--expect", "1s"]
        const takes = yield* runCli(
          ["run", `${root}/board.yaml`, "--only", "door", "--out", `${root}/a`, ...common],
          env
        )
        expect(takes.exitCode, takes.stderr).toBe(0)
        expect((yield* runCli(["pick", `${root}/a`, "door=door~take=1"])).exitCode).toBe(0)

        // door's takes are reused, so the first submit is open's.
        const killed = yield* runChildCli(
          ["run", `${root}/board.yaml`, "--out", `${root}/b`, "--picks", `${root}/a/picks.yaml`, ...common],
          { ...env, SHOTLIST_CRASH_AT: "before-submit:1" }
        )
        expect(killed.signal, killed.stderr).toBe("SIGKILL")
        expect((yield* api.stats).submissions).toBe(2)

        // The pick changes meanwhile; the run goes on with the one it planned.
        expect((yield* runCli(["pick", `${root}/a`, "door=door~take=2"])).exitCode).toBe(0)
        const resumed = yield* runCli(["resume", `${root}/b`, "--picks", `${root}/a/picks.yaml`, ...common], env)
        expect(resumed.exitCode, resumed.stderr).toBe(0)
        const report = yield* readReport(`${root}/b/report.json`)
        const takesReport = yield* readReport(`${root}/a/report.json`)
        const take1Sha = yield* lastFrameSha(`${root}/a`, takesReport, "door~take=1", `${root}/t1.png`)
        expect(jobOf(report, "open")).toMatchObject({ status: "completed" })
        expect(jobOf(report, "open").frames?.[0]).toMatchObject({ fromJob: "door~take=1", sha256: take1Sha })
      }).pipe(Effect.provide(nodeContext)),
    120_000
  )
})
