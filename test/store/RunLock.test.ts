import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Scope } from "effect"
import { build } from "esbuild"
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { acquireRunLock } from "../../src/store/RunLock.js"

/** What a lock of this machine's current boot says; /proc is there on the Linux CI. */
const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()
/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
const startTimeOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!
}
/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid

const writeLock = (dir: string, holder: Record<string, unknown>) =>
  Effect.flatMap(
    FileSystem.FileSystem,
    (fs) =>
      fs.writeFileString(
        `${dir}/.lock`,
        JSON.stringify({ host: hostname(), since: "2026-01-01T00:00:00.000Z", ...holder }) + "\n"
      )
  )
const lockPid = (dir: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(`${dir}/.lock`)).pipe(
    Effect.map((text) => (JSON.parse(text) as { pid: number }).pid)
  )

describe("the run lock", () => {
  it.scopedLive("20 concurrent takeovers of a dead process's lock: exactly one wins, every round; the others are RunLocked naming it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      for (let round = 0; round < 15; round++) {
        const dir = yield* fs.makeTempDirectoryScoped()
        yield* writeLock(dir, { pid: deadPid() })
        // Every winner holds its lock until all have tried.
        const holding = yield* Scope.make()
        const outcomes = yield* Effect.forEach(
          Array.from({ length: 20 }),
          // Jitter of a few file-system steps, so the contenders interleave as two `resume`s do.
          () =>
            Effect.repeatN(fs.exists(dir), Math.floor(Math.random() * 4)).pipe(
              Effect.zipRight(Effect.either(acquireRunLock(dir).pipe(Scope.extend(holding))))
            ),
          { concurrency: "unbounded" }
        )
        const winners = outcomes.filter(Either.isRight).length
        expect(winners, `round ${round}`).toBe(1)
        for (const outcome of outcomes) {
          if (Either.isLeft(outcome)) {
            expect(outcome.left._tag).toBe("RunLocked")
            expect(outcome.left.message).toContain(`pid ${process.pid} on ${hostname()}`)
          }
        }
        expect(yield* lockPid(dir)).toBe(process.pid)
        yield* Scope.close(holding, Exit.void)
        expect(yield* fs.readDirectory(dir), "the winner leaves nothing behind").toEqual([])
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("10 processes take over a dead process's lock at once: exactly one wins, every round", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const bundle = join(yield* fs.makeTempDirectoryScoped({ directory: tmpdir() }), "contender.mjs")
      yield* Effect.promise(() =>
        build({
          entryPoints: [fileURLToPath(new URL("LockContender.ts", import.meta.url))],
          outfile: bundle,
          bundle: true,
          platform: "node",
          format: "esm",
          // As scripts/build.mjs: CommonJS dependencies require node's modules.
          banner: {
            js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"
          },
          logLevel: "warning"
        })
      )
      for (let round = 0; round < 4; round++) {
        const dir = yield* fs.makeTempDirectoryScoped()
        yield* writeLock(dir, { pid: deadPid() })
        const outcomes = yield* Effect.promise(() => contendInProcesses(bundle, dir, 10))
        const winners = outcomes.filter((outcome) => outcome.won)
        expect(winners, `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1)
        for (const loser of outcomes.filter((outcome) => !outcome.won)) {
          expect(loser.tag).toBe("RunLocked")
          expect(loser.message).toContain(`pid ${winners[0]!.pid} on ${hostname()}`)
        }
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a lock whose pid is alive but started at another time (a reused pid) is taken over; so is one of another boot", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* writeLock(dir, { pid: process.pid, bootId, startTime: "1" })
      yield* Effect.scoped(
        Effect.zipRight(
          acquireRunLock(dir),
          Effect.flatMap(lockPid(dir), (pid) => Effect.sync(() => expect(pid).toBe(process.pid)))
        )
      )
      expect(yield* fs.exists(`${dir}/.lock`)).toBe(false)

      yield* writeLock(dir, {
        pid: process.pid,
        bootId: "00000000-0000-0000-0000-000000000000",
        startTime: startTimeOf(process.pid)
      })
      yield* Effect.scoped(acquireRunLock(dir))
      expect(yield* fs.exists(`${dir}/.lock`)).toBe(false)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a takeover claim left by a taker that died mid-takeover is taken over too, and nothing is left behind", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      yield* writeLock(dir, { pid: deadPid() })
      const stale = yield* fs.readFileString(`${dir}/.lock`)
      const claim = `${dir}/.lock.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 16)}`
      yield* fs.writeFileString(
        claim,
        JSON.stringify({ pid: deadPid(), host: hostname(), since: "2026-01-01T00:00:01.000Z" })
      )
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* acquireRunLock(dir)
          expect(yield* lockPid(dir)).toBe(process.pid)
          expect(yield* fs.readDirectory(dir)).toEqual([".lock"])
        })
      )
      expect(yield* fs.readDirectory(dir)).toEqual([])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a live holder keeps its lock: the second is RunLocked, told how to clear a stale lock by hand, and the lock is untouched", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" })
      yield* Effect.addFinalizer(() => Effect.sync(() => sleeper.kill("SIGKILL")))
      const pid = sleeper.pid!
      yield* writeLock(dir, { pid, bootId, startTime: startTimeOf(pid) })
      const before = yield* fs.readFileString(`${dir}/.lock`)
      const locked = yield* Effect.flip(Effect.scoped(acquireRunLock(dir)))
      expect(locked._tag).toBe("RunLocked")
      expect(locked.message).toContain(`pid ${pid} on ${hostname()}`)
      expect(locked.message).toContain(`remove ${dir}/.lock`)
      expect(yield* fs.readFileString(`${dir}/.lock`)).toBe(before)
      expect(yield* fs.readDirectory(dir)).toEqual([".lock"])
    }).pipe(Effect.provide(NodeContext.layer)))
})

interface ContenderOutcome {
  readonly won: boolean
  readonly pid: number
  readonly tag?: string
  readonly message?: string
}

/** Starts `count` contender processes, lets them all go at once, collects each outcome while the winner still holds. */
const contendInProcesses = async (bundle: string, dir: string, count: number) => {
  const children = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, [bundle, dir], { stdio: ["pipe", "pipe", "inherit"] })
    const lines = createInterface({ input: child.stdout })
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()))
    const next = () =>
      Promise.race([
        new Promise<string>((resolve) => lines.once("line", resolve)),
        exited.then(() => Promise.reject(new Error("a contender ended early")))
      ])
    return { child, next, exited }
  })
  await Promise.all(children.map(({ next }) => next()))
  const outcomes = children.map(({ next }) => next())
  for (const { child } of children) child.stdin.write("go\n")
  const results = (await Promise.all(outcomes)).map((line) => JSON.parse(line) as ContenderOutcome)
  for (const { child } of children) child.stdin.end()
  await Promise.all(children.map(({ exited }) => exited))
  return results
}
