import type { Path } from "@effect/platform"

/** The run directory's layout (SPEC §5): every file and folder shotlist writes in it, named once. */
export const runFiles = (path: Path.Path, runDirectory: string) => ({
  manifest: path.join(runDirectory, "manifest.yaml"),
  journal: path.join(runDirectory, "journal.jsonl"),
  lock: path.join(runDirectory, ".lock"),
  report: path.join(runDirectory, "report.json"),
  contactSheet: path.join(runDirectory, "report.html"),
  videos: path.join(runDirectory, "videos"),
  frames: path.join(runDirectory, "frames"),
  posters: path.join(runDirectory, "posters"),
  picks: path.join(runDirectory, "picks.yaml"),
  partial: path.join(runDirectory, ".partial"),
  rejected: path.join(runDirectory, "rejected")
})
export type RunFiles = ReturnType<typeof runFiles>

/** A job's video, relative to the run directory. */
export const videoPathOf = (jobId: string): string => `videos/${jobId}.mp4`

/** Where a run keeps a copy of a local frame, relative to the run directory: named by content, so the page needs nothing outside it. */
export const localFrameCopy = (source: string, sha256: string): string => {
  const extension = /\.([A-Za-z0-9]+)$/.exec(source)?.[1]?.toLowerCase() ?? "img"
  return `frames/${sha256}.${extension}`
}

/** A job's poster (its video's first frame) and the video's last frame, relative to the run directory. */
export const posterPathsOf = (jobId: string) => ({
  poster: `posters/${jobId}.jpg`,
  lastFrame: `posters/${jobId}.last.jpg`
})
