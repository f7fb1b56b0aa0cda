import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import { runChildCli } from "../support/ChildCli.js"
import { loopbackServer } from "../support/LoopbackServer.js"

/** A port nothing listens on a moment from now: one the system handed out, then closed. */
const freePort = Effect.scoped(
  Effect.map(loopbackServer((_, response) => response.end()), (server) => Number(new URL(server.url).port))
)

describe("shotlist emulator on the command line", () => {
  it.scopedLive("a busy port is one line naming --port, exit 2, no stack trace", () =>
    Effect.gen(function*() {
      const busy = yield* loopbackServer((_, response) => response.end())
      const port = new URL(busy.url).port
      const outcome = yield* runChildCli(["emulator", "--port", port], {})
      expect(outcome.code).toBe(2)
      expect(outcome.stderr).toBe(
        `shotlist: port ${port} on 127.0.0.1 is in use (another emulator?): stop what holds it, or choose another with --port (0 picks a free one)\n`
      )
    }))

  it.scopedLive("fault rates outside 0..1 are refused with exit 2, naming the flag", () =>
    Effect.gen(function*() {
      for (const [flag, value] of [["--fail-rate", "1.5"], ["--drop-rate", "-0.1"], ["--burst-rate", "2"]] as const) {
        const outcome = yield* runChildCli(["emulator", "--port", "0", flag, value], {})
        expect(outcome.code, flag).toBe(2)
        expect(outcome.stderr).toBe(
          `shotlist: ${flag} is a probability from 0 to 1 (got ${Number(value)}); e.g. 0.1 for one call in ten\n`
        )
      }
    }))

  it.scopedLive("--host serves on the interface it names, and the URLs it gives name that address", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const base = `http://127.0.0.2:${port}`
      let stats = 0
      const outcome = yield* runChildCli(
        ["emulator", "--host", "127.0.0.2", "--port", String(port)],
        {},
        (pid) =>
          Effect.tryPromise(() => fetch(`${base}/_emulator/stats`)).pipe(
            Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(30)))),
            Effect.tap((response) => Effect.sync(() => void (stats = response.status))),
            Effect.ignore,
            Effect.zipRight(Effect.sync(() => process.kill(pid, "SIGTERM")))
          )
      )
      expect(stats).toBe(200)
      expect(outcome.stdout).toContain(`Segmind emulator on ${base}\n`)
      expect(outcome.stdout).toContain(`--base-url ${base}`)
    }))

  it.scopedLive("a --host that is no address of this machine is one line, exit 2", () =>
    Effect.gen(function*() {
      const outcome = yield* runChildCli(["emulator", "--host", "192.0.2.1", "--port", "0"], {})
      expect(outcome.code).toBe(2)
      expect(outcome.stderr).toMatch(/^shotlist: --host 192\.0\.2\.1 is no address of this machine: [^\n]*\n$/)
    }))
})
