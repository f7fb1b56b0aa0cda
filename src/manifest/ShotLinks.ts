import { Effect } from "effect"
import { closestKey } from "../domain/ClosestName.js"
import type { Job } from "../domain/Job.js"
import { shotJobIds } from "./JobExpansion.js"
import type { Manifest, Shot } from "./Manifest.js"
import { ManifestInvalid } from "./ManifestErrors.js"
import type { LoadedManifest } from "./ManifestLoader.js"

// `first_frame: {from: SHOT}` links: each names a shot, no shot waits on itself, and a shot of several videos is followed by its pick.

/** The variants picked for shots (shot id → job id), and the file they were read from, named in messages. */
export interface ChainPicks {
  readonly file: string
  readonly jobs: ReadonlyMap<string, string>
}

/** The shot a shot opens from, its own `{from}` or the one in `defaults`. */
export const sourceShotOf = (manifest: Manifest, shot: Shot): string | undefined => {
  const frame = shot.first_frame ?? manifest.defaults.first_frame
  return frame?._tag === "Shot" ? frame.shot : undefined
}

/** Where a shot's link is written: on the shot, else in `defaults`. */
const linkPath = (shot: Shot, index: number): ReadonlyArray<PropertyKey> =>
  shot.first_frame?._tag === "Shot" ? ["shots", index, "first_frame", "from"] : ["defaults", "first_frame", "from"]

/** Links to no shot, and cycles, each at the link that breaks; a shot of several videos waits for its pick (`unpickedLinks`). */
export const chainProblems = (
  manifest: Manifest
): Array<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }> => {
  const byId = new Map(manifest.shots.map((shot) => [shot.id, shot]))
  const problems: Array<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }> = []
  for (const [index, shot] of manifest.shots.entries()) {
    const from = sourceShotOf(manifest, shot)
    if (from === undefined) continue
    const source = byId.get(from)
    if (source === undefined) {
      const close = closestKey(from, [...byId.keys()])
      problems.push({
        path: linkPath(shot, index),
        message: `first_frame.from names no shot: "${from}"${close === undefined ? "" : ` (did you mean "${close}"?)`}`
      })
      continue
    }
    const cycle = cycleFrom(manifest, byId, shot)
    if (cycle !== undefined) {
      problems.push({
        path: linkPath(shot, index),
        message: `first_frame.from makes a cycle: ${cycle.join(" → ")}; a shot cannot open on a frame of its own video`
      })
    }
  }
  return problems
}

/** `a → b → a` when following links from `shot` comes back to it. */
const cycleFrom = (manifest: Manifest, byId: ReadonlyMap<string, Shot>, shot: Shot): Array<string> | undefined => {
  const path = [shot.id]
  let current: Shot | undefined = shot
  while (current !== undefined) {
    const next = sourceShotOf(manifest, current)
    if (next === undefined) return undefined
    if (next === shot.id) return [...path, next]
    if (path.includes(next)) return undefined
    path.push(next)
    current = byId.get(next)
  }
  return undefined
}

/** The job a link to `source` follows: its only job, else its pick when the shot still renders it. */
export const followedJob = (source: Shot, picks: ChainPicks | undefined): string | undefined => {
  const ids = shotJobIds(source)
  if (ids.length === 1) return ids[0]
  const picked = picks?.jobs.get(source.id)
  return picked !== undefined && ids.includes(picked) ? picked : undefined
}

/** True when some link opens on a shot of several videos: only then are picks looked for. */
export const linksNeedPicks = (manifest: Manifest): boolean => {
  const byId = new Map(manifest.shots.map((shot) => [shot.id, shot]))
  return manifest.shots.some((shot) => {
    const from = sourceShotOf(manifest, shot)
    const source = from === undefined ? undefined : byId.get(from)
    return source !== undefined && shotJobIds(source).length > 1
  })
}

/** Why a link to `source`, a shot of several videos, has no pick to follow, and how to give it one. */
const unpickedMessage = (source: Shot, picks: ChainPicks | undefined): string => {
  const ids = shotJobIds(source)
  const listed = ids.length > 6 ? `${ids.slice(0, 6).join(", ")}, … (${ids.length} in all)` : ids.join(", ")
  const picked = picks?.jobs.get(source.id)
  const found = picks === undefined
    ? "no picks were found"
    : picked === undefined
    ? `${picks.file} picks none of them`
    : `${picks.file} picks "${picked}", which the manifest no longer renders${
      closestKey(picked, ids) === undefined ? "" : ` (did you mean "${closestKey(picked, ids)}"?)`
    }`
  return `shot "${source.id}" renders ${ids.length} videos (${listed}) and ${found}: pick the one to follow with \`shotlist pick RUN_DIR ${source.id}=JOB\` on a run that rendered them (\`--only ${source.id}\` renders them alone) or with --picks FILE, or give first_frame a file`
}

/**
 * The links of the selected `jobs` that open on a shot of several videos
 * with no pick the manifest still renders, each at its `from:` line.
 */
export const unpickedLinks = (
  manifest: Manifest,
  jobs: ReadonlyArray<Job>,
  picks: ChainPicks | undefined
): Array<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }> => {
  const byId = new Map(manifest.shots.map((shot) => [shot.id, shot]))
  const followers = new Set(jobs.flatMap((job) => (job.firstFrameFrom === undefined ? [] : [job.shot])))
  return manifest.shots.flatMap((shot, index) => {
    const from = sourceShotOf(manifest, shot)
    const source = from === undefined ? undefined : byId.get(from)
    if (source === undefined || !followers.has(shot.id) || followedJob(source, picks) !== undefined) return []
    return [{ path: linkPath(shot, index), message: unpickedMessage(source, picks) }]
  })
}

/** A selection whose links cannot all be followed is a manifest error at each such link: nothing is sent. */
export const refuseUnpickedLinks = (
  loaded: LoadedManifest,
  jobs: ReadonlyArray<Job>,
  picks: ChainPicks | undefined
): Effect.Effect<void, ManifestInvalid> => {
  const problems = unpickedLinks(loaded.manifest, jobs, picks)
  return problems.length === 0 ? Effect.void : Effect.fail(
    new ManifestInvalid({
      file: loaded.file,
      issues: problems.map((problem) => loaded.locate(problem.path, problem.message))
    })
  )
}
