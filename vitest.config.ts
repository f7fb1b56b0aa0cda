import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // End-to-end suites start real emulators and ffmpeg; give them room on a 2-core CI box.
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
