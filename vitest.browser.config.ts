import { defineConfig } from "vitest/config"

/** The browser suite: needs Chromium (`apt-get install -y chromium`), so it runs apart from `npm test`. */
export default defineConfig({
  test: {
    include: ["test/**/*.browser.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
