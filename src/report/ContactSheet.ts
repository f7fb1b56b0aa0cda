import { isHttpUrl } from "../domain/HttpUrl.js"
import type { FrameRecord, JobReport } from "../domain/JobReport.js"
import { formatUsd } from "../segmind/ModelCatalog.js"
import { sha256Hex } from "../store/FileDigest.js"
import { localFrameCopy } from "../store/RunDirectory.js"
import { formatDuration } from "./DurationFormat.js"
import type { ClipStills } from "./Posters.js"
import type { Report } from "./Report.js"
import { type ShotGrid, type ShotLayout, shotLayout, storyboard, type SweepAxis, sweepText } from "./SheetLayout.js"
import { SHEET_SCRIPT } from "./SheetScript.js"
import { SHEET_STYLE } from "./SheetStyle.js"

/** Markup that is already safe; everything else goes through `escapeHtml`. */
class Html {
  constructor(readonly markup: string) {}
}

type Part = Html | string | number | ReadonlyArray<Html> | undefined

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/** The one escape for text and attribute values that come from a report. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)

const toMarkup = (part: Part): string =>
  part === undefined
    ? ""
    : part instanceof Html
    ? part.markup
    : typeof part === "string" || typeof part === "number"
    ? escapeHtml(String(part))
    : part.map((html) => html.markup).join("")

/** A template whose interpolations are escaped unless they are `Html` already, so none can be forgotten. */
const html = (strings: TemplateStringsArray, ...parts: ReadonlyArray<Part>): Html =>
  new Html(strings.reduce((out, text, i) => out + text + (i < parts.length ? toMarkup(parts[i]) : ""), ""))

/**
 * A relative path as a URL: `%`, `#`, `?` and spaces would change what it points to, and a
 * leading `word:` would read as a scheme (`javascript:`), so it is kept relative with `./`.
 */
const relativeUrl = (path: string) => {
  const encoded = encodeURI(path).replace(/[?#]/g, (c) => encodeURIComponent(c))
  return /^[a-z][a-z0-9+.-]*:/i.test(encoded) ? `./${encoded}` : encoded
}

/** The CSP source of the page's one script: nothing else on the page may run, whatever a report holds. */
const SCRIPT_HASH = `sha256-${Buffer.from(sha256Hex(SHEET_SCRIPT), "hex").toString("base64")}`

/** Width over height of a clip: as rendered where the report measured it, else as asked. */
const aspectOf = (job: JobReport): number => {
  const { output } = job
  if (output?.width !== undefined && output.height !== undefined && output.height > 0) {
    return output.width / output.height
  }
  const [w, h] = job.params.aspect_ratio.split(":").map(Number)
  return w !== undefined && h !== undefined && w > 0 && h > 0 ? w / h : 16 / 9
}

const clipSeconds = (job: JobReport) => job.output?.durationSeconds ?? job.params.duration

const row = (label: string, value: Part) => html`<dt>${label}</dt><dd>${value}</dd>`

const media = (job: JobReport, stills: ClipStills | undefined): Html =>
  job.output === undefined
    ? html`<div class="placeholder">no video (${job.status})</div>`
    : html`<video muted playsinline preload="none" data-src="${relativeUrl(job.output.path)}" data-duration="${
      clipSeconds(job)
    }"${
      stills === undefined ? undefined : html` poster="${relativeUrl(stills.poster)}"`
    } aria-label="${job.id}"></video>`

const frameSource = (frame: FrameRecord) =>
  isHttpUrl(frame.source)
    ? frame.source
    : frame.sha256 !== undefined
    ? relativeUrl(localFrameCopy(frame.source, frame.sha256))
    : relativeUrl(frame.source)

const still = (src: string, caption: string) =>
  html`<figure><img src="${src}" alt="${caption}" loading="lazy"><figcaption>${caption}</figcaption></figure>`

/** The frames a job was given, and the last frame of the clip it got. */
const stillsOf = (job: JobReport, stills: ClipStills | undefined): Html | undefined => {
  const given = (job.frames ?? []).map((frame) =>
    still(frameSource(frame), frame.role === "first_frame" ? "first frame" : "last frame given")
  )
  const last = stills === undefined ? [] : [still(relativeUrl(stills.lastFrame), "last frame of clip")]
  return given.length + last.length === 0 ? undefined : html`<div class="stills">${[...given, ...last]}</div>`
}

const durationText = (job: JobReport) =>
  job.output?.durationSeconds === undefined
    ? `${job.params.duration} s`
    : `${job.params.duration} s (clip ${job.output.durationSeconds.toFixed(2)} s)`

/** What sets a job apart from the others of its shot: seed, swept values, take. */
const differsText = (job: JobReport) =>
  [
    `seed ${job.seedDrawn ? `${job.seed} (derived)` : job.seed}`,
    ...Object.entries(job.sweep ?? {}).filter(([key]) => key !== "seed").map(([key, value]) =>
      `${key}=${String(value)}`
    ),
    ...(job.take === undefined ? [] : [`take ${job.take}`])
  ].join(" · ")

const costText = (job: JobReport) =>
  job.reusedFrom !== undefined ? "none (reused)" : job.cost === undefined ? undefined : formatUsd(job.cost)

const facts = (job: JobReport): Html => {
  const { output } = job
  const cost = costText(job)
  return html`<dl>
${row("status", html`<span class="status">${job.status}</span>`)}
${
    output?.width === undefined || output.height === undefined
      ? undefined
      : row("rendered", `${output.width}×${output.height}`)
  }
${row("duration", durationText(job))}
${cost === undefined ? undefined : row("cost", cost)}
${job.requestId === undefined ? undefined : row("request", job.requestId)}
${
    output === undefined
      ? undefined
      : row("file", html`<a href="${relativeUrl(output.path)}">${output.path.split("/").pop() ?? output.path}</a>`)
  }
${job.attempts > 1 ? row("attempts", job.attempts) : undefined}
${job.reusedFrom === undefined ? undefined : row("reused", `${job.reusedFrom.run} / ${job.reusedFrom.job}`)}
${job.resubmitted === undefined ? undefined : row("resubmitted", job.resubmitted.reason)}
</dl>`
}

const card = (job: JobReport, shotPrompt: string, stills: ClipStills | undefined): Html => {
  const pickable = job.status === "completed" && job.output !== undefined
  return html`<article class="card" data-job-id="${job.id}" data-shot="${job.shot}" data-status="${job.status}" data-seed="${job.seed}" data-sweep="${
    job.sweep === undefined ? "" : JSON.stringify(job.sweep)
  }" data-take="${job.take ?? ""}" data-pickable="${String(pickable)}" style="--aspect: ${aspectOf(job).toFixed(4)}">
<div class="media">${media(job, stills)}</div>
${
    job.output === undefined
      ? undefined
      : html`<div class="card-bar"><button type="button" class="sound" aria-pressed="false" title="sound on this clip only (a)">♪ sound</button><button type="button" class="pick" aria-pressed="false" title="keep this variant for the shot (p)">pick</button></div>`
  }
<p class="differs">${differsText(job)}</p>
${job.params.prompt === shotPrompt ? undefined : html`<p class="prompt">${job.params.prompt}</p>`}
${stillsOf(job, stills)}
${facts(job)}
<p class="job-id">${job.id}</p>
${
    job.error === undefined
      ? undefined
      : html`<p class="error"><strong>${job.error.tag}</strong> ${job.error.message}</p>`
  }
</article>`
}

/** The settings every variant of the shot shares, e.g. `5 s · 720p · 16:9 · audio`. */
const sharedParams = (layout: ShotLayout): string => {
  const first = layout.jobs[0]
  if (first === undefined) return ""
  const swept = new Set([layout.rows, layout.columns, ...layout.groups].map((axis) => axis?.key))
  const p = first.params
  const parts: ReadonlyArray<readonly [string, string]> = [
    ["duration", `${p.duration} s`],
    ["resolution", p.resolution],
    ["aspect_ratio", p.aspect_ratio],
    ["generate_audio", p.generate_audio ? "audio" : "silent"],
    ["camera_fixed", p.camera_fixed ? "camera fixed" : "camera free"]
  ]
  return parts.filter(([key]) => !swept.has(key)).map(([, text]) => text).join(" · ")
}

const axisHead = (axis: SweepAxis, value: SweepAxis["values"][number]) => sweepText([[axis.key, value]])

const gridTable = (
  layout: ShotLayout,
  grid: ShotGrid,
  cardOf: (job: JobReport) => Html
): Html => {
  const { columns, rows, width } = layout
  const allTaken = layout.jobs.every((job) => job.take !== undefined)
  const corner = rows === undefined ? undefined : html`<td class="corner"></td>`
  const columnHeads = columns === undefined
    ? undefined
    : html`<tr>${corner}${
      columns.values.map((value) =>
        html`<th scope="colgroup" colspan="${width}" class="column-head">${axisHead(columns, value)}</th>`
      )
    }</tr>`
  const takeHeads = width > 1 && allTaken
    ? html`<tr>${corner}${
      Array.from({ length: columns?.values.length ?? 1 }, () =>
        Array.from({ length: width }, (_, i) =>
          html`<th scope="col" class="take-head">take ${i + 1}</th>`)).flat()
    }</tr>`
    : undefined
  const cellMarkup = (jobs: ReadonlyArray<JobReport>): ReadonlyArray<Html> =>
    jobs.length === 0
      ? [html`<td class="empty" colspan="${width}">not in this run</td>`]
      : Array.from({ length: width }, (_, i) => {
        const job = jobs[i]
        return job === undefined ? html`<td class="empty"></td>` : html`<td>${cardOf(job)}</td>`
      })
  const bodyRows = grid.cells.map((cells, r) =>
    html`<tr>${
      rows === undefined
        ? undefined
        : html`<th scope="row" class="row-head">${rows.key}=<wbr>${String(rows.values[r] ?? "")}</th>`
    }${cells.flatMap(cellMarkup)}</tr>`
  )
  return html`<div class="grid-scroll"><table class="sweep-grid" data-rows="${rows?.key ?? ""}" data-columns="${
    columns?.key ?? ""
  }">${grid.fixed.length === 0 ? undefined : html`<caption>${sweepText(grid.fixed)}</caption>`}${
    columnHeads === undefined && takeHeads === undefined ? undefined : html`<thead>${columnHeads}${takeHeads}</thead>`
  }<tbody>${bodyRows}</tbody></table></div>`
}

/** The shot's control: plays, pauses, seeks and loops all of its clips together. */
const shotControl = (layout: ShotLayout): Html | undefined => {
  const clips = layout.jobs.filter((job) => job.output !== undefined)
  if (clips.length === 0) return undefined
  const length = Math.max(...clips.map(clipSeconds))
  return html`<div class="shot-control" role="group" aria-label="all clips of ${layout.shot}">
<button type="button" class="play" aria-label="play ${layout.shot}">▶</button>
<input type="range" class="seek" min="0" max="${length}" step="0.01" value="0" aria-label="position in ${layout.shot}">
<output class="time">0.00 / ${length.toFixed(2)} s</output>
<label><input type="checkbox" class="loop" checked> loop</label>
</div>`
}

const shotSection =
  (stills: ReadonlyMap<string, ClipStills>) => ([shot, jobs]: readonly [string, ReadonlyArray<JobReport>]): Html => {
    const layout = shotLayout(shot, jobs)
    const prompt = layout.jobs[0]?.params.prompt ?? ""
    const cardOf = (job: JobReport) => card(job, prompt, stills.get(job.id))
    return html`<section class="shot" data-shot="${shot}" data-variants="${jobs.length}">
<div class="shot-head">
<h2>${shot}${jobs.length > 1 ? html` <small>${jobs.length} variants</small>` : undefined}</h2>
<p class="shot-params">${sharedParams(layout)}</p>
<p class="prompt">${prompt}</p>
${shotControl(layout)}
</div>
${layout.grids.map((grid) => gridTable(layout, grid, cardOf))}
</section>`
  }

/** The storyboard's name: the manifest's `name`, else its file's stem. */
const storyboardName = (report: Report) =>
  report.run.name ?? report.run.manifest.path.split(/[\\/]/).pop()?.replace(/\.ya?ml$/i, "") ?? report.run.id

/**
 * A self-contained HTML page of a run's clips, shot by shot, each shot's
 * variants in a grid of its sweep, to compare them playing together and pick
 * one per shot. `stills` are the clips' posters and last frames where known.
 */
export const renderContactSheet = (
  report: Report,
  stills: ReadonlyMap<string, ClipStills> = new Map(),
  /** the run's animatic, relative to the run directory, when `shotlist assemble` made one */
  animatic?: string
): string => {
  const { run, summary } = report
  const stat = (name: string, value: number) => html`<span class="stat ${name}"><b>${value}</b> ${name}</span>`
  const cost = summary.cost
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="script-src '${SCRIPT_HASH}'; object-src 'none'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${storyboardName(report)} · contact sheet · ${run.id}</title>
<style>${new Html(SHEET_STYLE)}</style>
</head>
<body data-run-id="${run.id}">
<header class="summary">
<h1>${storyboardName(report)}</h1>
<span class="kind">contact sheet</span>
${stat("total", summary.total)}${stat("completed", summary.completed)}${stat("failed", summary.failed)}${
    stat("skipped", summary.skipped)
  }
<span>wall <b>${formatDuration(summary.wallMs, "exact")}</b></span>
${cost === undefined ? undefined : html`<span>cost <b>${formatUsd(cost.usd)}</b></span>`}
<span>run <code>${run.id}</code></span>
<span>model <code>${run.model}</code></span>
<span>${run.startedAt} → ${run.finishedAt}</span>
${
    run.aborted === undefined
      ? undefined
      : html`<p class="aborted">run aborted: <strong>${run.aborted.tag}</strong> ${run.aborted.message}</p>`
  }
<div class="picks-bar">
<span class="pick-count" aria-live="polite"></span>
<button type="button" class="export-picks" disabled>export picks.yaml</button>
<p class="keys"><kbd>j</kbd>/<kbd>k</kbd> or <kbd>↓</kbd>/<kbd>↑</kbd> shot · <kbd>h</kbd>/<kbd>l</kbd> or <kbd>←</kbd>/<kbd>→</kbd> variant · <kbd>space</kbd> play/pause · <kbd>p</kbd> pick · <kbd>a</kbd> sound · then <code>shotlist pin RUN_DIR --picks picks.yaml</code></p>
</div>
</header>
${
    animatic === undefined ? undefined : html`<section class="animatic" aria-label="animatic">
<h2>animatic</h2>
<video controls preload="metadata" src="${relativeUrl(animatic)}"></video>
<p>every shot's take in storyboard order, as <code>shotlist assemble</code> joined them</p>
</section>`
  }
<main>
${storyboard(report.jobs).map(shotSection(stills))}
</main>
<script>${new Html(SHEET_SCRIPT)}</script>
</body>
</html>
`
  return page.markup
}
