import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import { createHash } from "node:crypto"

/** Four jobs with fixed seeds, so a later run of it can reuse every video of an earlier one. */
export const NIGHTLY_MANIFEST = `version: 1
name: nightly
defaults:
  duration: 4
  resolution: 480p
  generate_audio: false
shots:
  - id: dawn
    prompt: First light over a quiet harbour.
    sweep:
      seed: [1, 2, 3]
  - id: dusk
    prompt: Lamps come on one by one along the quay.
    seed: 4
`
export const NIGHTLY_JOBS = 4

/** Writes the nightly manifest into `directory`; its absolute path. */
export const writeNightlyManifest = (directory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(path.resolve(directory), "nightly.yaml")
    yield* fs.writeFileString(file, NIGHTLY_MANIFEST)
    return file
  })

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** Every entry under `directory` with the sha256 of each file's bytes (a link by its target): equal snapshots, equal trees. */
export const snapshotTree = (directory: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const entries = (yield* fs.readDirectory(directory, { recursive: true })).sort()
    const snapshot: Record<string, string> = {}
    for (const entry of entries) {
      const full = path.join(directory, entry)
      const link = yield* fs.readLink(full).pipe(Effect.option)
      if (link._tag === "Some") {
        snapshot[entry] = `-> ${link.value}`
        continue
      }
      const info = yield* fs.stat(full)
      snapshot[entry] = info.type === "Directory" ? "dir" : sha256(yield* fs.readFile(full))
    }
    return snapshot
  })

/** The run directory a finished `run` names on its summary's `report:` line. */
export const runDirectoryOf = (stdout: string): string => {
  const match = /^report: (.+)\/report\.json$/m.exec(stdout)
  if (match === null) throw new Error(`no report line in:\n${stdout}`)
  return match[1]!
}
