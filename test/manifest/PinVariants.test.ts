import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { parse } from "yaml"
import { pinManifest } from "../../src/manifest/ManifestPin.js"

describe("pinning a pick of a prompt sweep", () => {
  it("writes the picked variant's text as the shot's prompt, not its name; a swept frame as written", () => {
    const text = `version: 1
shots:
  - id: sea
    sweep:
      prompt:
        calm: A calm sea at dawn.
        storm: A storm over the sea.
      first_frame: [stills/a.png, stills/b.png]
`
    const pinned = pinManifest("board.yaml", text, [{
      shot: "sea",
      job: "sea~prompt=storm~first_frame=b",
      seed: 12,
      values: { prompt: "storm", first_frame: "stills/b.png" }
    }], "20261126T050000Z")
    expect(Either.isRight(pinned)).toBe(true)
    const edited = Either.getOrThrow(pinned)
    expect(parse(edited)).toEqual({
      version: 1,
      shots: [{ id: "sea", seed: 12, prompt: "A storm over the sea.", first_frame: "stills/b.png" }]
    })
    expect(edited).toContain("# shotlist pin: kept sea~prompt=storm~first_frame=b")
  })
})
