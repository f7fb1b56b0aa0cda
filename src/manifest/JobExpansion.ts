import { Effect, Random } from "effect"
import type { FrameSource, Job, SweepValue } from "../domain/Job.js"
import { SEED_MAX, SEED_MIN, SEEDANCE_DEFAULTS, type SeedanceParams } from "../domain/SeedanceParams.js"
import type { FrameRef, Shot, ShotFields } from "./Manifest.js"
import type { LoadedManifest } from "./ManifestLoader.js"

/** A sweep value as it appears in a job id: safe in a file name on every system. */
const idValue = (value: SweepValue): string => String(value).replace(/:/g, "x").replace(/[^A-Za-z0-9._-]/g, "-")

/** Every combination of the sweep, first key varying slowest. */
const combinations = (
  sweep: ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>
): ReadonlyArray<ReadonlyArray<readonly [string, SweepValue]>> =>
  sweep.reduce<ReadonlyArray<ReadonlyArray<readonly [string, SweepValue]>>>(
    (partial, [key, values]) => partial.flatMap((combo) => values.map((value) => [...combo, [key, value] as const])),
    [[]]
  )

const frameSource = (frame: FrameRef): FrameSource =>
  frame._tag === "Url"
    ? { _tag: "Url", url: frame.url }
    : { _tag: "File", path: frame.path, absolutePath: frame.absolutePath }

const paramsOf = (fields: ShotFields & { readonly prompt: string }, seed: number): SeedanceParams => ({
  prompt: fields.prompt,
  duration: fields.duration ?? SEEDANCE_DEFAULTS.duration,
  resolution: fields.resolution ?? SEEDANCE_DEFAULTS.resolution,
  aspect_ratio: fields.aspect_ratio ?? SEEDANCE_DEFAULTS.aspect_ratio,
  seed,
  camera_fixed: fields.camera_fixed ?? SEEDANCE_DEFAULTS.camera_fixed,
  generate_audio: fields.generate_audio ?? SEEDANCE_DEFAULTS.generate_audio,
  skip_moderation: fields.skip_moderation ?? SEEDANCE_DEFAULTS.skip_moderation,
  ...(fields.first_frame?._tag === "Url" ? { first_frame_url: fields.first_frame.url } : {}),
  ...(fields.last_frame?._tag === "Url" ? { last_frame_url: fields.last_frame.url } : {})
})

const drawSeed = Random.nextIntBetween(SEED_MIN, SEED_MAX + 1)

const expandShot = (defaults: ShotFields, shot: Shot): Effect.Effect<ReadonlyArray<Job>> =>
  Effect.gen(function*() {
    const jobs: Array<Job> = []
    const takes = shot.takes === undefined ? [undefined] : Array.from({ length: shot.takes }, (_, i) => i + 1)
    for (const combo of combinations(shot.sweep ?? [])) {
      for (const take of takes) {
        const fields = { ...defaults, ...shot, ...Object.fromEntries(combo) } as ShotFields & {
          readonly prompt: string
        }
        const seedDrawn = fields.seed === undefined
        const seed = fields.seed ?? (yield* drawSeed)
        const id = [
          shot.id,
          ...combo.map(([key, value]) => `${key}=${idValue(value)}`),
          ...(take === undefined ? [] : [`take=${take}`])
        ].join("~")
        jobs.push({
          id,
          shot: shot.id,
          ...(shot.sweep === undefined ? {} : { sweep: Object.fromEntries(combo) }),
          ...(take === undefined ? {} : { take }),
          seed,
          seedDrawn,
          params: paramsOf(fields, seed),
          ...(fields.first_frame === undefined ? {} : { firstFrame: frameSource(fields.first_frame) }),
          ...(fields.last_frame === undefined ? {} : { lastFrame: frameSource(fields.last_frame) })
        })
      }
    }
    return jobs
  })

/**
 * The jobs of a manifest in storyboard order: one per shot, per sweep
 * combination or per take. Seeds the manifest leaves open are drawn from
 * Effect's `Random`, so the caller records them before anything is sent.
 */
export const expandJobs = (loaded: LoadedManifest): Effect.Effect<ReadonlyArray<Job>> =>
  Effect.map(
    Effect.forEach(loaded.manifest.shots, (shot) => expandShot(loaded.manifest.defaults, shot)),
    (perShot) => perShot.flat()
  )
