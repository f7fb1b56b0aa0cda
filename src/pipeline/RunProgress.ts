import { Context, Effect } from "effect"

/** Where a job stands, as progress shows it. */
export type JobPhase =
  | "waiting"
  | "submitted"
  | "queued"
  | "processing"
  | "downloading"
  | "completed"
  | "failed"
  | "skipped"

export interface ProgressEvent {
  readonly jobId: string
  readonly phase: JobPhase
  readonly message: string
  readonly atMs: number
}

/**
 * Watches a run: told when it starts and of every job's change of phase.
 * The command line draws it (a live view on a terminal); by default nothing
 * watches, and the log lines alone tell the story.
 */
export class RunProgress extends Context.Reference<RunProgress>()("shotlist/RunProgress", {
  defaultValue: () => ({
    started: (
      _run: {
        readonly total: number
        readonly alreadyDone: number
        readonly concurrency: number
        readonly atMs: number
      }
    ): Effect.Effect<void> => Effect.void,
    changed: (_event: ProgressEvent): Effect.Effect<void> => Effect.void
  })
}) {}
