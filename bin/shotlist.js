#!/usr/bin/env node
// Runs the bundle that `npm install` builds (dist/shotlist.mjs, see scripts/build.mjs)
// while it is newer than every source file; otherwise the TypeScript itself, through tsx.
import { existsSync, readdirSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const bundle = join(root, "dist", "shotlist.mjs")

const newestSource = (directory) =>
  Math.max(
    0,
    ...readdirSync(directory, { withFileTypes: true }).map((entry) => {
      const path = join(directory, entry.name)
      return entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs
    })
  )

if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(join(root, "src"))) {
  await import(pathToFileURL(bundle).href)
} else {
  const { register } = await import("tsx/esm/api")
  register()
  await import("../src/main.ts")
}
