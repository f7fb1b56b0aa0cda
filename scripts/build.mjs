// Bundles the command line into dist/shotlist.mjs: one file node loads in a
// fraction of a second, where compiling the TypeScript at each start (tsx)
// takes seconds. bin/shotlist.js runs it while it is newer than src/, and an
// installed package (npm pack runs this through `prepare`) ships only dist/.
import { build } from "esbuild"
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

const result = await build({
  // The entry keeps its name (dist/shotlist.mjs); code a command loads with
  // `import()` (the emulator) lands in dist/chunks, parsed only when used.
  entryPoints: { shotlist: "src/main.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  // Fewer bytes for V8 to scan at each start; names are kept, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
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

// Each file written aside, then renamed into place, chunks before the entry: a shotlist starting
// meanwhile loads whole files. Chunks are named by content, so an older entry still finds its own.
const entryLast = [...result.outputFiles].sort((a, b) =>
  Number(a.path.endsWith("shotlist.mjs")) - Number(b.path.endsWith("shotlist.mjs"))
)
for (const file of entryLast) {
  mkdirSync(dirname(file.path), { recursive: true })
  const aside = `${file.path}.${process.pid}.tmp`
  writeFileSync(aside, file.contents)
  renameSync(aside, file.path)
}
