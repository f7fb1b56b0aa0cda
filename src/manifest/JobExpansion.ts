import { Effect, Random } from "effect"
import * as Crypto from "node:crypto"
import type { FrameSource, Job, SweepValue } from "../domain/Job.js"
import { SEED_MAX, SEED_MIN, SEEDANCE_DEFAULTS, type SeedanceParams } from "../domain/SeedanceParams.js"
import { type FrameRef, JOB_ID_MAX_BYTES, type Manifest, type Shot, type ShotFields } from "./Manifest.js"
import { ManifestInvalid } from "./ManifestErrors.js"
import type { LoadedManifest } from "./ManifestLoader.js"

type Sweep = NonNullable<Shot["sweep"]>
type Combination = ReadonlyArray<readonly [string, SweepValue]>

/** A swept frame's file name without its folder and extension: `frames/a.png` -> `a`. */
const frameStem = (written: string): string =>
  (written.replace(/[?#].*$/, "").split(/[\\/]/).pop() ?? "").replace(/\.[^.]*$/, "")

/** A sweep value as it appears in a job id: safe in a file name on every system; a frame by its file's stem. */
const idValue = (key: string, value: SweepValue): string =>
  (key === "first_frame" ? frameStem(String(value)) : String(value)).replace(/:/g, "x").replace(
    /[^A-Za-z0-9._-]/g,
    "-"
  )

/** `cliff~seed=11~camera_fixed=true`: a shot and one combination of its sweep. */
const combinationId = (shot: string, combination: Combination): string =>
  [shot, ...combination.map(([key, value]) => `${key}=${idValue(key, value)}`)].join("~")

/** `cliff~seed=11~camera_fixed=true`, `ending~take=2`: the same for the same shot, combination and take. */
const takeId = (combination: string, take: number | undefined): string =>
  take === undefined ? combination : `${combination}~take=${take}`

const jobIdOf = (shot: string, combination: Combination, take: number | undefined): string =>
  takeId(combinationId(shot, combination), take)

/** sha256 in hex; the one-shot `hash` (Node 20.12+) is much faster over a million jobs. */
const sha256Text = (text: string): string =>
  typeof Crypto.hash === "function"
    ? Crypto.hash("sha256", text)
    : Crypto.createHash("sha256").update(text).digest("hex")

/** Every combination of the sweep, first key varying slowest, one at a time: a large sweep is never held whole. */
function* combinations(sweep: Sweep): Generator<Combination> {
  const indices = sweep.map(() => 0)
  while (true) {
    yield sweep.map(([key, values], axis) => [key, values[indices[axis]!]!] as const)
    let axis = sweep.length - 1
    while (axis >= 0 && ++indices[axis]! === sweep[axis]![1].length) indices[axis--] = 0
    if (axis < 0) return
  }
}

/**
 * The seed of a job the manifest gives none: sha256 of the seed base and the
 * job id, in SEED_MIN..SEED_MAX. A later `attempt` picks another on a collision.
 */
export const deriveSeed = (seedBase: string, jobId: string, attempt = 0): number => {
  const digest = sha256Text(`${seedBase}\u0000${jobId}${attempt === 0 ? "" : `\u0000${attempt}`}`)
  // The first 48 bits: an exact integer, and the modulo's bias is below one in 10^8.
  return (Number.parseInt(digest.slice(0, 12), 16) % (SEED_MAX - SEED_MIN + 1)) + SEED_MIN
}

/** The manifest's `seed_base`, else its name: fixed for the manifest, so its seeds are too. */
export const seedBaseOf = (manifest: Manifest): string => manifest.seedBase ?? manifest.name

/** A seed base for `--reseed`: fresh seeds for one run, which writing it as `seed_base` brings back. */
export const freshSeedBase: Effect.Effect<string> = Effect.map(Random.nextIntBetween(1, 1_000_000_000), String)

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

/** The prompt and frame a combination names: the sweep lists a variant's name and a frame as written. */
const sweptVariants = (shot: Shot, sweep: Readonly<Record<string, SweepValue>>): ShotFields => {
  const prompt = shot.promptVariants?.get(String(sweep.prompt))
  const firstFrame = shot.frameVariants?.get(String(sweep.first_frame))
  return {
    ...(prompt === undefined ? {} : { prompt }),
    ...(firstFrame === undefined ? {} : { first_frame: firstFrame })
  }
}

/** The ids of a shot's jobs, in order: per combination of its sweep, per take. */
export const shotJobIds = (shot: Shot): Array<string> => {
  const takes = shot.takes === undefined ? [undefined] : Array.from({ length: shot.takes }, (_, i) => i + 1)
  const ids: Array<string> = []
  for (const combination of combinations(shot.sweep ?? [])) {
    for (const take of takes) ids.push(jobIdOf(shot.id, combination, take))
  }
  return ids
}

/** A job's first frame: a frame as written, or the link to the job of the shot it opens from (its only one, else its pick). */
const firstFrameOf = (
  frame: ShotFields["first_frame"],
  shots: ReadonlyMap<string, Shot>,
  picks: ReadonlyMap<string, string>
) => {
  if (frame === undefined) return {}
  if (frame._tag !== "Shot") return { firstFrame: frameSource(frame) }
  const source = shots.get(frame.shot)
  const ids = source === undefined ? [] : shotJobIds(source)
  const picked = picks.get(frame.shot)
  // The loader refuses a link to no shot, and selection one with no pick; the first job stands for a manifest built in code.
  const job = picked !== undefined && ids.includes(picked) ? picked : ids[0] ?? frame.shot
  return { firstFrameFrom: { shot: frame.shot, job } }
}

/** Appends the jobs of one shot: per combination of its sweep, per take; derived seeds distinct within the shot. */
const expandShot = (
  jobs: Array<Job>,
  defaults: ShotFields,
  shot: Shot,
  seedBase: string,
  shots: ReadonlyMap<string, Shot>,
  picks: ReadonlyMap<string, string>
): void => {
  const takes = shot.takes === undefined ? [undefined] : Array.from({ length: shot.takes }, (_, i) => i + 1)
  const derived = new Set<number>()
  for (const combination of combinations(shot.sweep ?? [])) {
    const sweep = Object.fromEntries(combination)
    const fields = { ...defaults, ...shot, ...sweep, ...sweptVariants(shot, sweep) } as ShotFields & {
      readonly prompt: string
    }
    const params = paramsOf(fields, SEED_MIN)
    const firstFrame = firstFrameOf(fields.first_frame, shots, picks)
    const lastFrame = fields.last_frame === undefined ? {} : { lastFrame: frameSource(fields.last_frame) }
    const prefix = combinationId(shot.id, combination)
    for (const take of takes) {
      const id = takeId(prefix, take)
      let seed = fields.seed ?? deriveSeed(seedBase, id)
      for (let attempt = 1; fields.seed === undefined && derived.has(seed); attempt++) {
        seed = deriveSeed(seedBase, id, attempt)
      }
      if (fields.seed === undefined) derived.add(seed)
      jobs.push({
        id,
        shot: shot.id,
        ...(shot.sweep === undefined ? {} : { sweep }),
        ...(take === undefined ? {} : { take }),
        seed,
        seedDrawn: fields.seed === undefined,
        params: { ...params, seed },
        ...firstFrame,
        ...lastFrame
      })
    }
  }
}

/**
 * The jobs of a manifest in storyboard order: one per shot, per sweep
 * combination or per take. A seed the manifest leaves open is derived from
 * the seed base (`seedBase`, else the manifest's) and the job id, so the
 * same manifest always means the same jobs; a link to a shot of several
 * videos follows the job `picks` names for that shot.
 */
export const expandJobs = (
  loaded: LoadedManifest,
  seeding: { readonly seedBase?: string; readonly picks?: ReadonlyMap<string, string> } = {}
): Effect.Effect<ReadonlyArray<Job>> =>
  Effect.sync(() => {
    const seedBase = seeding.seedBase ?? seedBaseOf(loaded.manifest)
    const picks = seeding.picks ?? new Map<string, string>()
    const jobs: Array<Job> = []
    const shots = new Map(loaded.manifest.shots.map((shot) => [shot.id, shot]))
    for (const shot of loaded.manifest.shots) expandShot(jobs, loaded.manifest.defaults, shot, seedBase, shots, picks)
    return jobs
  })

/** The longest job id a shot expands to: its longest value on each axis, and its last take. */
const longestJobId = (shotId: string, sweep: Sweep, takes: number | undefined): string =>
  jobIdOf(
    shotId,
    sweep.map(([key, values]) => [
      key,
      values.reduce((longest, value) => (idValue(key, value).length > idValue(key, longest).length ? value : longest))
    ]),
    takes
  )

export const longestJobIdBytes = (shotId: string, sweep: Sweep, takes: number | undefined): number =>
  Buffer.byteLength(longestJobId(shotId, sweep, takes))

/** Job ids that would not fit a file name, or two values of one axis whose ids differ only in case (one file on Windows and macOS). */
export const jobIdProblems = (
  shots: ReadonlyArray<Shot>
): Array<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }> =>
  shots.flatMap((shot, index) => {
    const longest = longestJobId(shot.id, shot.sweep ?? [], shot.takes)
    const bytes = Buffer.byteLength(longest)
    const tooLong = bytes <= JOB_ID_MAX_BYTES ? [] : [{
      path: ["shots", index, "id"],
      message: `job id ${
        JSON.stringify(longest)
      } is ${bytes} bytes; a job id may be at most ${JOB_ID_MAX_BYTES}, to fit a file name with its .mp4 and download suffixes`
    }]
    const sameButCase = (shot.sweep ?? []).flatMap(([key, values]) => {
      // The first value of each case-folded id: one pass, where a search of the earlier values made a 10,000-seed plan take seconds.
      const firstByFoldedId = new Map<string, SweepValue>()
      return values.flatMap((value, position) => {
        const valueId = idValue(key, value)
        const folded = valueId.toLowerCase()
        const earlier = firstByFoldedId.get(folded)
        if (earlier === undefined) {
          firstByFoldedId.set(folded, value)
          return []
        }
        const id = jobIdOf(shot.id, [[key, value]], undefined)
        const same = idValue(key, earlier) === valueId ? "the same job id" : "the same job id but for case"
        return [{
          path: ["shots", index, "sweep", key, position],
          message: `${JSON.stringify(value)} and ${
            JSON.stringify(earlier)
          } give ${same} (${id}); ids must differ in more than case`
        }]
      })
    })
    return [...tooLong, ...sameButCase]
  })

/**
 * More jobs than `cap` is refused as a manifest error at the shot that
 * multiplies most: its sweep's axes and sizes, and the total.
 */
export const refuseOversizedRun = (
  loaded: LoadedManifest,
  jobs: ReadonlyArray<Job>,
  cap: number
): Effect.Effect<void, ManifestInvalid> => {
  if (jobs.length <= cap) return Effect.void
  const perShot = new Map<string, number>()
  for (const job of jobs) perShot.set(job.shot, (perShot.get(job.shot) ?? 0) + 1)
  const shots = loaded.manifest.shots
  const index = shots.reduce(
    (most, shot, i) => ((perShot.get(shot.id) ?? 0) > (perShot.get(shots[most]!.id) ?? 0) ? i : most),
    0
  )
  const shot = shots[index]!
  const axes = [
    ...(shot.sweep ?? []).map(([key, values]) => ({ name: key, size: values.length })),
    ...(shot.takes === undefined ? [] : [{ name: "takes", size: shot.takes }])
  ]
  const over = `the run would render ${jobs.length}, over the ${cap} a run renders unless --max-jobs allows more`
  const product = axes.reduce((total, axis) => total * axis.size, 1)
  const [path, message] = axes.length === 0
    ? [["shots"], `${shots.length} shots; ${over}`]
    : [
      ["shots", index, shot.sweep === undefined ? "takes" : "sweep"],
      `${shot.sweep === undefined ? "" : "sweep "}${
        axes.map(({ name, size }) => `${name} (${size})`).join(" × ")
      } = ${product} jobs; ${over}`
    ]
  return Effect.fail(new ManifestInvalid({ file: loaded.file, issues: [loaded.locate(path, message)] }))
}
