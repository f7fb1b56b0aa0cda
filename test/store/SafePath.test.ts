import { Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import { isJobId } from "../../src/domain/JobId.js"
import { expandJobs } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { isContainedPath, resolveInside } from "../../src/store/SafePath.js"

const MANIFESTS = [
  "test/fixtures/runs/six-jobs.yaml",
  "test/fixtures/runs/twenty-seeds.yaml",
  "test/fixtures/runs/twelve-takes.yaml",
  "manifests/storyboard.yaml",
  "manifests/example.yaml"
]

describe("ids and paths read back from files", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.effect("every id the manifest's expansion builds is a job id; a path, a dot name or a NUL is not", () =>
      Effect.gen(function*() {
        for (const file of MANIFESTS) {
          const jobs = yield* expandJobs(yield* loadManifest(file))
          for (const job of jobs) expect(isJobId(job.id), `${file}: ${job.id}`).toBe(true)
        }
        expect(isJobId("cliff~seed=11~camera_fixed=true")).toBe(true)
        expect(isJobId("wide~aspect_ratio=16x9~take=2")).toBe(true)
        for (const forged of ["../../evil", "a/b", "a\\b", ".hidden", "..", "", "a\0b", "a~../x=1", "-x", "a~b"]) {
          expect(isJobId(forged), forged).toBe(false)
        }
      }))

    it.effect("a path read back resolves under its run directory, or is refused", () =>
      Effect.gen(function*() {
        const path = yield* Path.Path
        expect(resolveInside(path, "/runs/a", "videos/pier.mp4")).toEqual(Either.right("/runs/a/videos/pier.mp4"))
        for (const forged of ["../b/videos/pier.mp4", "videos/../../x.mp4", "/etc/passwd", "", "..", "a\\..\\b"]) {
          expect(isContainedPath(forged), forged).toBe(false)
          expect(Either.isLeft(resolveInside(path, "/runs/a", forged)), forged).toBe(true)
        }
      }))
  })
})
