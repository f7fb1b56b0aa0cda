// Bundles the command line into dist/shotlist.mjs: one file node loads in a
// fraction of a second, where compiling the TypeScript at each start (tsx)
// takes seconds. bin/shotlist.js runs it while it is newer than src/.
import { build } from "esbuild"

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/shotlist.mjs",
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
