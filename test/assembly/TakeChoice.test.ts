import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { chooseTakes, describeReason, type ShotChoice } from "../../src/assembly/TakeChoice.js"
import { JobReport } from "../../src/domain/JobReport.js"

const job = (id: string, shot: string, status: "completed" | "failed" | "skipped" | "running", duration = 4) =>
  Schema.decodeUnknownSync(JobReport)({
    id,
    shot,
    status,
    seed: 1,
    seedDrawn: false,
    params: {
      prompt: "p",
      duration,
      resolution: "480p",
      aspect_ratio: "16:9",
      seed: 1,
      camera_fixed: false,
      generate_audio: true,
      skip_moderation: false
    },
    attempts: 1,
    ...(status === "completed"
      ? { output: { path: `videos/${id}.mp4`, bytes: 1, sha256: "ab", sourceUrl: "https://x.test/a.mp4" } }
      : {})
  })

/** `shot: job (reason)` or `shot: card N s (why)`, the gist of each choice. */
const gist = (choices: ReadonlyArray<ShotChoice>) =>
  choices.map((choice) =>
    choice._tag === "Take"
      ? `${choice.shot}: ${choice.job.id} (${describeReason(choice.reason)})`
      : `${choice.shot}: card ${choice.durationSeconds} s (${choice.why})`
  )

// Shots interleaved, as a report of sweeps and takes lists them: storyboard order is first appearance.
const jobs = [
  job("opening~seed=11", "opening", "failed"),
  job("closeup", "closeup", "completed"),
  job("opening~seed=12", "opening", "completed"),
  job("opening~seed=13", "opening", "completed"),
  job("finale~take=1", "finale", "failed", 6),
  job("finale~take=2", "finale", "skipped", 8),
  job("coda", "coda", "running")
]

describe("choosing one take per shot", () => {
  it("keeps storyboard order; takes the only completed take, else the first of several; a shot with none is a card as long as its first job asked", () => {
    expect(gist(Either.getOrThrow(chooseTakes(jobs, undefined)))).toEqual([
      "opening: opening~seed=12 (first of 2 completed)",
      "closeup: closeup (only take)",
      "finale: card 6 s (no completed take: 1 failed, 1 skipped)",
      "coda: card 4 s (no completed take: 1 running)"
    ])
  })

  it("a pick wins over the first completed take; shots without a pick keep the default", () => {
    const picks = { file: "picks.yaml", picks: { opening: { job: "opening~seed=13", seed: 1 } } }
    expect(gist(Either.getOrThrow(chooseTakes(jobs, picks))).slice(0, 2)).toEqual([
      "opening: opening~seed=13 (picked)",
      "closeup: closeup (only take)"
    ])
  })

  it("refuses picks naming another shot's job, an unknown shot, or a take without video, all at once", () => {
    const picks = {
      file: "picks.yaml",
      picks: {
        opening: { job: "closeup", seed: 1 },
        finale: { job: "finale~take=2", seed: 1 },
        intro: { job: "intro", seed: 1 }
      }
    }
    const refused = Either.getLeft(chooseTakes(jobs, picks))
    expect(refused._tag).toBe("Some")
    if (refused._tag === "Some") {
      expect(refused.value.problems).toEqual([
        "shot opening: closeup is not one of its takes",
        "shot finale: the picked take finale~take=2 has no video (skipped)",
        "shot intro is not in this run"
      ])
    }
  })
})
