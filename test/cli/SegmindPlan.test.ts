import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { resolveRunSettings, type SettingsDefaults, type SettingsFlags } from "../../src/cli/RunSettings.js"
import type { SegmindPlan } from "../../src/domain/SegmindPlan.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"

const flags = (given: { readonly rpm?: number; readonly plan?: SegmindPlan }): SettingsFlags => ({
  concurrency: Option.none(),
  rpm: Option.fromNullable(given.rpm),
  plan: Option.fromNullable(given.plan),
  retries: Option.none(),
  retryBase: Option.none(),
  retryCap: Option.none(),
  jobDeadline: Option.none(),
  deadline: Option.none(),
  expect: Option.none(),
  pollVia: "auto"
})

const manifest = (given: Partial<SettingsDefaults>): SettingsDefaults => ({
  concurrency: undefined,
  rpm: undefined,
  retry: undefined,
  ...given
})

const settingsOf = (flagged: Parameters<typeof flags>[0], written: Partial<SettingsDefaults>, onEmulator = false) =>
  resolveRunSettings(flags(flagged), manifest(written), onEmulator).pipe(
    Effect.map(({ concurrency, rpm }) => ({ rpm, concurrency }))
  )

describe("the plan's own limit is the default budget", () => {
  it.effect("nothing said: Pro's 50 calls a minute, and the ~30 jobs in flight that keep it busy with ~100 s jobs", () =>
    Effect.gen(function*() {
      expect(yield* settingsOf({}, {})).toEqual({ rpm: 50, concurrency: 34 })
    }))

  it.effect("--plan free or the manifest's plan: free: 5 a minute, 4 in flight", () =>
    Effect.gen(function*() {
      expect(yield* settingsOf({ plan: "free" }, {})).toEqual({ rpm: 5, concurrency: 4 })
      expect(yield* settingsOf({}, { plan: "free" })).toEqual({ rpm: 5, concurrency: 4 })
    }))

  it.effect("a flag over the manifest; an rpm over a plan where both are said at the same level", () =>
    Effect.gen(function*() {
      expect((yield* settingsOf({ plan: "pro" }, { plan: "free" })).rpm).toBe(50)
      expect((yield* settingsOf({ plan: "free" }, { rpm: 200 })).rpm).toBe(5)
      expect((yield* settingsOf({ rpm: 200, plan: "free" }, {})).rpm).toBe(200)
      expect((yield* settingsOf({}, { rpm: 200, plan: "free" })).rpm).toBe(200)
      expect((yield* settingsOf({ rpm: 7 }, { plan: "pro" })).rpm).toBe(7)
    }))

  it.effect("the emulator keeps its own rpm, unless a plan or an rpm is said", () =>
    Effect.gen(function*() {
      expect((yield* settingsOf({}, {}, true)).rpm).toBe(600)
      expect((yield* settingsOf({ plan: "free" }, {}, true)).rpm).toBe(5)
      expect((yield* settingsOf({}, { plan: "free" }, true)).rpm).toBe(5)
    }))
})

const loadText = (text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    yield* fs.writeFileString(`${dir}/board.yaml`, text)
    return yield* loadManifest(`${dir}/board.yaml`)
  })

describe("plan: in the manifest", () => {
  it.scoped("free or pro is read", () =>
    Effect.gen(function*() {
      const loaded = yield* loadText("version: 1\nplan: free\nshots:\n  - id: a\n    prompt: x\n")
      expect(loaded.manifest.plan).toBe("free")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("another value is an error at its line and column, with a \"did you mean\"", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(loadText("version: 1\nplan: Pro+\nshots:\n  - id: a\n    prompt: x\n"))
      const issues = error._tag === "ManifestInvalid" ? error.issues : []
      expect(issues.map((i) => ({ line: i.line, column: i.column, path: i.path, message: i.message }))).toEqual([{
        line: 2,
        column: 7,
        path: "plan",
        message: "plan must be free or pro; for another limit write rpm: (got \"Pro+\"; did you mean \"pro\"?)"
      }])
    }).pipe(Effect.provide(NodeContext.layer)))
})
