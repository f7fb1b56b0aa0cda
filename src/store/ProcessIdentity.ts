import { FileSystem } from "@effect/platform"
import { Effect } from "effect"

/** Whether a process of this machine is alive (signal 0 only checks). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** This boot of the machine (Linux); a pid recorded in another boot is no process of this one. */
export const currentBootId: Effect.Effect<string | undefined, never, FileSystem.FileSystem> = Effect.flatMap(
  FileSystem.FileSystem,
  (fs) => fs.readFileString("/proc/sys/kernel/random/boot_id")
).pipe(Effect.map((text) => text.trim() || undefined), Effect.orElseSucceed(() => undefined))

/**
 * When `pid` started, in clock ticks since boot: field 22 of /proc/<pid>/stat
 * (Linux). A pid alive with another start time was reused by another process.
 */
export const processStartTime = (pid: number): Effect.Effect<string | undefined, never, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(`/proc/${pid}/stat`)).pipe(
    // Field 2, the command name, may hold spaces and parentheses: count from the last ")", which ends it.
    Effect.map((stat) => stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3]),
    Effect.orElseSucceed(() => undefined)
  )
