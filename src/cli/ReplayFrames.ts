import { Path } from "@effect/platform"
import { Effect } from "effect"
import type { FrameSource, Job } from "../domain/Job.js"
import type { FrameRecord, JobReport } from "../domain/JobReport.js"
import { fileMatches } from "../store/FileDigest.js"
import { localFrameCopy } from "../store/RunDirectory.js"
import { usageError } from "./UsageErrors.js"

/**
 * A local frame as the source run kept it (`frames/<sha256>.<ext>`), checked
 * against the digest its report recorded: the upload URL it was sent as may
 * be gone (an emulator's) or short-lived (Segmind's), the bytes are not.
 */
const keptCopyOf = (entry: JobReport, frame: FrameRecord & { readonly sha256: string }, sourceDirectory: string) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const copy = path.join(sourceDirectory, localFrameCopy(frame.source, frame.sha256))
    if (!(yield* fileMatches(copy, frame.sha256))) {
      return yield* usageError(
        `${entry.id}: its ${frame.role} ${frame.source} cannot be sent again: the source run's copy ${copy} is missing or no longer has sha256 ${frame.sha256}; nothing was sent`
      )
    }
    return { _tag: "File", path: frame.source, absolutePath: copy } satisfies FrameSource
  })

const FRAME_FIELDS = { first_frame: "firstFrame", last_frame: "lastFrame" } as const

/**
 * A replayed job with its local frames uploaded again from the source run's
 * copies, as a run uploads them (the old upload URL left out of the body, the
 * frame recorded and copied into the new run); URL frames are sent as they were.
 */
export const withKeptFrames = (job: Job, entry: JobReport, sourceDirectory: string) =>
  Effect.gen(function*() {
    let replayed: Job = job
    for (const frame of entry.frames ?? []) {
      if (frame.sha256 === undefined) continue
      const source = yield* keptCopyOf(entry, { ...frame, sha256: frame.sha256 }, sourceDirectory)
      const { [`${frame.role}_url` as const]: _sentUrl, ...params } = replayed.params
      replayed = { ...replayed, params, [FRAME_FIELDS[frame.role]]: source }
    }
    return replayed
  })
