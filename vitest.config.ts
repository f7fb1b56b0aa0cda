import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The browser suite needs Debian's Chromium; `npm run test:browser` runs it (and .ci/run does).
    exclude: ["test/**/*.browser.test.ts", "node_modules/**"],
    // End-to-end suites start real emulators and ffmpeg; give them room on a 2-core CI box.
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
