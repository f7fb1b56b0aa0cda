import { closestKey } from "../domain/ClosestName.js"
import { shotJobIds } from "./JobExpansion.js"
import type { Manifest, Shot } from "./Manifest.js"

// `first_frame: {from: SHOT}` links: each names a shot that renders one video, and no shot waits on itself.

/** The shot a shot opens from, its own `{from}` or the one in `defaults`. */
export const sourceShotOf = (manifest: Manifest, shot: Shot): string | undefined => {
  const frame = shot.first_frame ?? manifest.defaults.first_frame
  return frame?._tag === "Shot" ? frame.shot : undefined
}

/** Where a shot's link is written: on the shot, else in `defaults`. */
const linkPath = (shot: Shot, index: number): ReadonlyArray<PropertyKey> =>
  shot.first_frame?._tag === "Shot" ? ["shots", index, "first_frame", "from"] : ["defaults", "first_frame", "from"]

/** Links to no shot, to a shot of several videos, and cycles, each at the link that breaks. */
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
    const ids = shotJobIds(source)
    if (ids.length > 1) {
      const listed = ids.length > 6 ? `${ids.slice(0, 6).join(", ")}, …` : ids.join(", ")
      problems.push({
        path: linkPath(shot, index),
        message: `shot "${from}" renders ${ids.length} videos: pick one of ${listed}, or give first_frame a file`
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
