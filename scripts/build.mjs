// Bundles the command line into dist/shotlist.mjs: one file node loads in a
// fraction of a second, where compiling the TypeScript at each start (tsx)
// takes seconds. bin/shotlist.js runs it while it is newer than src/, and an
// installed package (npm pack runs this through `prepare`) ships only it.
import { build } from "esbuild"
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

const outfile = "dist/shotlist.mjs"

const result = await build({
  entryPoints: ["src/main.ts"],
  outfile,
  write: false,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  // ffmpeg's installer picks its platform package with a computed require: left to node_modules.
  external: ["@ffmpeg-installer/ffmpeg"],
  banner: {
    js:
      "import { createRequire as shotlistCreateRequire } from 'node:module'; const require = shotlistCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})

// Written aside, then renamed over the old bundle: a shotlist starting meanwhile loads one whole file or the other.
mkdirSync(dirname(outfile), { recursive: true })
for (const file of result.outputFiles) {
  const aside = `${file.path}.${process.pid}.tmp`
  writeFileSync(aside, file.contents)
  renameSync(aside, file.path)
}
