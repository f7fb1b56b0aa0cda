import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { escapeHtml, renderContactSheet } from "../../src/report/ContactSheet.js"
import { Report } from "../../src/report/Report.js"

const FRAME_URL = "https://cdn.example.test/frames/start.png"
const NASTY = `A "quoted" <script>alert(1)</script> & it's fine`

const params = (prompt: string, seed: number) => ({
  prompt,
  duration: 5,
  resolution: "480p",
  aspect_ratio: "16:9",
  seed,
  camera_fixed: false,
  generate_audio: true,
  skip_moderation: false
})

const completed = (id: string, shot: string, seed: number, extra: object = {}) => ({
  id,
  shot,
  status: "completed",
  seed,
  seedDrawn: false,
  params: params(`${shot} prompt`, seed),
  attempts: 1,
  output: {
    path: `videos/${id}.mp4`,
    bytes: 1000,
    sha256: "ab",
    sourceUrl: "https://files.example.test/x.mp4",
    durationSeconds: 5.04
  },
  ...extra
})

// Shots interleaved on purpose: storyboard order is first appearance of a shot.
const report = Schema.decodeUnknownSync(Report)({
  schemaVersion: 1,
  tool: { name: "shotlist", version: "0.1.0" },
  run: {
    id: "2026-01-01T00-00-00Z-abc",
    manifest: { path: "manifests/x.yaml", sha256: "cd" },
    model: "seedance-1.5-pro",
    baseUrl: "https://api.example.test",
    concurrency: 2,
    rpm: 60,
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:02:05Z"
  },
  summary: { total: 5, completed: 3, failed: 1, skipped: 1, wallMs: 125_000 },
  jobs: [
    completed("opening~seed=11", "opening", 11, { sweep: { seed: 11 } }),
    {
      ...completed("closeup", "closeup", 7, {
        frames: [{ role: "first_frame", source: FRAME_URL, url: FRAME_URL }]
      }),
      params: { ...params(NASTY, 7), first_frame_url: FRAME_URL }
    },
    completed("opening~seed=12", "opening", 12, { sweep: { seed: 12 } }),
    {
      id: "finale",
      shot: "finale",
      status: "failed",
      seed: 3,
      seedDrawn: true,
      params: params("finale prompt", 3),
      attempts: 4,
      error: { tag: "GenerationFailed", message: "content <flagged> by moderation" }
    },
    {
      id: "coda",
      shot: "coda",
      status: "skipped",
      seed: 4,
      seedDrawn: false,
      params: params("coda prompt", 4),
      attempts: 0,
      frames: [{ role: "first_frame", source: "frames/coda start.png", url: FRAME_URL }]
    }
  ]
})

const page = renderContactSheet(report)
const cardIds = [...page.matchAll(/class="card" data-job-id="([^"]*)"/g)].map((m) => m[1])

describe("renderContactSheet", () => {
  it("draws one card per job", () => {
    expect(cardIds).toHaveLength(report.jobs.length)
  })

  it("escapes every character of a prompt that could break out of the page", () => {
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;")
    expect(page).not.toContain("<script>")
    expect(page).toContain("A &quot;quoted&quot; &lt;script&gt;alert(1)&lt;/script&gt; &amp; it&#39;s fine")
    expect(page).toContain("content &lt;flagged&gt; by moderation")
  })

  it("lays out shots in storyboard order, with a shot's sweep side by side", () => {
    const shots = [...page.matchAll(/<section class="shot" data-shot="([^"]*)"/g)].map((m) => m[1])
    expect(shots).toEqual(["opening", "closeup", "finale", "coda"])
    expect(cardIds).toEqual(["opening~seed=11", "opening~seed=12", "closeup", "finale", "coda"])
    expect(page).toMatch(/<h3>seed=11<\/h3>[\s\S]*<h3>seed=12<\/h3>/)
  })

  it("shows a failed job's error and a placeholder instead of its video", () => {
    const finale = page.slice(page.indexOf(`data-job-id="finale"`))
    expect(finale).toMatch(/^[^]*?<div class="placeholder">no video \(failed\)<\/div>/)
    expect(finale).toContain("<strong>GenerationFailed</strong>")
    expect(page.match(/<video /g)).toHaveLength(3)
    expect(page).toContain(`src="videos/opening~seed=11.mp4"`)
  })

  it("shows seed, duration and status of each job", () => {
    expect(page).toContain("5 s (clip 5.04 s)")
    expect(page).toContain("3 (drawn)")
    expect(page).toMatch(/<span class="stat failed"><b>1<\/b> failed<\/span>/)
    expect(page).toContain("2 min 5 s")
    expect(page).toContain("seedance-1.5-pro")
  })

  it("references no remote asset except the frame URLs the report gives", () => {
    const references = [...page.matchAll(/\b(?:src|href|poster|srcset)\s*=\s*"([^"]*)"|url\(([^)]*)\)|@import/gi)].map(
      (m) => m[1] ?? m[2] ?? m[0]
    )
    const remote = references.filter((ref) => /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i.test(ref) || ref.includes("//"))
    expect(remote).toEqual([FRAME_URL])
    expect(references).toContain("frames/coda%20start.png")
    expect(page).not.toMatch(/<link|<script/i)
  })
})
