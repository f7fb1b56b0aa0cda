import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { createHash } from "node:crypto"
import { escapeHtml, renderContactSheet } from "../../src/report/ContactSheet.js"
import { Report } from "../../src/report/Report.js"
import { SHEET_SCRIPT } from "../../src/report/SheetScript.js"

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

/** The page without its own script, which is the same text whatever the report. */
const withoutOwnScript = (markup: string) => markup.replace(`<script>${SHEET_SCRIPT}</script>`, "")
const cardIds = [...page.matchAll(/class="card" data-job-id="([^"]*)"/g)].map((m) => m[1])

describe("renderContactSheet", () => {
  it("draws one card per job", () => {
    expect(cardIds).toHaveLength(report.jobs.length)
  })

  it("escapes every character of a prompt that could break out of the page", () => {
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;")
    expect(withoutOwnScript(page)).not.toMatch(/<script/i)
    expect(page).toContain("A &quot;quoted&quot; &lt;script&gt;alert(1)&lt;/script&gt; &amp; it&#39;s fine")
    expect(page).toContain("content &lt;flagged&gt; by moderation")
  })

  it("lays out shots in storyboard order, with a shot's sweep side by side", () => {
    const shots = [...page.matchAll(/<section class="shot" data-shot="([^"]*)"/g)].map((m) => m[1])
    expect(shots).toEqual(["opening", "closeup", "finale", "coda"])
    expect(cardIds).toEqual(["opening~seed=11", "opening~seed=12", "closeup", "finale", "coda"])
    expect(page).toMatch(/<th scope="colgroup" colspan="1" class="column-head">seed=11<\/th>[\s\S]*>seed=12<\/th>/)
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
    expect(page).toContain("3 (derived)")
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
    expect(page).not.toMatch(/<link/i)
    // The one script is the page's own, inline, and the only one its CSP lets run.
    expect(page.match(/<script/gi)).toHaveLength(1)
    expect(page).toContain(`<script>${SHEET_SCRIPT}</script>`)
  })
})

const HOSTILE = `"><img src=x onerror=alert(1)><script>alert(2)</script>'`

// Everything a report carries as text, hostile: a crafted report.json must not break out of any attribute or element.
const hostile = Schema.decodeUnknownSync(Report)({
  schemaVersion: 1,
  tool: { name: "shotlist", version: "0.1.0" },
  run: {
    id: `run${HOSTILE}`,
    name: `name${HOSTILE}`,
    manifest: { path: `m${HOSTILE}.yaml`, sha256: "cd" },
    model: `model${HOSTILE}`,
    baseUrl: "https://api.example.test",
    concurrency: 1,
    rpm: 1,
    startedAt: `start${HOSTILE}`,
    finishedAt: `end${HOSTILE}`,
    aborted: { tag: `Tag${HOSTILE}`, message: `aborted${HOSTILE}` }
  },
  summary: { total: 2, completed: 1, failed: 1, skipped: 0, wallMs: 1000 },
  jobs: [
    completed(`job${HOSTILE}`, `shot${HOSTILE}`, 5, {
      sweep: { resolution: `res${HOSTILE}`, [`key${HOSTILE}`]: true },
      take: 1,
      requestId: `req${HOSTILE}`,
      reusedFrom: { run: `from${HOSTILE}`, job: `job${HOSTILE}` },
      resubmitted: { reason: `again${HOSTILE}` },
      params: { ...params(`prompt${HOSTILE}`, 5), aspect_ratio: "16:9" },
      output: {
        path: `videos/${HOSTILE}.mp4`,
        bytes: 1,
        sha256: "ab",
        sourceUrl: "https://files.example.test/x.mp4",
        width: 720,
        height: 1280
      },
      frames: [{ role: "first_frame", source: `javascript:${HOSTILE}.png`, url: "https://x.test/a" }]
    }),
    {
      id: `failed${HOSTILE}`,
      shot: `shot${HOSTILE}`,
      status: "failed",
      seed: 6,
      seedDrawn: false,
      params: { ...params(`other prompt${HOSTILE}`, 6), aspect_ratio: "adaptive" },
      attempts: 2,
      error: { tag: `Err${HOSTILE}`, message: `msg${HOSTILE}`, detail: `detail${HOSTILE}` }
    }
  ]
})

describe("renderContactSheet with hostile text", () => {
  const hostilePage = renderContactSheet(
    hostile,
    new Map([[`job${HOSTILE}`, { poster: `posters/${HOSTILE}.jpg`, lastFrame: `posters/${HOSTILE}.last.jpg` }]])
  )
  const markup = withoutOwnScript(hostilePage)

  it("no report text opens an element or an attribute, in any field", () => {
    expect(markup).not.toMatch(/<script|<img src=x/i)
    // `onerror=` is there only as escaped text or inside an encoded URL, never as an attribute.
    const before = [...markup.matchAll(/(.{17})onerror=/g)].map((m) => m[1])
    expect(before.length).toBeGreaterThan(10)
    for (const text of before) expect(text).toMatch(/(?:&lt;img src=x |%3Cimg%20src=x%20)$/)
    expect(markup).not.toContain(HOSTILE)
    const escaped = escapeHtml(HOSTILE)
    for (
      const field of ["run", "name", "model", "start", "job", "shot", "req", "from", "again", "prompt", "msg", "Err"]
    ) {
      expect(markup, field).toContain(`${field}${escaped}`)
    }
    // Sweep keys and values reach the page's script only as escaped JSON in an attribute.
    expect(markup).toContain(`data-sweep="{&quot;resolution&quot;:&quot;res\\&quot;&gt;&lt;img`)
  })

  it("every URL the page takes from a report stays relative: no javascript: link, no broken-out src", () => {
    const urls = [...markup.matchAll(/\b(?:src|href|poster)="([^"]*)"/g)].map((m) => m[1] ?? "")
    expect(urls.length).toBeGreaterThanOrEqual(5)
    for (const url of urls) expect(url).not.toMatch(/^[a-z][a-z0-9+.-]*:/i)
    expect(urls).toContain(
      "./javascript:%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E%3Cscript%3Ealert(2)%3C/script%3E&#39;.png"
    )
  })

  it("the page's CSP lets its own script run and nothing else, and that script cannot be closed early", () => {
    const hash = createHash("sha256").update(SHEET_SCRIPT).digest("base64")
    expect(hostilePage).toContain(
      `<meta http-equiv="Content-Security-Policy" content="script-src 'sha256-${hash}'; object-src 'none'`
    )
    expect(SHEET_SCRIPT).not.toContain("</")
    expect(SHEET_SCRIPT).not.toContain("${")
  })

  it("a clip keeps the aspect it was rendered in (portrait stays portrait, whatever was asked); adaptive without a clip is 16:9", () => {
    expect(markup).toContain(`style="--aspect: 0.5625"`)
    expect(markup).toContain(`style="--aspect: 1.7778"`)
  })
})

describe("renderContactSheet: one shot's variants to compare", () => {
  it("shows the storyboard's name at the top, or the manifest's stem when the report has none", () => {
    expect(page).toContain("<h1>x</h1>")
    const named = renderContactSheet({ ...report, run: { ...report.run, name: "coastal-run" } })
    expect(named).toContain("<h1>coastal-run</h1>")
  })

  it("gives the prompt once per shot, not on every card", () => {
    const opening = page.slice(page.indexOf(`data-shot="opening"`), page.indexOf(`data-shot="closeup"`))
    expect(opening.match(/opening prompt/g)).toHaveLength(1)
    expect(opening.match(/class="card"/g)).toHaveLength(2)
  })

  it("tells on each card what differs, the aspect it was rendered in, durations, cost, request id and the file", () => {
    const rich = renderContactSheet({
      ...report,
      jobs: [{
        ...report.jobs[0]!,
        requestId: "req-123",
        cost: 0.125,
        output: { ...report.jobs[0]!.output!, width: 864, height: 480 }
      }]
    })
    const card = rich.slice(rich.indexOf(`class="card"`))
    expect(card).toContain(`<p class="differs">seed 11</p>`)
    expect(card).toContain("<dt>rendered</dt><dd>864×480</dd>")
    expect(card).toContain("<dt>duration</dt><dd>5 s (clip 5.04 s)</dd>")
    expect(card).toContain("<dt>cost</dt><dd>$0.13</dd>")
    expect(card).toContain("<dt>request</dt><dd>req-123</dd>")
    expect(card).toContain(`<dt>file</dt><dd><a href="videos/opening~seed=11.mp4">opening~seed=11.mp4</a></dd>`)
  })

  it("loads no clip up front: no src, preload none, the poster and last frame where the run has them", () => {
    const videos = page.match(/<video [^>]*>/g) ?? []
    expect(videos).toHaveLength(3)
    for (const video of videos) {
      expect(video).toContain(`preload="none"`)
      expect(video).not.toMatch(/\ssrc=/)
      expect(video).toMatch(/data-src="videos\//)
    }
    const withStills = renderContactSheet(
      report,
      new Map([["closeup", { poster: "posters/closeup.jpg", lastFrame: "posters/closeup.last.jpg" }]])
    )
    expect(withStills).toMatch(/<video [^>]*data-src="videos\/closeup.mp4"[^>]* poster="posters\/closeup.jpg"/)
    expect(withStills).toContain(`<img src="posters/closeup.last.jpg" alt="last frame of clip" loading="lazy">`)
  })

  it("only a completed job with a video can be picked", () => {
    const pickable = [...page.matchAll(/data-job-id="([^"]*)"[^>]*data-pickable="(true|false)"/g)].map((m) => [
      m[1],
      m[2]
    ])
    expect(pickable).toEqual([
      ["opening~seed=11", "true"],
      ["opening~seed=12", "true"],
      ["closeup", "true"],
      ["finale", "false"],
      ["coda", "false"]
    ])
    expect(page.match(/class="pick"/g)).toHaveLength(3)
  })
})
