/**
 * The best possible run of one wave under a request budget, knowing every
 * generation time in advance: each job costs exactly 3 calls (submit, the
 * status that says COMPLETED, the result), each sent the moment it helps.
 */

/** Earliest send times, in order, such that no window of `windowMs` holds more than `rpm` calls and none precedes its release. */
const earliestSends = (releasesMs: ReadonlyArray<number>, rpm: number, windowMs: number): Array<number> => {
  const sends: Array<number> = []
  releasesMs.forEach((release, k) => {
    sends.push(Math.max(release, sends[k - 1] ?? 0, k >= rpm ? sends[k - rpm]! + windowMs : 0))
  })
  return sends
}

export interface ClairvoyantRun {
  /** when each job's result is fetched, from the first call, in submission order */
  readonly resultAtMs: ReadonlyArray<number>
  readonly makespanMs: number
}

/**
 * `generationMs[n]` belongs to the n-th submission, as the emulator draws it.
 * Submits go first, then each finished job's two calls in the order jobs
 * finish, all as early as the window allows. That is optimal for the last
 * result: swapping a poll or result sent before a submit keeps every send
 * time and only lets that job start sooner, and among calls that differ only
 * by release, earliest-release-first gives each k-th send its lower bound.
 */
export const clairvoyantRun = (
  generationMs: ReadonlyArray<number>,
  rpm: number,
  windowMs: number
): ClairvoyantRun => {
  const jobs = generationMs.length
  const submits = earliestSends(generationMs.map(() => 0), rpm, windowMs)
  const finishing = generationMs
    .map((g, job) => ({ job, readyMs: submits[job]! + g }))
    .sort((a, b) => a.readyMs - b.readyMs)
  const sends = earliestSends(
    [...submits.map(() => 0), ...finishing.flatMap(({ readyMs }) => [readyMs, readyMs])],
    rpm,
    windowMs
  )
  const resultAtMs = Array.from({ length: jobs }, () => 0)
  finishing.forEach(({ job }, order) => {
    resultAtMs[job] = sends[jobs + 2 * order + 1]!
  })
  return { resultAtMs, makespanMs: Math.max(0, ...resultAtMs) }
}
