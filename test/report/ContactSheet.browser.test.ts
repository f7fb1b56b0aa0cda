import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg"
import { Effect, Layer, Schema } from "effect"
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll } from "vitest"
import { renderContactSheet } from "../../src/report/ContactSheet.js"
import { pickOf, readPicksYaml } from "../../src/report/Picks.js"
import { clipStills, PosterMaker } from "../../src/report/Posters.js"
import { Report } from "../../src/report/Report.js"
import { nodeContext, renderManifest, runCli, testEmulator } from "../support/TestRun.js"

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"
const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), "..", "artifacts", "contact-sheet.png")
const PROMPT = `A "red" kite <script>alert(1)</script> over it's dunes`
const FRAME = 1 / 24

let root = ""
let runDir = ""
let browser: Browser | undefined

const ffmpeg = (...args: ReadonlyArray<string>) =>
  execFileSync(ffmpegInstaller.path, ["-hide_banner", "-loglevel", "error", "-y", ...args])

const clip = (file: string, size: string) =>
  ffmpeg(
    ...["-f", "lavfi", "-i", `testsrc=size=${size}:rate=24`, "-f", "lavfi", "-i", "sine", "-t", "2"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"],
    ...["-movflags", "+faststart", file]
  )

const params = (seed: number, overrides: object = {}) => ({
  prompt: PROMPT,
  duration: 4,
  resolution: "480p",
  aspect_ratio: "4:3",
  seed,
  camera_fixed: true,
  generate_audio: true,
  skip_moderation: false,
  ...overrides
})

const completed = (id: string, shot: string, seed: number, extra: object = {}) => ({
  id,
  shot,
  status: "completed",
  seed,
  seedDrawn: false,
  params: params(seed),
  attempts: 1,
  requestId: `req-${seed}`,
  cost: 0.0864,
  output: {
    path: `videos/${id}.mp4`,
    bytes: 1,
    sha256: "00",
    sourceUrl: "https://files.example.test/out.mp4",
    durationSeconds: 2,
    width: 320,
    height: 240
  },
  ...extra
})

/** The dunes shot: camera_fixed down the rows, generate_audio across, two takes in each cell. */
const dunes = [true, false].flatMap((cameraFixed, r) =>
  [true, false].flatMap((audio, c) =>
    [1, 2].map((take) => {
      const seed = 11 + r * 4 + c * 2 + take - 1
      const sweep = { camera_fixed: cameraFixed, generate_audio: audio }
      const id = `dunes~camera_fixed=${cameraFixed}~generate_audio=${audio}~take=${take}`
      return { ...completed(id, "dunes", seed, { take, params: params(seed, sweep) }), sweep }
    })
  )
)

const reportOf = (manifestPath: string): Report =>
  Schema.decodeUnknownSync(Report)({
    schemaVersion: 1,
    tool: { name: "shotlist", version: "0.1.0" },
    run: {
      id: "browser-run",
      name: "dune-trailer",
      manifest: { path: manifestPath, sha256: "00" },
      model: "seedance-1.5-pro",
      baseUrl: "http://127.0.0.1:1",
      concurrency: 2,
      rpm: 60,
      startedAt: "2026-01-01T00:00:00Z",
      finishedAt: "2026-01-01T00:00:09Z"
    },
    summary: { total: 10, completed: 9, failed: 1, skipped: 0, wallMs: 9000 },
    jobs: [
      ...dunes,
      completed("kite", "kite", 21, {
        params: params(21, { aspect_ratio: "9:16" }),
        output: { ...completed("kite", "kite", 21).output, width: 180, height: 320 },
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

/** The manifest the fixture's run rendered: `pin` writes the page's picks into it. */
const MANIFEST = `version: 1
name: dune-trailer
defaults:
  duration: 4
  resolution: 480p
  aspect_ratio: "4:3"
  camera_fixed: true
shots:
  - id: dunes
    prompt: ${JSON.stringify(PROMPT)}
    takes: 2
    sweep:
      camera_fixed: [true, false]
      generate_audio: [true, false]
  - id: kite
    prompt: ${JSON.stringify(PROMPT)}
    aspect_ratio: "9:16"
    seed: 21
  - id: storm
    prompt: ${JSON.stringify(PROMPT)}
`

let report: Report

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "shotlist-contact-sheet-"))
  runDir = join(root, "run")
  mkdirSync(join(runDir, "videos"), { recursive: true })
  mkdirSync(join(runDir, "frames"))
  writeFileSync(join(root, "dune-trailer.yaml"), MANIFEST)
  report = reportOf(join(root, "dune-trailer.yaml"))
  const landscape = join(root, "landscape.mp4")
  clip(landscape, "320x240")
  for (const job of dunes) copyFileSync(landscape, join(runDir, job.output.path))
  clip(join(runDir, "videos", "kite.mp4"), "180x320")
  ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120", "-frames:v", "1", join(runDir, "frames", "start.png"))
  const stills = await Effect.runPromise(
    clipStills(runDir, report.jobs).pipe(
      Effect.provide(Layer.provideMerge(PosterMaker.ffmpeg, NodeContext.layer))
    )
  )
  writeFileSync(join(runDir, "report.json"), JSON.stringify(Schema.encodeSync(Report)(report)))
  writeFileSync(join(runDir, "report.html"), renderContactSheet(report, stills))
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
    })
  }
})

afterAll(async () => {
  await browser?.close()
  rmSync(root, { recursive: true, force: true })
})

/** A fresh page on the sheet; every console error, page error, dialog and failed request lands in `errors`. */
const openSheet = async (file = join(runDir, "report.html"), bypassCSP = true) => {
  expect(
    browser,
    `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`
  ).toBeDefined()
  // Playwright's string predicates run through eval, which the sheet's CSP forbids; one test keeps it on.
  const context = await browser!.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    bypassCSP
  })
  const page = await context.newPage()
  const errors: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`)
  })
  page.on("pageerror", (error) => errors.push(`page: ${error.message}`))
  page.on("requestfailed", (request) => errors.push(`request: ${request.url()}`))
  page.on("dialog", (dialog) => {
    errors.push(`dialog: ${dialog.message()}`)
    void dialog.dismiss()
  })
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" })
  return { page, errors, close: () => context.close() }
}

/** Scrolls every card into view, so the sheet's lazy clips and stills load, then waits for them. */
const loadEverything = async (page: Page) => {
  for (const card of await page.locator(".card").all()) await card.scrollIntoViewIfNeeded()
  // Page-side code as strings: the project compiles without the DOM lib.
  await page.waitForFunction(
    "[...document.querySelectorAll('video')].every((video) => video.readyState >= 2) && [...document.images].every((img) => img.complete)",
    undefined,
    { timeout: 30_000 }
  )
}

/** Page-side code as a string (the project compiles without the DOM lib): each element of `selector`, mapped. */
const mapAll = <R>(page: Page, selector: string, map: string) =>
  page.evaluate<Array<R>>(`[...document.querySelectorAll(${JSON.stringify(selector)})].map(${map})`)

const times = (page: Page, shot: string) =>
  mapAll<number>(page, `section[data-shot="${shot}"] video`, "(video) => video.currentTime")

describe("contact sheet in Chromium", () => {
  it("draws a card per job, the storyboard's name, the prompt once per shot, stills; every clip plays; no error", async () => {
    const { close, errors, page } = await openSheet()
    try {
      expect(await page.locator("h1").innerText()).toBe("dune-trailer")
      expect(await page.locator("video").count()).toBe(9)
      expect(await page.locator(".card").count()).toBe(report.jobs.length)
      await loadEverything(page)
      for (const job of report.jobs) {
        const text = await page.locator(`.card[data-job-id="${job.id}"]`).innerText()
        expect(text).toContain(job.id)
        expect(text).toContain(String(job.seed))
        expect(text).not.toContain(PROMPT)
      }
      for (const shot of ["dunes", "kite", "storm"]) {
        const text = await page.locator(`section[data-shot="${shot}"]`).innerText()
        expect(text.split(PROMPT)).toHaveLength(2)
      }
      const kite = await page.locator(`.card[data-job-id="kite"]`).innerText()
      for (const fact of ["180×320", "4 s (clip 2.00 s)", "$0.09", "req-21", "kite.mp4"]) expect(kite).toContain(fact)
      expect(await page.locator(`.card[data-job-id="storm"] .error`).innerText()).toContain(
        "the model <refused> the prompt"
      )
      // The first frame given, and each clip's poster and last frame, extracted by ffmpeg.
      expect(await mapAll(page, `img[alt="first frame"]`, "(img) => img.naturalWidth")).toEqual([160])
      expect(await mapAll(page, `img[alt="last frame of clip"]`, "(img) => img.naturalWidth")).toEqual([
        ...dunes.map(() => 320),
        180
      ])
      expect(await mapAll(page, "video", "(video) => video.poster.endsWith('.jpg')")).toEqual(
        Array.from({ length: 9 }, () => true)
      )

      await page.evaluate(
        "document.querySelectorAll('.grid-scroll').forEach((grid) => { grid.scrollLeft = 0 }); window.scrollTo(0, 0)"
      )
      mkdirSync(dirname(SCREENSHOT), { recursive: true })
      await page.screenshot({ path: SCREENSHOT, fullPage: true })
      expect(errors).toEqual([])
    } finally {
      await close()
    }
  })

  it("runs under its own CSP: the sheet's script works, any other inline script is refused", async () => {
    const { close, errors, page } = await openSheet(join(runDir, "report.html"), false)
    try {
      expect(await page.locator(".pick-count").innerText()).toBe("0 of 3 shots picked")
      expect(await page.locator(".card.focused").getAttribute("data-job-id")).toBe(dunes[0]!.id)
      await page.keyboard.press("l")
      expect(await page.locator(".card.focused").getAttribute("data-job-id")).toBe(dunes[1]!.id)
      expect(errors).toEqual([])
      await page.addScriptTag({ content: "document.body.dataset.injected = 'yes'" }).catch(() => undefined)
      expect(await page.locator("body").getAttribute("data-injected")).toBeNull()
      expect(errors.join("\n")).toContain("Content Security Policy")
    } finally {
      await close()
    }
  })

  it("lays a 2-key sweep with takes out as rows × columns with their values as heads; portrait clips keep their aspect", async () => {
    const { close, errors, page } = await openSheet()
    try {
      const grid = page.locator(`section[data-shot="dunes"] table.sweep-grid`)
      expect(await grid.count()).toBe(1)
      expect(await grid.getAttribute("data-rows")).toBe("camera_fixed")
      expect(await grid.getAttribute("data-columns")).toBe("generate_audio")
      expect(await grid.locator("thead .column-head").allInnerTexts()).toEqual([
        "generate_audio=true",
        "generate_audio=false"
      ])
      expect(await grid.locator("thead .take-head").allInnerTexts()).toEqual(["take 1", "take 2", "take 1", "take 2"])
      expect(await grid.locator("tbody .row-head").allInnerTexts()).toEqual(["camera_fixed=true", "camera_fixed=false"])
      const rows = await grid.locator("tbody tr").all()
      expect(rows).toHaveLength(2)
      for (const [r, cameraFixed] of [[0, true], [1, false]] as const) {
        const cards = `section[data-shot="dunes"] tbody tr:nth-child(${r + 1}) .card`
        expect(await mapAll(page, cards, "(card) => card.dataset.jobId")).toEqual(
          dunes.filter((job) => job.sweep.camera_fixed === cameraFixed).map((job) => job.id)
        )
        // Side by side: one row on screen, left to right in the order of the heads.
        const boxes = await mapAll<{ x: number; y: number }>(
          page,
          cards,
          "(card) => { const box = card.getBoundingClientRect(); return { x: box.x, y: box.y } }"
        )
        expect(new Set(boxes.map((box) => Math.round(box.y))).size).toBe(1)
        expect(boxes.map((box) => box.x)).toEqual([...boxes.map((box) => box.x)].sort((a, b) => a - b))
      }
      const aspect = async (id: string) =>
        (await mapAll<number>(
          page,
          `.card[data-job-id="${id}"] video`,
          "(video) => { const box = video.getBoundingClientRect(); return box.width / box.height }"
        ))[0]
      expect(await aspect("kite")).toBeCloseTo(180 / 320, 2)
      expect(await aspect(dunes[0]!.id)).toBeCloseTo(320 / 240, 2)
      expect(errors).toEqual([])
    } finally {
      await close()
    }
  })

  it("one control plays, pauses, seeks and loops all of a shot's clips together, within a frame", async () => {
    const { close, errors, page } = await openSheet()
    try {
      const shot = page.locator(`section[data-shot="dunes"]`)
      await shot.locator(".play").click()
      await page.waitForFunction(
        "[...document.querySelectorAll('section[data-shot=\"dunes\"] video')].every((v) => v.readyState >= 2 && !v.paused && v.currentTime > 0.3)",
        undefined,
        { timeout: 30_000 }
      )
      expect(await page.locator("video[src]").count()).toBeGreaterThanOrEqual(8)
      await shot.locator(".play").click()
      const paused = await times(page, "dunes")
      expect(Math.max(...paused) - Math.min(...paused)).toBeLessThanOrEqual(FRAME)
      expect(await mapAll(page, `section[data-shot="dunes"] video`, "(video) => video.paused")).toEqual(
        dunes.map(() => true)
      )

      await shot.locator(".seek").fill("1.3")
      for (const time of await times(page, "dunes")) expect(Math.abs(time - 1.3)).toBeLessThanOrEqual(FRAME)
      expect(await shot.locator(".time").innerText()).toBe("1.30 / 2.00 s")

      // Looping: from near the end, playback comes round to the start and goes on, all clips together.
      await shot.locator(".seek").fill("1.7")
      await shot.locator(".play").click()
      await page.waitForFunction(
        "(() => { const v = [...document.querySelectorAll('section[data-shot=\"dunes\"] video')]; return v.every((x) => !x.paused && x.currentTime > 0.2 && x.currentTime < 1) })()",
        undefined,
        { timeout: 10_000 }
      )
      await shot.locator(".play").click()
      const looped = await times(page, "dunes")
      expect(Math.max(...looped) - Math.min(...looped)).toBeLessThanOrEqual(FRAME)
      expect(errors).toEqual([])
    } finally {
      await close()
    }
  })

  it("sound plays from one clip at a time: turning one on mutes the others", async () => {
    const { close, errors, page } = await openSheet()
    try {
      const muted = () => mapAll(page, "video", "(video) => video.muted")
      const none = Array.from({ length: 9 }, () => true)
      expect(await muted()).toEqual(none)
      await page.locator(`.card[data-job-id="${dunes[1]!.id}"] .sound`).click()
      expect(await muted()).toEqual(none.map((_, i) => i !== 1))
      await page.locator(`.card[data-job-id="${dunes[2]!.id}"] .sound`).click()
      expect(await muted()).toEqual(none.map((_, i) => i !== 2))
      expect(await page.locator(`.sound[aria-pressed="true"]`).count()).toBe(1)
      await page.locator(`.card[data-job-id="${dunes[2]!.id}"] .sound`).click()
      expect(await muted()).toEqual(none)
      expect(errors).toEqual([])
    } finally {
      await close()
    }
  })

  it("picks by keyboard, keeps them across a reload, exports picks.yaml that `shotlist pin` writes into the manifest", async () => {
    const { close, errors, page } = await openSheet()
    try {
      const focused = () => page.locator(".card.focused").getAttribute("data-job-id")
      expect(await focused()).toBe(dunes[0]!.id)
      await page.keyboard.press("l")
      await page.keyboard.press("ArrowRight")
      expect(await focused()).toBe(dunes[2]!.id)
      await page.keyboard.press("h")
      await page.keyboard.press("l")
      await page.keyboard.press("p")
      await page.keyboard.press("j")
      expect(await focused()).toBe("kite")
      await page.keyboard.press("p")
      await page.keyboard.press("ArrowDown")
      expect(await focused()).toBe("storm")
      await page.keyboard.press("p") // a failed job has nothing to keep
      await page.keyboard.press("k")
      await page.keyboard.press("ArrowUp")
      expect(await focused()).toBe(dunes[2]!.id) // a shot opens on its pick
      await page.keyboard.press(" ")
      await page.waitForSelector(`section[data-shot="dunes"].playing`)
      await page.keyboard.press(" ")
      await page.waitForSelector(`section[data-shot="dunes"]:not(.playing)`)

      const picked = () => mapAll(page, ".card.picked", "(card) => card.dataset.jobId")
      expect(await picked()).toEqual([dunes[2]!.id, "kite"])
      expect(await page.locator(".pick-count").innerText()).toBe("2 of 3 shots picked")
      expect(JSON.parse(await page.evaluate<string>("localStorage.getItem('shotlist-picks:browser-run')"))).toEqual({
        dunes: dunes[2]!.id,
        kite: "kite"
      })
      await page.reload({ waitUntil: "load" })
      expect(await picked()).toEqual([dunes[2]!.id, "kite"])

      const [download] = await Promise.all([page.waitForEvent("download"), page.locator(".export-picks").click()])
      expect(download.suggestedFilename()).toBe("picks.yaml")
      const exported = join(root, "exported-picks.yaml")
      await download.saveAs(exported)
      const kite = report.jobs.find((job) => job.id === "kite")!
      expect(await Effect.runPromise(readPicksYaml(exported, readFileSync(exported, "utf8")))).toEqual({
        run: "browser-run",
        picks: { dunes: pickOf(report.jobs[2]!), kite: pickOf(kite) }
      })

      const pinned = await Effect.runPromise(
        runCli(["pin", runDir, "--picks", exported]).pipe(Effect.provide(nodeContext))
      )
      // The fixture's report records no real digest of the manifest.
      expect(pinned.stderr).toContain("changed since run browser-run; pinning its shots by id")
      expect(pinned.exitCode).toBe(0)
      const manifest = readFileSync(join(root, "dune-trailer.yaml"), "utf8")
      expect(manifest).toContain(`  # shotlist pin: kept ${dunes[2]!.id} of run browser-run; it replaced:
  #   takes: 2
  #   sweep:
  #     camera_fixed: [true, false]
  #     generate_audio: [true, false]
  - id: dunes
    prompt: ${JSON.stringify(PROMPT)}
    seed: 13
    camera_fixed: true
    generate_audio: false
  - id: kite`)
      expect(pinned.stdout).toContain("reuses the picked videos at no cost")
      expect(errors).toEqual([])
    } finally {
      await close()
    }
  })

  it("a 200-job sheet loads only the clips in view, and the rest as they scroll in", async () => {
    const many = Schema.decodeUnknownSync(Report)({
      ...Schema.encodeSync(Report)(report),
      jobs: Array.from(
        { length: 200 },
        (_, i) =>
          completed(`shot${Math.floor(i / 10)}~seed=${i}`, `shot${Math.floor(i / 10)}`, i + 1, {
            sweep: { seed: i + 1 },
            output: { ...completed("x", "x", 1).output, path: dunes[i % 8]!.output.path }
          })
      )
    })
    const file = join(runDir, "many.html")
    writeFileSync(file, renderContactSheet(many))
    const { close, errors, page } = await openSheet(file)
    try {
      expect(await page.locator("video").count()).toBe(200)
      const loaded = () => page.locator("video[src]").count()
      const atFirst = await loaded()
      expect(atFirst).toBeGreaterThan(0)
      expect(atFirst).toBeLessThan(40)
      await page.locator(`section[data-shot="shot19"] .card`).last().scrollIntoViewIfNeeded()
      await page.waitForFunction(
        "document.querySelector('section[data-shot=\"shot19\"] video:last-of-type[src]') !== null"
      )
      expect(await loaded()).toBeLessThan(100)
      expect(errors).toEqual([])
    } finally {
      await close()
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
    const { close, errors, page } = await openSheet(join(runDirectory, "report.html"))
    try {
      expect(await page.locator(".card").count()).toBe(2)
      await loadEverything(page)
      expect(
        await page.evaluate<Array<boolean>>("[...document.images].map((img) => img.complete && img.naturalWidth > 0)")
      ).toEqual([true, true])
      expect(errors).toEqual([])
    } finally {
      await close()
      rmSync(runDirectory, { recursive: true, force: true })
    }
  })
})
