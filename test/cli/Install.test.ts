import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import packageJson from "../../package.json" with { type: "json" }
import { nodeContext } from "../support/TestRun.js"

const REPO = fileURLToPath(new URL("../..", import.meta.url))

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a program to its end in `cwd`, its output captured. */
const runIn = (cwd: string, command: string, args: ReadonlyArray<string>) =>
  Effect.async<Ran>((resume) => {
    const child = spawn(command, [...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => void child.kill("SIGKILL"))
  })

describe("installing shotlist", () => {
  it.scopedLive(
    "npm pack, then npm install -g of the tarball into a prefix: `shotlist` runs the bundle from anywhere, without tsx",
    () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const scratch = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-install-" })
        const packs = path.join(scratch, "packs")
        const prefix = path.join(scratch, "prefix")
        const elsewhere = path.join(scratch, "elsewhere")
        yield* fs.makeDirectory(packs)
        yield* fs.makeDirectory(elsewhere)

        const packed = yield* runIn(REPO, "npm", ["pack", "--pack-destination", packs])
        expect(packed.code, packed.stderr).toBe(0)
        const tarball = path.join(packs, `shotlist-${packageJson.version}.tgz`)
        expect(yield* fs.exists(tarball)).toBe(true)

        // The cache npm ci filled serves the dependencies; only what it lacks is fetched.
        const installed = yield* runIn(scratch, "npm", [
          "install",
          "--global",
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
          "--prefix",
          prefix,
          tarball
        ])
        expect(installed.code, installed.stderr).toBe(0)
        const home = path.join(prefix, "lib", "node_modules", "shotlist")
        expect(yield* fs.exists(path.join(home, "dist", "shotlist.mjs"))).toBe(true)
        expect(yield* fs.exists(path.join(home, "src"))).toBe(false)
        // No TypeScript at run time: the installed command works with tsx gone.
        yield* fs.remove(path.join(home, "node_modules", "tsx"), { recursive: true })

        const shotlist = path.join(prefix, "bin", "shotlist")
        const version = yield* runIn(elsewhere, shotlist, ["--version"])
        expect(version.code, version.stderr).toBe(0)
        expect(version.stdout.trim()).toBe(packageJson.version)

        yield* fs.copyFile(path.join(home, "manifests", "example.yaml"), path.join(elsewhere, "example.yaml"))
        const plan = yield* runIn(elsewhere, shotlist, ["plan", "example.yaml"])
        expect(plan.code, plan.stderr).toBe(0)
        expect(plan.stdout).toContain("6 jobs from 3 shots")
        expect(plan.stderr).toBe("")
      }).pipe(Effect.provide(nodeContext)),
    300_000
  )
})
