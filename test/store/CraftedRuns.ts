import { FileSystem, Path } from "@effect/platform"
import { Effect, Schema } from "effect"
import type { Job } from "../../src/domain/Job.js"
import { jobReportBase } from "../../src/domain/JobReport.js"
import { expandJobs } from "../../src/manifest/JobExpansion.js"
import { loadManifest } from "../../src/manifest/ManifestLoader.js"
import { JournalEvent } from "../../src/store/Journal.js"

const encodeEvent = Schema.encodeSync(Schema.parseJson(JournalEvent))

/** The 20 jobs of the twenty-seeds fixture: real jobs for journals written by hand. */
export const fixtureJobs = Effect.flatMap(loadManifest("test/fixtures/runs/twenty-seeds.yaml"), expandJobs)

/** A run's first journal line, started at `at`. */
export const runEvent = (runId: string, name: string, at: string): JournalEvent => ({
  _tag: "run",
  at,
  runId,
  manifest: { path: `/manifests/${name}.yaml`, sha256: "0".repeat(64) },
  name,
  model: "seedance-1.5-pro",
  baseUrl: "http://127.0.0.1:9",
  emulator: true,
  concurrency: 2,
  rpm: 60
})

export const plannedEvent = (job: Job, at: string): JournalEvent => ({ _tag: "planned", at, job })

/** `finished` as a run writes it for a job that ended without a video. */
export const finishedEvent = (
  job: Job,
  at: string,
  status: "failed" | "skipped",
  tag: string,
  cost?: number
): JournalEvent => ({
  _tag: "finished",
  at,
  jobId: job.id,
  report: {
    ...jobReportBase(job),
    status,
    attempts: 1,
    error: { tag, message: `${tag} (written by the test)` },
    ...(cost === undefined ? {} : { cost })
  }
})

/** Writes a run directory holding only `journal.jsonl` with these events. */
export const writeJournal = (runDirectory: string, events: ReadonlyArray<JournalEvent>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(runDirectory, { recursive: true })
    yield* fs.writeFileString(
      path.join(runDirectory, "journal.jsonl"),
      events.map((event) => encodeEvent(event) + "\n").join("")
    )
  })

/** `days` days before `nowMs`, as a journal time stamp. */
export const daysAgo = (nowMs: number, days: number) => new Date(nowMs - days * 86_400_000).toISOString()
