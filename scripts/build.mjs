// Bundles the command line into dist/shotlist.mjs: one file node loads in a
// fraction of a second, where compiling the TypeScript at each start (tsx)
// takes seconds. bin/shotlist.js runs it while it is newer than src/.
import { build } from "esbuild"
import { rmSync } from "node:fs"

// Chunks of an earlier build would otherwise pile up under dist/chunks.
rmSync("dist/chunks", { recursive: true, force: true })

await build({
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
