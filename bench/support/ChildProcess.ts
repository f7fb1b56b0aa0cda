import { Effect, Fiber, Schedule } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { repoRoot } from "./BenchResult.js"

export interface ChildFigures {
  readonly code: number | null
  readonly wallMs: number
  /** the child's own peak resident set (VmHWM), not the benchmark's */
  readonly peakRssBytes: number
  /** user + system CPU of the child, in ms */
  readonly cpuMs: number
  readonly stdout: string
  readonly stderrTail: string
}

const CLOCK_TICKS_PER_SECOND = 100

/** VmHWM and utime + stime of a live process, from /proc (Linux). */
const readProc = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  const ticks = Number(fields[11]) + Number(fields[12])
  return { peakRssBytes: hwmKb * 1024, cpuMs: (ticks / CLOCK_TICKS_PER_SECOND) * 1000 }
}

let built = false
/** The bundle bin/shotlist.js runs, built from the current source once per benchmark process. */
const ensureBundle = () => {
  if (built) return
  execFileSync(process.execPath, [join(repoRoot, "scripts/build.mjs")], { cwd: repoRoot, stdio: "inherit" })
  built = true
}

/**
 * Runs the real command line (`node bin/shotlist.js …`) as its own process,
 * so its memory and CPU are measured apart from the emulator and the
 * benchmark; /proc is read every 20 ms while it lives.
 */
export const runShotlist = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function*() {
    ensureBundle()
    const startedMs = performance.now()
    const child = spawn(process.execPath, [join(repoRoot, "bin/shotlist.js"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
    let last = { peakRssBytes: 0, cpuMs: 0 }
    const sample = Effect.sync(() => {
      try {
        // A zombie (exited, not yet reaped) has no memory map left: keep the highest figures seen.
        const now = readProc(child.pid ?? 0)
        last = { peakRssBytes: Math.max(last.peakRssBytes, now.peakRssBytes), cpuMs: Math.max(last.cpuMs, now.cpuMs) }
      } catch {
        // gone between samples
      }
    })
    const sampler = yield* Effect.fork(Effect.repeat(sample, Schedule.spaced("20 millis")))
    const code = yield* Effect.async<number | null>((resume) => {
      child.on("exit", (exitCode) => resume(Effect.succeed(exitCode)))
      return Effect.sync(() => child.kill("SIGKILL"))
    })
    yield* Fiber.interrupt(sampler)
    return { code, wallMs: performance.now() - startedMs, ...last, stdout, stderrTail: stderr } satisfies ChildFigures
  })
