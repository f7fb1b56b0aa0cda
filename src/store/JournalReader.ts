import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Data, Effect, Either, Schema } from "effect"
import type { Job } from "../domain/Job.js"
import type { JobReport, Resubmitted } from "../domain/JobReport.js"
import { JournalEvent } from "./Journal.js"

/** A line other than the last does not decode: the journal was edited or damaged, not torn by a crash. */
export class JournalCorrupt extends Data.TaggedError("JournalCorrupt")<{
  readonly file: string
  readonly line: number
  readonly message: string
}> {}

export interface JournalContents {
  readonly events: ReadonlyArray<JournalEvent>
  /** bytes of the whole lines; a torn last line (a crash mid-write) lies beyond */
  readonly validLength: number
  readonly tornLine: boolean
}

const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(JournalEvent))

/**
 * Reads `journal.jsonl`. A torn last line, left by a crash in the middle of a
 * write, is ignored (it recorded a step that was never acted on); any other
 * bad line is `JournalCorrupt`.
 */
export const readJournal = (
  file: string
): Effect.Effect<JournalContents, JournalCorrupt | PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file)
    const text = new TextDecoder().decode(bytes)
    const lines = text.split("\n")
    const events: Array<JournalEvent> = []
    let validLength = 0
    let tornLine = false
    for (const [index, line] of lines.entries()) {
      const last = index === lines.length - 1
      if (last && line === "") break
      const decoded = decodeLine(line)
      if (Either.isLeft(decoded)) {
        // Only the unterminated last line can be a crash's torn write.
        if (last) {
          tornLine = true
          break
        }
        return yield* new JournalCorrupt({ file, line: index + 1, message: `line ${index + 1} is not a journal event` })
      }
      if (last) {
        // A whole event without its newline: the crash came between the two writes' bytes; keep it.
        events.push(decoded.right)
        validLength += Buffer.byteLength(line)
        tornLine = true
        break
      }
      events.push(decoded.right)
      validLength += Buffer.byteLength(line) + 1
    }
    return { events, validLength, tornLine }
  })

type RunEvent = Extract<JournalEvent, { readonly _tag: "run" }>
type SubmittedEvent = Extract<JournalEvent, { readonly _tag: "submitted" }>
type ResultEvent = Extract<JournalEvent, { readonly _tag: "result" }>
type DownloadedEvent = Extract<JournalEvent, { readonly _tag: "downloaded" }>
type FailedEvent = Extract<JournalEvent, { readonly _tag: "failed" }>

/** A submit that was sent and may have been taken (and billed) by the API, though no request id came back. */
export interface UncertainSubmit {
  readonly at: string
  /** why its outcome is unknown */
  readonly message: string
}

/** What the journal knows of one job, latest event last. */
export interface JournaledJob {
  readonly job: Job
  /** `submitting` lines: every one of them may have reached the API */
  readonly submitAttempts: number
  /**
   * A submit whose outcome is unknown (its answer lost, a gateway's error, or
   * the process gone while it was on the wire). It stays until the job is
   * really sent again: accepted, or its body refused.
   */
  readonly uncertain: UncertainSubmit | undefined
  /** why the latest submit was a resubmit, while no request id has come back for it */
  readonly resubmitting: Resubmitted | undefined
  /** the request the API accepted for the latest submit */
  readonly submitted: SubmittedEvent | undefined
  readonly lastStatus: string | undefined
  /** the video URL of the latest request, once it finished */
  readonly result: ResultEvent | undefined
  readonly downloaded: DownloadedEvent | undefined
  readonly failed: FailedEvent | undefined
  readonly finished: JobReport | undefined
}

/** A job the journal knows only as planned. */
export const plannedJob = (job: Job): JournaledJob => ({
  job,
  submitAttempts: 0,
  uncertain: undefined,
  resubmitting: undefined,
  submitted: undefined,
  lastStatus: undefined,
  result: undefined,
  downloaded: undefined,
  failed: undefined,
  finished: undefined
})

export interface JournaledRun {
  readonly run: RunEvent | undefined
  readonly resumedAt: ReadonlyArray<string>
  /** in the order they were planned */
  readonly jobs: ReadonlyMap<string, JournaledJob>
}

/** A job while the journal is folded, with the time of its `submitting` line as long as no answer to it is recorded. */
interface Folding extends JournaledJob {
  readonly onTheWireSince: string | undefined
}

/** The process stopped with this job's submit on the wire: nothing says whether the API took it. */
const answerLost = (job: Folding): Folding =>
  job.onTheWireSince === undefined ? job : {
    ...job,
    onTheWireSince: undefined,
    uncertain: {
      at: job.onTheWireSince,
      message:
        "the run stopped while its submit was on the wire, before any answer was recorded; not re-sent, to avoid paying twice"
    }
  }

/** How a failure bears on an uncertain submit: a new uncertain one replaces it, a refused body clears it (the earlier send of the same body was refused too). */
const uncertainAfter = (job: Folding, failed: FailedEvent): UncertainSubmit | undefined =>
  failed.error.tag === "SubmitUncertain"
    ? { at: failed.at, message: failed.error.message }
    : failed.error.tag === "BadRequest"
    ? undefined
    : job.uncertain

/** Folds a journal's events into the state of the run and of each job. */
export const journaledRun = (events: ReadonlyArray<JournalEvent>): JournaledRun => {
  let run: RunEvent | undefined
  const resumedAt: Array<string> = []
  const jobs = new Map<string, Folding>()
  const update = (jobId: string, change: (job: Folding) => Partial<Folding>) => {
    const known = jobs.get(jobId)
    if (known !== undefined) jobs.set(jobId, { ...known, ...change(known) })
  }
  for (const event of events) {
    switch (event._tag) {
      case "run":
        run = event
        break
      case "resumed":
        resumedAt.push(event.at)
        for (const [jobId, job] of jobs) {
          if (job.onTheWireSince !== undefined) jobs.set(jobId, answerLost(job))
        }
        break
      case "planned":
        if (!jobs.has(event.job.id)) {
          jobs.set(event.job.id, { ...plannedJob(event.job), onTheWireSince: undefined })
        }
        break
      case "submitting":
        // A new submission supersedes the request and the end of the one before (a resubmit on resume).
        update(event.jobId, (job) => ({
          submitAttempts: job.submitAttempts + 1,
          onTheWireSince: event.at,
          resubmitting: event.resubmitted,
          submitted: undefined,
          lastStatus: undefined,
          result: undefined,
          failed: undefined,
          finished: undefined,
          downloaded: undefined
        }))
        break
      case "submitted":
        update(
          event.jobId,
          () => ({ submitted: event, onTheWireSince: undefined, uncertain: undefined, resubmitting: undefined })
        )
        break
      case "status":
        update(event.jobId, () => ({ lastStatus: event.status }))
        break
      case "result":
        update(event.jobId, () => ({ result: event }))
        break
      case "downloaded":
        update(event.jobId, () => ({ downloaded: event, failed: undefined, finished: undefined }))
        break
      case "failed":
        update(
          event.jobId,
          (job) => ({ failed: event, onTheWireSince: undefined, uncertain: uncertainAfter(job, event) })
        )
        break
      case "finished":
        update(event.jobId, () => ({ finished: event.report, onTheWireSince: undefined }))
        break
    }
  }
  const folded = new Map<string, JournaledJob>()
  for (const [jobId, job] of jobs) {
    const { onTheWireSince: _, ...state } = answerLost(job)
    folded.set(jobId, state)
  }
  return { run, resumedAt, jobs: folded }
}
