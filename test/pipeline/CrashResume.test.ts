import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Schedule, Schema } from "effect"
import { createHash } from "node:crypto"
import { noFaults } from "../../src/emulator/Emulator.js"
import { Report } from "../../src/report/Report.js"
import { journaledRun, readJournal } from "../../src/store/JournalReader.js"
import { runChildCli } from "../support/ChildCli.js"
import { TEST_KEY, testEmulator } from "../support/TestRun.js"

const MANIFEST = "test/fixtures/runs/twenty-seeds.yaml"
const JOBS = 20
const decodeReport = Schema.decodeUnknownSync(Schema.parseJson(Report))

/** Emulator submissions per seed: every job of the fixture has its own seed. */
const submissionsBySeed = (submitted: ReadonlyArray<{ readonly body: unknown }>) => {
  const counts = new Map<number, number>()
  for (const { body } of submitted) {
    const seed = (body as { readonly seed: number }).seed
    counts.set(seed, (counts.get(seed) ?? 0) + 1)
  }
  return counts
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** Every job completed, each file under videos/ whole and as the report says, nothing else there. */
const expectWholeRun = (runDirectory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const report = decodeReport(yield* fs.readFileString(path.join(runDirectory, "report.json")))
    expect(report.summary).toMatchObject({ total: JOBS, completed: JOBS, failed: 0, skipped: 0 })
    const files = (yield* fs.readDirectory(path.join(runDirectory, "videos"))).sort()
    expect(files).toEqual(report.jobs.map((job) => `${job.id}.mp4`).sort())
    for (const job of report.jobs) {
      const bytes = yield* fs.readFile(path.join(runDirectory, job.output!.path))
      expect(bytes.length).toBe(job.output!.bytes)
      expect(sha256(bytes)).toBe(job.output!.sha256)
    }
    expect(yield* fs.exists(path.join(runDirectory, ".lock"))).toBe(false)
    return report
  })

describe("crash safety, with a real process killed and resumed", () => {
  it.scopedLive(
    "a 20-job run SIGKILLed at 5 points, resumed each time: all complete, one submission per job except those the report names",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const emulator = yield* testEmulator({ timeScale: 0.4, workers: 8 })
        const runDirectory = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-crash-" }), "run")
        const env = { SEGMIND_API_KEY: TEST_KEY }
        const common = ["--base-url", emulator.baseUrl, "--concurrency", "4", "--rpm", "6000", "--expect", "0.6s"]

        const killedAt: Array<{ point: string; submissions: number; downloaded: number }> = []
        const crashAt = (point: string, args: ReadonlyArray<string>) =>
          Effect.gen(function*() {
            const outcome = yield* runChildCli(args, { ...env, SHOTLIST_CRASH_AT: point })
            expect(outcome.signal, `${point}: ${outcome.stderr}`).toBe("SIGKILL")
            const journal = journaledRun((yield* readJournal(path.join(runDirectory, "journal.jsonl"))).events)
            const videos = (yield* fs.readDirectory(path.join(runDirectory, "videos"))).filter((name) =>
              !name.endsWith(".mp4")
            )
            expect(videos, "nothing but whole videos under videos/").toEqual([])
            killedAt.push({
              point,
              submissions: (yield* emulator.stats).submissions,
              downloaded: [...journal.jobs.values()].filter((job) => job.downloaded !== undefined).length
            })
          })
        const resumeArgs = ["resume", runDirectory, ...common]

        yield* crashAt("before-submit:1", ["run", MANIFEST, "--out", runDirectory, ...common])
        expect((yield* emulator.stats).submissions).toBe(0)
        yield* crashAt("after-submit:3", resumeArgs)
        yield* crashAt("mid-download:2", resumeArgs)
        yield* crashAt("after-download:3", resumeArgs)
        yield* crashAt("before-report:1", resumeArgs)
        expect(yield* fs.exists(path.join(runDirectory, "report.json"))).toBe(false)

        // The submits on the wire at a kill may have been taken: a plain resume holds them and says how to send them.
        const plain = yield* runChildCli(resumeArgs, env)
        const held = decodeReport(yield* fs.readFileString(path.join(runDirectory, "report.json"))).jobs.filter((job) =>
          job.error?.tag === "SubmitUncertain"
        )
        expect(held.length, plain.stderr).toBeGreaterThanOrEqual(1)
        expect(plain.code, plain.stderr).toBe(1)
        expect(plain.stdout).toContain(`shotlist resume ${runDirectory} --resend-uncertain`)
        const last = yield* runChildCli([...resumeArgs, "--resend-uncertain"], env)
        expect(last.code, last.stderr).toBe(0)
        const report = yield* expectWholeRun(runDirectory)
        expect(report.run.resumedAt).toHaveLength(6)
        expect(report.jobs.filter((job) => job.resubmitted !== undefined).map((job) => job.id).sort()).toEqual(
          held.map((job) => job.id).sort()
        )

        // The journal could not know the ids of submits that were on the wire at a kill: the report names each of them.
        const stats = yield* emulator.stats
        const perSeed = submissionsBySeed(stats.submitted)
        const named = report.jobs.filter((job) => job.resubmitted !== undefined)
        // A named job's earlier submit may or may not have reached the API before the kill: 1 or 2, never more.
        for (const job of report.jobs) {
          const seen = perSeed.get(job.seed)
          if (job.resubmitted === undefined) expect(seen, `${job.id} submissions`).toBe(1)
          else expect([1, 2], `${job.id} submissions`).toContain(seen)
        }
        for (const job of named) expect(job.resubmitted!.reason).toMatch(/may have been billed/)
        expect(stats.submissions).toBeLessThanOrEqual(JOBS + named.length)
        expect(named.length).toBeGreaterThanOrEqual(1)
        console.info(
          `kill-and-resume: ${
            JSON.stringify(killedAt)
          }; emulator submissions ${stats.submissions} for ${JOBS} jobs (${named.length} named as sent again); completed ${report.summary.completed}`
        )
      }).pipe(Effect.provide(NodeContext.layer)),
    180_000
  )

  it.scopedLive(
    "SIGINT mid-run: exit 130, the report lists in-flight request ids, resume finishes without submitting them again",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const emulator = yield* testEmulator({ timeScale: 1, workers: 8 })
        const runDirectory = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-sigint-" }), "run")
        const env = { SEGMIND_API_KEY: TEST_KEY }
        const common = ["--base-url", emulator.baseUrl, "--concurrency", "4", "--rpm", "6000", "--expect", "1.5s"]
        const journalFile = path.join(runDirectory, "journal.jsonl")

        // Interrupt once four requests are accepted and none has ended.
        const interruptWhenInFlight = (pid: number) =>
          Effect.gen(function*() {
            const submitted = yield* fs.readFileString(journalFile).pipe(
              Effect.map((text) => text.split("\n").filter((line) => line.includes("\"_tag\":\"submitted\"")).length),
              Effect.orElseSucceed(() => 0)
            )
            if (submitted < 4) return yield* Effect.fail("not yet")
            process.kill(pid, "SIGINT")
          }).pipe(Effect.retry(Schedule.spaced(Duration.millis(20))), Effect.orDie)

        const interrupted = yield* runChildCli(
          ["run", MANIFEST, "--out", runDirectory, ...common],
          env,
          interruptWhenInFlight
        )
        expect(interrupted.code, interrupted.stderr).toBe(130)
        expect(interrupted.stderr).toContain(`shotlist resume ${runDirectory}`)
        const partial = decodeReport(yield* fs.readFileString(path.join(runDirectory, "report.json")))
        const running = partial.jobs.filter((job) => job.status === "running")
        expect(running.length).toBeGreaterThanOrEqual(4)
        for (const job of running) expect(job.requestId).toMatch(/.+/)
        expect(partial.summary.running).toBe(running.length)
        const submittedBefore = (yield* emulator.stats).submissions
        // Every submit the API took has its id in the report: none is lost in between.
        expect(partial.jobs.filter((job) => job.requestId !== undefined).length).toBe(submittedBefore)

        const resumed = yield* runChildCli(["resume", runDirectory, ...common], env)
        expect(resumed.code, resumed.stderr).toBe(0)
        const report = yield* expectWholeRun(runDirectory)
        for (const job of running) expect(report.jobs.find((j) => j.id === job.id)?.requestId).toBe(job.requestId)
        expect(report.jobs.filter((job) => job.resubmitted !== undefined)).toEqual([])
        const stats = yield* emulator.stats
        expect(stats.submissions).toBe(JOBS)
        expect([...submissionsBySeed(stats.submitted).values()].every((n) => n === 1)).toBe(true)
      }).pipe(Effect.provide(NodeContext.layer)),
    120_000
  )

  it.scopedLive(
    "a second Ctrl-C exits at once; the journal stays consistent and resume finishes the run",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        // The first four submits answer after 3 s: the first Ctrl-C waits for them, the second does not.
        const emulator = yield* testEmulator({
          timeScale: 1,
          workers: 8,
          faults: {
            ...noFaults,
            slowDelay: Duration.seconds(3),
            script: [1, 2, 3, 4].map((call) => ({ endpoint: "submit" as const, call, fault: "slow" as const }))
          }
        })
        const runDirectory = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-sigint2-" }), "run")
        const env = { SEGMIND_API_KEY: TEST_KEY }
        const common = ["--base-url", emulator.baseUrl, "--concurrency", "4", "--rpm", "6000", "--expect", "1.5s"]
        const journalFile = path.join(runDirectory, "journal.jsonl")
        const interruptTwice = (pid: number) =>
          Effect.gen(function*() {
            const text = yield* fs.readFileString(journalFile).pipe(Effect.orElseSucceed(() => ""))
            if (text.split("\"_tag\":\"submitting\"").length < 5) return yield* Effect.fail("not yet")
            process.kill(pid, "SIGINT")
            // More than a second apart: closer, it is one stop delivered twice.
            yield* Effect.sleep(Duration.millis(1500))
            process.kill(pid, "SIGINT")
          }).pipe(Effect.retry(Schedule.spaced(Duration.millis(10))), Effect.orDie)

        const stopped = yield* runChildCli(["run", MANIFEST, "--out", runDirectory, ...common], env, interruptTwice)
        expect(stopped.code, stopped.stderr).toBe(130)
        expect(stopped.stderr).toContain("exiting at once")
        // Every line whole (a torn last one would be cut off by resume, a damaged one would fail here).
        const contents = yield* readJournal(journalFile)
        expect(contents.events.filter((event) => event._tag === "submitting")).toHaveLength(4)

        // The four submits cut off have no recorded id: held by a plain resume, sent again and named on request.
        const plain = yield* runChildCli(["resume", runDirectory, ...common], env)
        expect(plain.code, plain.stderr).toBe(1)
        const held = decodeReport(yield* fs.readFileString(path.join(runDirectory, "report.json"))).jobs.filter((job) =>
          job.error?.tag === "SubmitUncertain"
        )
        expect(held).toHaveLength(4)
        const resumed = yield* runChildCli(["resume", runDirectory, "--resend-uncertain", ...common], env)
        expect(resumed.code, resumed.stderr).toBe(0)
        yield* expectWholeRun(runDirectory)
        // No other job is sent twice.
        const report = decodeReport(yield* fs.readFileString(path.join(runDirectory, "report.json")))
        const perSeed = submissionsBySeed((yield* emulator.stats).submitted)
        expect(report.jobs.filter((job) => job.resubmitted !== undefined)).toHaveLength(4)
        for (const job of report.jobs) {
          expect(perSeed.get(job.seed)).toBeLessThanOrEqual(job.resubmitted === undefined ? 1 : 2)
        }
      }).pipe(Effect.provide(NodeContext.layer)),
    120_000
  )
})
