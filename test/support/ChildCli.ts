import { Effect, Fiber } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const REPO = fileURLToPath(new URL("../..", import.meta.url))
const BIN = fileURLToPath(new URL("../../bin/shotlist.js", import.meta.url))

export interface ChildOutcome {
  /** null when a signal ended the process */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the real `shotlist` binary as its own process, so it can be killed
 * for real. `whileRunning` gets the child's pid once it started; what it does
 * (send a signal when the journal says so) runs beside the process. It runs
 * in the clone unless `cwd` names another working folder.
 */
export const runChildCli = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  whileRunning: (pid: number) => Effect.Effect<void> = () => Effect.void,
  cwd: string = REPO
) =>
  Effect.gen(function*() {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const ended = Effect.async<ChildOutcome>((resume) => {
      child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
      return Effect.sync(() => child.kill("SIGKILL"))
    })
    const watcher = yield* Effect.fork(whileRunning(child.pid ?? 0))
    const outcome = yield* ended
    yield* Fiber.interrupt(watcher)
    return outcome
  })
