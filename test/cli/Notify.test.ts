import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { runChildCli } from "../support/ChildCli.js"
import { loopbackServer } from "../support/LoopbackServer.js"
import { FAST_RUN, nodeContext, TEST_KEY, testEmulator } from "../support/TestRun.js"

const TOKENS = ["s3cretPathToken", "s3cretQueryToken", "s3cretPassword"]

/** A webhook URL of the kind chat services hand out: the token in the path, the query and the userinfo. */
const hookUrl = (origin: string) => {
  const url = new URL(`${origin}/services/T0001/B0002/${TOKENS[0]}?token=${TOKENS[1]}`)
  url.username = "bot"
  url.password = TOKENS[2]!
  return url.href
}

interface Received {
  readonly path: string
  readonly authorization: string | undefined
  readonly body: Record<string, unknown>
}

/** A webhook on loopback that records what it is sent and answers `status`; `undefined` never answers. */
const webhook = (status: number | undefined) =>
  Effect.gen(function*() {
    const received: Array<Received> = []
    const server = yield* loopbackServer((request: IncomingMessage, response: ServerResponse) => {
      let text = ""
      request.on("data", (chunk: Buffer) => (text += chunk.toString()))
      request.on("end", () => {
        received.push({
          path: request.url ?? "",
          authorization: request.headers.authorization,
          body: JSON.parse(text) as Record<string, unknown>
        })
        if (status !== undefined) response.writeHead(status).end("ok")
      })
    })
    return { url: server.url, received }
  })

/** Everything a run wrote that is text: the journal, the reports, the manifest copy. */
const writtenText = (runDirectory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const texts = yield* Effect.forEach(
      ["journal.jsonl", "report.json", "report.html", "manifest.yaml"],
      (name) => fs.readFileString(`${runDirectory}/${name}`).pipe(Effect.orElseSucceed(() => ""))
    )
    return texts.join("\n")
  })

/** Renders a manifest on a fast test emulator with `--notify URL`, into a fresh folder. */
const renderNotifying = (manifest: string, notify: string, extra: ReadonlyArray<string> = [], key = TEST_KEY) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const emulator = yield* testEmulator()
    const out = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-notify-" }), "run")
    const outcome = yield* runChildCli(
      [
        "run",
        manifest,
        "--base-url",
        emulator.baseUrl,
        "--out",
        out,
        ...FAST_RUN,
        "--notify",
        notify,
        ...extra
      ],
      { SEGMIND_API_KEY: key }
    )
    return { outcome, out, written: yield* writtenText(out) }
  })

const expectNoToken = (...texts: ReadonlyArray<string>) => {
  for (const text of texts) for (const token of TOKENS) expect(text).not.toContain(token)
}

const warningLine = (stderr: string) => stderr.split("\n").filter((line) => line.includes("--notify:"))

describe("--notify: a run's summary posted to a webhook", () => {
  it.scopedLive("a completed run posts one summary: text and content for chat, counts, folder; the token is nowhere", () =>
    Effect.gen(function*() {
      const hook = yield* webhook(200)
      const { outcome, out, written } = yield* renderNotifying(
        "test/fixtures/runs/one-blocked.yaml",
        hookUrl(hook.url),
        ["--only", "meadow"]
      )
      expect(outcome.code, outcome.stderr).toBe(0)
      expect(hook.received).toHaveLength(1)
      const [sent] = hook.received
      expect(sent!.path).toBe(`/services/T0001/B0002/${TOKENS[0]}?token=${TOKENS[1]}`)
      expect(sent!.authorization).toBe(`Basic ${Buffer.from(`bot:${TOKENS[2]}`).toString("base64")}`)
      expect(sent!.body).toMatchObject({
        status: "completed",
        exitCode: 0,
        run: { id: "run", name: "one-blocked", directory: out, report: `${out}/report.json` },
        summary: { total: 1, completed: 1, failed: 0, skipped: 0 }
      })
      expect(sent!.body["text"]).toMatch(
        /^shotlist: one-blocked run completed: 1 of 1 jobs in [\d.]+ s, cost \$[\d.]+\. Run folder: /
      )
      expect(sent!.body["content"]).toBe(sent!.body["text"])
      expect(outcome.stderr).toContain(`summary sent to ${hook.url} (--notify)`)
      expectNoToken(outcome.stdout, outcome.stderr, written)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a run with failures says so, names them and the command that renders them again", () =>
    Effect.gen(function*() {
      const hook = yield* webhook(204)
      const { outcome, out } = yield* renderNotifying("test/fixtures/runs/one-blocked.yaml", hookUrl(hook.url))
      expect(outcome.code).toBe(1)
      expect(hook.received).toHaveLength(1)
      const body = hook.received[0]!.body
      expect(body).toMatchObject({
        status: "failed",
        exitCode: 1,
        resume: `shotlist resume ${out} --retry-failed`,
        failedJobs: [{ id: "blocked", tag: "GenerationFailed" }]
      })
      expect(body["text"]).toContain("finished with failures: 2 completed, 1 failed, 0 skipped of 3 jobs")
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a run stopped early by a refused key posts the resume command; its exit code stays 3", () =>
    Effect.gen(function*() {
      const hook = yield* webhook(200)
      const { outcome, out } = yield* renderNotifying(
        "test/fixtures/runs/one-blocked.yaml",
        hookUrl(hook.url),
        [],
        "SG_ffffffffffffffff"
      )
      expect(outcome.code).toBe(3)
      const body = hook.received[0]!.body
      expect(body).toMatchObject({ status: "stopped", exitCode: 3, resume: `shotlist resume ${out}` })
      expect(body["text"]).toContain(`stopped early on Unauthorized`)
      expect(body["text"]).toContain(`carry on with: shotlist resume ${out}`)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("an interrupted run posts what its report says on the way out, and exits 130; its resume posts again", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const hook = yield* webhook(200)
      const out = `${yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-notify-" })}/run`
      const journal = `${out}/journal.jsonl`
      const outcome = yield* runChildCli(
        ["run", "test/fixtures/runs/six-jobs.yaml", "--emulator", "--out", out, "--notify", hookUrl(hook.url)],
        {},
        (pid) =>
          fs.readFileString(journal).pipe(
            Effect.flatMap((text) => (text.includes(`"_tag":"submitted"`) ? Effect.void : Effect.fail("not yet"))),
            Effect.retry(Schedule.spaced(Duration.millis(10))),
            Effect.zipRight(Effect.sync(() => process.kill(pid, "SIGTERM"))),
            Effect.orDie
          )
      )
      expect(outcome.code, outcome.stderr).toBe(130)
      expect(hook.received).toHaveLength(1)
      const body = hook.received[0]!.body
      expect(body).toMatchObject({ status: "interrupted", exitCode: 130, resume: `shotlist resume ${out}` })
      expect(body["summary"]).toMatchObject({ total: 6 })
      expectNoToken(outcome.stdout, outcome.stderr, yield* writtenText(out))

      // resume takes --notify too: its summary covers the whole run
      const resumed = yield* runChildCli(["resume", out, "--notify", hookUrl(hook.url)], {})
      expect(resumed.code, resumed.stderr).toBe(0)
      expect(hook.received).toHaveLength(2)
      expect(hook.received[1]!.body).toMatchObject({ status: "completed", summary: { total: 6, completed: 6 } })
      expectNoToken(resumed.stdout, resumed.stderr, yield* writtenText(out))
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a webhook answering 500 is one warning naming only its origin; the run's exit code is unchanged", () =>
    Effect.gen(function*() {
      const hook = yield* webhook(500)
      const { outcome, written } = yield* renderNotifying(
        "test/fixtures/runs/one-blocked.yaml",
        hookUrl(hook.url),
        ["--only", "meadow"]
      )
      expect(outcome.code).toBe(0)
      expect(hook.received).toHaveLength(1)
      expect(warningLine(outcome.stderr)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^shotlist: \\d\\d:\\d\\d:\\d\\d warning: --notify: ${hook.url} did not take the run's summary \\(it answered HTTP 500\\); the run's outcome is unchanged$`
          )
        )
      ])
      expectNoToken(outcome.stdout, outcome.stderr, written)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a webhook that refuses the connection is one warning; the run's exit code is unchanged", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.scoped(Effect.map(webhook(200), (hook) => hook.url))
      const { outcome, written } = yield* renderNotifying(
        "test/fixtures/runs/one-blocked.yaml",
        hookUrl(closed),
        ["--only", "meadow"]
      )
      expect(outcome.code).toBe(0)
      expect(warningLine(outcome.stderr)).toEqual([
        expect.stringContaining(`${closed} did not take the run's summary (it could not be reached)`)
      ])
      expectNoToken(outcome.stdout, outcome.stderr, written)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a webhook that never answers is given up after 10 s with one warning; the run's exit code is unchanged", () =>
    Effect.gen(function*() {
      const hook = yield* webhook(undefined)
      const { outcome, written } = yield* renderNotifying(
        "test/fixtures/runs/one-blocked.yaml",
        hookUrl(hook.url),
        ["--only", "meadow"]
      )
      expect(outcome.code).toBe(0)
      expect(hook.received).toHaveLength(1)
      expect(warningLine(outcome.stderr)).toEqual([
        expect.stringContaining(`${hook.url} did not take the run's summary (no answer within 10s)`)
      ])
      expectNoToken(outcome.stdout, outcome.stderr, written)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("a --notify that is no http(s) URL is refused before anything is sent, without repeating it", () =>
    Effect.gen(function*() {
      const outcome = yield* runChildCli(
        [
          "run",
          "test/fixtures/runs/one-blocked.yaml",
          "--emulator",
          "--notify",
          `ftp://bot:${TOKENS[2]}@example.invalid/${TOKENS[0]}`
        ],
        {}
      )
      expect(outcome.code).toBe(2)
      expect(outcome.stderr).toContain("shotlist: --notify takes an http:// or https:// URL")
      expectNoToken(outcome.stdout, outcome.stderr)
    }))
})
