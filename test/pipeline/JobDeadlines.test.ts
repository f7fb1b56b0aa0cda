import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { noFaults } from "../../src/emulator/Emulator.js"
import type { ScriptedFault } from "../../src/emulator/EmulatorConfig.js"
import { testEmulator } from "../support/TestRun.js"
import { emulated, jobOf, renderJob } from "./JobHarness.js"

/**
 * The API closes every call for a day (429, Retry-After: 86400) at the scripted call. Its result URL
 * answers 404 until a job ends (the documented shape), so jobs are polled at the status URL.
 */
const closedForADay = (...script: ReadonlyArray<ScriptedFault>) =>
  testEmulator({ resultPending: "404", faults: { ...noFaults, retryAfterSeconds: 86_400, script } })

/** A test that would otherwise sleep for a day fails here instead. */
const withinSeconds = <A, E, R>(seconds: number, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(seconds), onTimeout: () => "still waiting" as const }))

describe("deadlines bound every wait of a job", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped("a 429 on a status call asking to wait past the run's deadline fails the job at once, request id kept", () =>
      Effect.gen(function*() {
        const emulator = yield* closedForADay({ endpoint: "status", call: 1, fault: "429" })
        const { journal, report, tookMs } = yield* withinSeconds(
          60,
          renderJob(emulated(emulator), jobOf("patient"), {
            runDeadline: Duration.seconds(30),
            poll: { pollVia: "status" }
          })
        )
        const requestId = (yield* emulator.stats).submitted[0]!.requestId
        expect(report).toMatchObject({ status: "failed", requestId, error: { tag: "PollDeadlineExceeded" } })
        expect(report.error?.message).toContain("1d")
        expect(report.error?.message).toContain(`request ${requestId} can still be resumed`)
        expect(tookMs).toBeLessThan(10_000)
        expect(journal.find((event) => event._tag === "submitted")).toMatchObject({ requestId })
      }))

    it.scoped("a 429 on a result-URL poll asking to wait past the run's deadline fails the job at once, request id kept", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator({
          generationTimeModel: { kind: "fixed", ms: 2000 },
          faults: { ...noFaults, retryAfterSeconds: 86_400, script: [{ endpoint: "result", call: 1, fault: "429" }] }
        })
        const { report, tookMs } = yield* withinSeconds(
          60,
          renderJob(emulated(emulator), jobOf("patient"), { runDeadline: Duration.seconds(30) })
        )
        const requestId = (yield* emulator.stats).submitted[0]!.requestId
        expect(report).toMatchObject({ status: "failed", requestId, error: { tag: "PollDeadlineExceeded" } })
        expect(report.error?.message).toContain("1d")
        expect(report.error?.message).toContain(`request ${requestId} can still be resumed`)
        expect(tookMs).toBeLessThan(10_000)
        expect((yield* emulator.stats).requestsByEndpoint["status"] ?? 0).toBe(0)
      }))

    it.scoped("a 429 on the result fetch asking to wait past the job's deadline fails the job at once", () =>
      Effect.gen(function*() {
        const emulator = yield* closedForADay({ endpoint: "result", call: 1, fault: "429" })
        const { report, tookMs } = yield* withinSeconds(
          30,
          renderJob(emulated(emulator), jobOf("late-result"), {
            poll: { deadline: Duration.seconds(5), pollVia: "status" }
          })
        )
        const requestId = (yield* emulator.stats).submitted[0]!.requestId
        expect(report).toMatchObject({ status: "failed", requestId, error: { tag: "PollDeadlineExceeded" } })
        expect(report.error?.message).toContain(`request ${requestId} can still be resumed`)
        expect(tookMs).toBeLessThan(5_000)
      }))

    it.scoped("a download still running at the job's deadline fails the job, its request id kept for resume", () =>
      Effect.gen(function*() {
        const emulator = yield* testEmulator({
          faults: {
            ...noFaults,
            slowDelay: Duration.seconds(40),
            script: [{ endpoint: "download", call: 1, fault: "slow" }]
          }
        })
        const { report, tookMs } = yield* withinSeconds(
          60,
          renderJob(emulated(emulator), jobOf("slow-video"), { poll: { deadline: Duration.seconds(3) } })
        )
        const requestId = (yield* emulator.stats).submitted[0]!.requestId
        expect(report).toMatchObject({ status: "failed", requestId, error: { tag: "PollDeadlineExceeded" } })
        expect(report.error?.message).toContain("download")
        expect(tookMs).toBeLessThan(10_000)
      }))

    it.scoped("a submit the API asks to wait a day for, past the run's deadline, is not sent: skipped at once", () =>
      Effect.gen(function*() {
        const emulator = yield* closedForADay({ endpoint: "submit", call: 1, fault: "429" })
        const { report, tookMs } = yield* withinSeconds(
          60,
          renderJob(emulated(emulator), jobOf("unsent"), { runDeadline: Duration.seconds(30) })
        )
        expect(report).toMatchObject({ status: "skipped", error: { tag: "RunDeadlineReached" } })
        expect(report.error?.message).toContain("1d")
        expect(report.requestId).toBeUndefined()
        expect((yield* emulator.stats).submissions).toBe(0)
        expect(tookMs).toBeLessThan(10_000)
      }))
  })
})
