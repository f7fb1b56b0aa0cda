#!/usr/bin/env node
// Runs the bundle (dist/shotlist.mjs, built by scripts/build.mjs): an installed
// package ships only that. In a clone, where src/ is, a bundle older than any
// source file is stale, so the TypeScript itself runs instead, through tsx.
import { existsSync, readdirSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const bundle = join(root, "dist", "shotlist.mjs")
const source = join(root, "src")

const newestSource = (directory) =>
  Math.max(
    0,
    ...readdirSync(directory, { withFileTypes: true }).map((entry) => {
      const path = join(directory, entry.name)
      return entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs
    })
  )

if (!existsSync(source)) {
  if (!existsSync(bundle)) {
    process.stderr.write(`shotlist: ${bundle} is missing: this copy of shotlist is incomplete; install it again\n`)
    process.exit(1)
  }
  await import(pathToFileURL(bundle).href)
} else if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(source)) {
  await import(pathToFileURL(bundle).href)
} else {
  const { register } = await import("tsx/esm/api")
  register()
  await import("../src/main.ts")
}
