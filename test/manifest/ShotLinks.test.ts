import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Job } from "../../src/domain/Job.js"
import { expandJobs } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { type ChainPicks, refuseUnpickedLinks } from "../../src/manifest/ShotLinks.js"

const load = (text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    yield* fs.writeFileString(`${dir}/chain.yaml`, text)
    return yield* loadManifest(`${dir}/chain.yaml`)
  })

const issuesOf = (text: string) =>
  load(text).pipe(
    Effect.flip,
    Effect.map((error) =>
      error._tag === "ManifestInvalid"
        ? error.issues.map(({ column, line, message, path }) => ({ line, column, path, message }))
        : []
    )
  )

describe("first_frame: {from: SHOT}", () => {
  it.scoped("each follower's jobs name the one job of the shot they open from", () =>
    Effect.gen(function*() {
      const chained = yield* load(`version: 1
shots:
  - id: a
    prompt: A door.
    takes: 1
  - id: b
    prompt: The door opens.
    aspect_ratio: adaptive
    first_frame: {from: a}
    sweep:
      camera_fixed: [true, false]
`)
      const jobs = yield* expandJobs(chained)
      expect(jobs.map((job) => [job.id, job.firstFrame, job.firstFrameFrom])).toEqual([
        ["a~take=1", undefined, undefined],
        ["b~camera_fixed=true", undefined, { shot: "a", job: "a~take=1" }],
        ["b~camera_fixed=false", undefined, { shot: "a", job: "a~take=1" }]
      ])
      expect(jobs[1]?.params.first_frame_url).toBeUndefined()
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a cycle, an unknown shot and a bad link are refused at line:col; a shot of several videos waits for its pick", () =>
    Effect.gen(function*() {
      expect(
        yield* issuesOf(`version: 1
shots:
  - id: a
    prompt: A door.
    first_frame: {from: c}
  - id: b
    prompt: The door opens.
    first_frame: {from: nowhere}
  - id: c
    prompt: Into the light.
    first_frame:
      from: a
  - id: d
    prompt: Many doors.
    sweep: {seed: [1, 2]}
  - id: e
    prompt: One of them opens.
    first_frame: {from: d}
  - id: f
    prompt: Itself.
    first_frame: {from: f}
`)
      ).toEqual([
        {
          line: 5,
          column: 25,
          path: "shots[0].first_frame.from",
          message: "first_frame.from makes a cycle: a → c → a; a shot cannot open on a frame of its own video"
        },
        {
          line: 8,
          column: 25,
          path: "shots[1].first_frame.from",
          message: "first_frame.from names no shot: \"nowhere\""
        },
        {
          line: 12,
          column: 13,
          path: "shots[2].first_frame.from",
          message: "first_frame.from makes a cycle: c → a → c; a shot cannot open on a frame of its own video"
        },
        {
          line: 21,
          column: 25,
          path: "shots[5].first_frame.from",
          message: "first_frame.from makes a cycle: f → f; a shot cannot open on a frame of its own video"
        }
      ])
      expect(
        yield* issuesOf(`version: 1
shots:
  - id: a
    prompt: A door.
    first_frame: {shot: b}
`)
      ).toEqual([{
        line: 5,
        column: 18,
        path: "shots[0].first_frame",
        message:
          "first_frame must be a frame or {from: SHOT}, the id of the shot whose last frame opens this one (got a map)"
      }])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a link to a shot of several videos follows its pick; without one it is refused at its from: line", () =>
    Effect.gen(function*() {
      const loaded = yield* load(`version: 1
shots:
  - id: d
    prompt: Many doors.
    sweep: {seed: [1, 2]}
  - id: e
    prompt: One of them opens.
    first_frame: {from: d}
  - id: x
    prompt: Elsewhere.
`)
      const picks = (job: string): ChainPicks => ({ file: "runs/a/picks.yaml", jobs: new Map([["d", job]]) })
      const refused = (jobs: ReadonlyArray<Job>, chosen: ChainPicks | undefined) =>
        refuseUnpickedLinks(loaded, jobs, chosen).pipe(
          Effect.flip,
          Effect.map((error) =>
            error.issues.map(({ column, line, message, path }) => ({ line, column, path, message }))
          )
        )
      const picked = yield* expandJobs(loaded, { picks: picks("d~seed=2").jobs })
      expect(picked.find((job) => job.id === "e")?.firstFrameFrom).toEqual({ shot: "d", job: "d~seed=2" })
      yield* refuseUnpickedLinks(loaded, picked, picks("d~seed=2"))

      const unpicked = yield* expandJobs(loaded)
      const how =
        "pick the one to follow with `shotlist pick RUN_DIR d=JOB` on a run that rendered them (`--only d` renders them alone) or with --picks FILE, or give first_frame a file"
      expect(yield* refused(unpicked, undefined)).toEqual([{
        line: 8,
        column: 25,
        path: "shots[1].first_frame.from",
        message: `shot "d" renders 2 videos (d~seed=1, d~seed=2) and no picks were found: ${how}`
      }])
      expect((yield* refused(unpicked, { file: "p.yaml", jobs: new Map([["x", "x"]]) }))[0]?.message).toBe(
        `shot "d" renders 2 videos (d~seed=1, d~seed=2) and p.yaml picks none of them: ${how}`
      )
      // A pick of a variant the manifest no longer renders (its sweep was edited) is no pick.
      const stale = yield* expandJobs(loaded, { picks: picks("d~seed=3").jobs })
      expect((yield* refused(stale, picks("d~seed=3")))[0]?.message).toBe(
        `shot "d" renders 2 videos (d~seed=1, d~seed=2) and runs/a/picks.yaml picks "d~seed=3", which the manifest no longer renders (did you mean "d~seed=1"?): ${how}`
      )
      // Rendering the variants to pick from needs no pick: the follower is not selected.
      yield* refuseUnpickedLinks(loaded, unpicked.filter((job) => job.shot !== "e"), undefined)
    }).pipe(Effect.provide(NodeContext.layer)))
})
