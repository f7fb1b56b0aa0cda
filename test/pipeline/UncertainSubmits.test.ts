import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { noFaults } from "../../src/emulator/Emulator.js"
import type { ScriptedFault } from "../../src/emulator/EmulatorConfig.js"
import { nodeContext, readReport, runCli, TEST_KEY, testEmulator } from "../support/TestRun.js"
import { emulated, isSubmit, jobOf, renderJob, stubApi, withScript } from "./JobHarness.js"

const SIX = "test/fixtures/runs/six-jobs.yaml"
const env = { SEGMIND_API_KEY: TEST_KEY }
const fast = ["--rpm", "6000", "--concurrency", "1", "--expect", "0.3s"]
/** six-jobs.yaml at concurrency 1: its second submit is `lanterns~seed=11`'s. */
const HELD = "lanterns~seed=11"

const submissionsOfSeed = (submitted: ReadonlyArray<{ readonly body: unknown }>, seed: number) =>
  submitted.filter(({ body }) => (body as { readonly seed: number }).seed === seed).length

describe("a submit whose outcome is unknown", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped("a submit the API took but answered 504 (a gateway) is held as SubmitUncertain: sent once, never re-sent", () =>
      Effect.gen(function*() {
        const emulator = yield* withScript({ endpoint: "submit", call: 1, fault: "504-after" })
        const { report, tags } = yield* renderJob(emulated(emulator), jobOf("gateway"))
        expect(report).toMatchObject({ status: "failed", attempts: 1, error: { tag: "SubmitUncertain" } })
        expect(report.error?.message).toContain("HTTP 504")
        expect(report.error?.message).toContain("not re-sent, to avoid paying twice")
        expect((yield* emulator.stats).submissions).toBe(1)
        expect(tags).toEqual(["submitting", "failed", "finished"])
      }))

    it.scoped("a 502 or 500 on submit is uncertain too; only 429, 503 and a refused connection are sent again", () =>
      Effect.gen(function*() {
        for (const status of [502, 500]) {
          const submits: Array<string> = []
          const api = stubApi((url) => {
            if (!isSubmit(url)) return undefined
            submits.push(url)
            return submits.length === 1 ? { status, body: "<html>Bad Gateway</html>" } : undefined
          })
          const { report } = yield* renderJob(api, jobOf(`gateway-${status}`))
          expect(report, `HTTP ${status}`).toMatchObject({ status: "failed", error: { tag: "SubmitUncertain" } })
          expect(submits, `HTTP ${status}`).toHaveLength(1)
        }
        const emulator = yield* withScript(
          { endpoint: "submit", call: 1, fault: "503" },
          { endpoint: "submit", call: 2, fault: "429" }
        )
        const { report } = yield* renderJob(emulated(emulator), jobOf("unavailable"))
        expect(report).toMatchObject({ status: "completed", attempts: 3 })
        expect((yield* emulator.stats).submissions).toBe(1)
      }))
  })

  const heldRun = (script: ReadonlyArray<ScriptedFault>) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const emulator = yield* testEmulator({ faults: { ...noFaults, script } })
      const first = yield* runCli(["run", SIX, "--base-url", emulator.baseUrl, "--out", out, ...fast], env)
      return { out, emulator, first }
    })

  it.scopedLive("a plain resume keeps it held (exit 1) and prints the command; --resend-uncertain sends it again, named as maybe billed twice", () =>
    Effect.gen(function*() {
      const { emulator, first, out } = yield* heldRun([{ endpoint: "submit", call: 2, fault: "504-after" }])
      expect(first.exitCode).toBe(1)
      expect(first.stdout).toContain(HELD)
      expect(first.stdout).toContain(`shotlist resume ${out} --resend-uncertain`)
      expect((yield* readReport(`${out}/report.json`)).jobs.find((job) => job.id === HELD)).toMatchObject({
        status: "failed",
        error: { tag: "SubmitUncertain" }
      })
      expect((yield* emulator.stats).submissions).toBe(6)

      const plain = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(plain.exitCode).toBe(1)
      expect(plain.stdout).toContain(`shotlist resume ${out} --resend-uncertain`)
      expect((yield* emulator.stats).submissions).toBe(6)
      expect((yield* readReport(`${out}/report.json`)).jobs.find((job) => job.id === HELD)).toMatchObject({
        status: "failed",
        error: { tag: "SubmitUncertain" }
      })

      const resend = yield* runCli(["resume", out, "--resend-uncertain", "--base-url", emulator.baseUrl, ...fast], env)
      expect(resend.exitCode).toBe(0)
      const report = yield* readReport(`${out}/report.json`)
      const resent = report.jobs.find((job) => job.id === HELD)!
      expect(resent.status).toBe("completed")
      expect(resent.resubmitted?.reason).toContain("billed twice")
      expect(report.jobs.filter((job) => job.resubmitted !== undefined).map((job) => job.id)).toEqual([HELD])
      expect(resend.stdout).toContain(`${HELD}: ${resent.resubmitted!.reason}`)
      const stats = yield* emulator.stats
      expect(stats.submissions).toBe(7)
      expect(submissionsOfSeed(stats.submitted, 11)).toBe(2)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("its mark survives a resume aborted by a bad key: the next plain resume still holds it, and only --resend-uncertain sends it", () =>
    Effect.gen(function*() {
      const { emulator, first, out } = yield* heldRun([{ endpoint: "submit", call: 2, fault: "drop-after" }])
      expect(first.exitCode).toBe(1)

      const badKey = yield* runCli(
        ["resume", out, "--resend-uncertain", "--base-url", emulator.baseUrl, ...fast],
        { SEGMIND_API_KEY: "SG_ffffffffffffffff" }
      )
      expect(badKey.exitCode).toBe(3)
      expect((yield* emulator.stats).submissions).toBe(6)

      const plain = yield* runCli(["resume", out, "--base-url", emulator.baseUrl, ...fast], env)
      expect(plain.exitCode).toBe(1)
      expect((yield* emulator.stats).submissions).toBe(6)
      expect((yield* readReport(`${out}/report.json`)).jobs.find((job) => job.id === HELD)).toMatchObject({
        status: "failed",
        error: { tag: "SubmitUncertain" }
      })

      const resend = yield* runCli(["resume", out, "--resend-uncertain", "--base-url", emulator.baseUrl, ...fast], env)
      expect(resend.exitCode).toBe(0)
      const resent = (yield* readReport(`${out}/report.json`)).jobs.find((job) => job.id === HELD)!
      expect(resent).toMatchObject({ status: "completed", resubmitted: { reason: expect.stringContaining("billed") } })
      expect(submissionsOfSeed((yield* emulator.stats).submitted, 11)).toBe(2)
    }).pipe(Effect.provide(nodeContext)))
})

describe("resume --help", () => {
  it.effect("names --resend-uncertain", () =>
    Effect.gen(function*() {
      const help = yield* runCli(["resume", "--help"])
      expect(help.stdout).toContain("--resend-uncertain")
    }).pipe(Effect.provide(nodeContext)))
})
