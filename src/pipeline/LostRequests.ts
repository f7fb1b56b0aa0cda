import type { Submission } from "../segmind/SegmindClient.js"
import { JobStart } from "./JobStart.js"
import type { ResumeStart } from "./ResumePlan.js"

/** Which journaled requests died with the server that held them: the embedded emulator stops with its process. */
export type LostRequest = (submission: Submission) => boolean

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

/**
 * The requests of an emulator run a resume cannot poll: all of them on a new
 * embedded emulator, else those not on the API it now talks to (an earlier
 * emulator's). `undefined` for a run on an API, whose requests outlive it.
 */
export const lostWithEmulator = (
  run: { readonly emulator: boolean },
  target: { readonly emulator: boolean; readonly baseUrl: string }
): LostRequest | undefined => {
  if (!run.emulator) return undefined
  if (target.emulator) return () => true
  const live = originOf(target.baseUrl)
  return (submission) => originOf(submission.statusUrl) !== live
}

/** A resumed job whose request was lost is sent again at once, and says why, rather than polled where nothing answers. */
export const submitAgainIfLost = (lost: LostRequest | undefined) => (start: ResumeStart): ResumeStart => {
  // A journaled video URL of an emulator run died with it too: its storage was the emulator.
  if (lost === undefined || (start._tag !== "Poll" && start._tag !== "Download") || !lost(start.submission)) {
    return start
  }
  const { requestId } = start.submission
  return JobStart.Submit({
    resubmitted: {
      reason: `the emulator that held request ${requestId} stopped with its run: submitted again`,
      previousRequestId: requestId
    }
  })
}
