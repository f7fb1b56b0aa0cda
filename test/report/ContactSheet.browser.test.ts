import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Effect, Schema } from "effect"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { chromium } from "playwright-core"
import { afterAll, beforeAll } from "vitest"
import { renderContactSheet } from "../../src/report/ContactSheet.js"
import { Report } from "../../src/report/Report.js"
import { nodeContext, renderManifest, testEmulator } from "../support/TestRun.js"

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"
const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), "..", "artifacts", "contact-sheet.png")
const PROMPT = `A "red" kite <script>alert(1)</script> over it's dunes`

let runDir = ""

const ffmpeg = (...args: ReadonlyArray<string>) =>
  execFileSync(ffmpegInstaller.path, ["-hide_banner", "-loglevel", "error", "-y", ...args])

const clip = (id: string) =>
  ffmpeg(
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=320x240:rate=24",
    "-f",
    "lavfi",
    "-i",
    "sine",
    "-t",
    "2",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    "-shortest",
    "-movflags",
    "+faststart",
    join(runDir, "videos", `${id}.mp4`)
  )

const params = (seed: number) => ({
  prompt: PROMPT,
  duration: 4,
  resolution: "480p",
  aspect_ratio: "4:3",
  seed,
  camera_fixed: true,
  generate_audio: true,
  skip_moderation: false
})

const completed = (id: string, shot: string, seed: number, extra: object = {}) => ({
  id,
  shot,
  status: "completed",
  seed,
  seedDrawn: false,
  params: params(seed),
  attempts: 1,
  output: {
    path: `videos/${id}.mp4`,
    bytes: 1,
    sha256: "00",
    sourceUrl: "https://files.example.test/out.mp4",
    durationSeconds: 2
  },
  ...extra
})

const report: Report = Schema.decodeUnknownSync(Report)({
  schemaVersion: 1,
  tool: { name: "shotlist", version: "0.1.0" },
  run: {
    id: "browser-run",
    manifest: { path: "manifest.yaml", sha256: "00" },
    model: "seedance-1.5-pro",
    baseUrl: "http://127.0.0.1:1",
    concurrency: 2,
    rpm: 60,
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:00:09Z"
  },
  summary: { total: 4, completed: 3, failed: 1, skipped: 0, wallMs: 9000 },
  jobs: [
    completed("dunes~seed=11~camera_fixed=true", "dunes", 11, { sweep: { seed: 11, camera_fixed: true } }),
    completed("dunes~seed=12~camera_fixed=true", "dunes", 12, { sweep: { seed: 12, camera_fixed: true } }),
    completed("kite", "kite", 21, {
      frames: [{ role: "first_frame", source: "frames/start.png", url: "https://uploads.example.test/start.png" }]
    }),
    {
      id: "storm",
      shot: "storm",
      status: "failed",
      seed: 31,
      seedDrawn: true,
      params: params(31),
      attempts: 3,
      error: { tag: "GenerationFailed", message: "the model <refused> the prompt" }
    }
  ]
})

beforeAll(() => {
  runDir = mkdtempSync(join(tmpdir(), "shotlist-contact-sheet-"))
  mkdirSync(join(runDir, "videos"))
  mkdirSync(join(runDir, "frames"))
  for (const job of report.jobs) if (job.output !== undefined) clip(job.id)
  ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120", "-frames:v", "1", join(runDir, "frames", "start.png"))
  writeFileSync(join(runDir, "report.html"), renderContactSheet(report))
})

afterAll(() => rmSync(runDir, { recursive: true, force: true }))

describe("contact sheet in Chromium", () => {
  it("plays every clip, draws one card per job and shows no error", async () => {
    expect(
      existsSync(CHROMIUM),
      `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`
    ).toBe(true)
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
      const errors: Array<string> = []
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`)
      })
      page.on("pageerror", (error) => errors.push(`page: ${error.message}`))
      page.on("dialog", (dialog) => {
        errors.push(`dialog: ${dialog.message()}`)
        void dialog.dismiss()
      })

      await page.goto(pathToFileURL(join(runDir, "report.html")).href, { waitUntil: "load" })

      const videos = report.jobs.filter((job) => job.output !== undefined).length
      expect(await page.locator("video").count()).toBe(videos)
      // Page-side code as strings: the project compiles without the DOM lib.
      await page.waitForFunction(
        "[...document.querySelectorAll('video')].every((video) => video.readyState >= 2)",
        undefined,
        {
          timeout: 30_000
        }
      )
      expect(await page.evaluate<Array<number>>("[...document.images].map((img) => img.naturalWidth)")).toEqual([160])

      const cards = page.locator(".card")
      expect(await cards.count()).toBe(report.jobs.length)
      for (const job of report.jobs) {
        const text = await page.locator(`.card[data-job-id="${job.id}"]`).innerText()
        expect(text).toContain(job.id)
        expect(text).toContain(String(job.seed))
        expect(text).toContain(PROMPT)
      }
      expect(await page.locator(".grid .column h3").allInnerTexts()).toEqual([
        "seed=11 camera_fixed=true",
        "seed=12 camera_fixed=true"
      ])
      expect(await page.locator(`.card[data-job-id="storm"] .error`).innerText()).toContain(
        "the model <refused> the prompt"
      )

      mkdirSync(dirname(SCREENSHOT), { recursive: true })
      await page.screenshot({ path: SCREENSHOT, fullPage: true })
      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  })

  it("the contact sheet a real run writes (local first frames, emulator videos) loads whole in the browser", async () => {
    const { report: rendered, runDirectory } = await Effect.runPromise(
      Effect.gen(function*() {
        const emulator = yield* testEmulator()
        const fs = yield* FileSystem.FileSystem
        const out = yield* fs.makeTempDirectory({ prefix: "shotlist-sheet-" })
        return yield* renderManifest("test/fixtures/runs/local-frames.yaml", emulator.baseUrl, { runDirectory: out })
      }).pipe(Effect.scoped, Effect.provide(nodeContext))
    )
    expect(rendered.summary.completed).toBe(2)
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] })
    try {
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`)
      })
      page.on("pageerror", (error) => errors.push(`page: ${error.message}`))
      page.on("requestfailed", (request) => errors.push(`request: ${request.url()}`))
      await page.goto(pathToFileURL(join(runDirectory, "report.html")).href, { waitUntil: "load" })
      expect(await page.locator(".card").count()).toBe(2)
      await page.waitForFunction(
        "[...document.querySelectorAll('video')].every((video) => video.readyState >= 2)",
        undefined,
        {
          timeout: 30_000
        }
      )
      expect(
        await page.evaluate<Array<boolean>>("[...document.images].map((img) => img.complete && img.naturalWidth > 0)")
      ).toEqual([true, true])
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      rmSync(runDirectory, { recursive: true, force: true })
    }
  })
})
