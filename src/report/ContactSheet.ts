import { isHttpUrl } from "../domain/HttpUrl.js"
import type { JobReport } from "../domain/JobReport.js"
import { localFrameCopy } from "../store/RunDirectory.js"
import { formatDuration } from "./DurationFormat.js"
import type { Report } from "./Report.js"

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

/** Column header of a job among its shot's jobs: its sweep values and take, e.g. `seed=11 camera_fixed=true`. */
export const variantLabel = (job: JobReport): string => {
  const parts = [
    ...Object.entries(job.sweep ?? {}).map(([key, value]) => `${key}=${String(value)}`),
    ...(job.take === undefined ? [] : [`take ${job.take}`])
  ]
  return parts.length === 0 ? job.id : parts.join(" ")
}

/** Shots in order of first appearance, each with its jobs in report order. */
export const storyboard = (
  jobs: ReadonlyArray<JobReport>
): ReadonlyArray<readonly [string, ReadonlyArray<JobReport>]> => {
  const shots = new Map<string, Array<JobReport>>()
  for (const job of jobs) {
    const same = shots.get(job.shot)
    if (same === undefined) shots.set(job.shot, [job])
    else same.push(job)
  }
  return [...shots.entries()]
}

const row = (label: string, value: Part) => html`<dt>${label}</dt><dd>${value}</dd>`

const media = (job: JobReport): Html =>
  job.output === undefined
    ? html`<div class="placeholder">no video (${job.status})</div>`
    : html`<video controls muted preload="auto" src="${relativeUrl(job.output.path)}"></video>`

const firstFrame = (job: JobReport): Html | undefined => {
  const frame = job.frames?.find((f) => f.role === "first_frame")
  if (frame === undefined) return undefined
  const src = isHttpUrl(frame.source)
    ? frame.source
    : frame.sha256 !== undefined
    ? relativeUrl(localFrameCopy(frame.source, frame.sha256))
    : relativeUrl(frame.source)
  return html`<figure class="frame"><img src="${src}" alt="first frame" loading="eager"><figcaption>first frame</figcaption></figure>`
}

const durationText = (job: JobReport) =>
  job.output?.durationSeconds === undefined
    ? `${job.params.duration} s`
    : `${job.params.duration} s (clip ${job.output.durationSeconds.toFixed(2)} s)`

const sweepText = (job: JobReport) => {
  const entries = Object.entries(job.sweep ?? {})
  return entries.length === 0 ? undefined : entries.map(([key, value]) => `${key}=${String(value)}`).join(" ")
}

const card = (job: JobReport): Html => {
  const sweep = sweepText(job)
  return html`<article class="card" data-job-id="${job.id}" data-status="${job.status}">
<div class="media">${media(job)}${firstFrame(job)}</div>
<p class="job-id">${job.id}</p>
<p class="prompt">${job.params.prompt}</p>
<dl>
${row("status", html`<span class="status">${job.status}</span>`)}
${row("seed", job.seedDrawn ? `${job.seed} (drawn)` : job.seed)}
${sweep === undefined ? undefined : row("sweep", sweep)}
${job.take === undefined ? undefined : row("take", job.take)}
${row("duration", durationText(job))}
${job.attempts > 1 ? row("attempts", job.attempts) : undefined}
${job.reusedFrom === undefined ? undefined : row("reused", `${job.reusedFrom.run} / ${job.reusedFrom.job}`)}
</dl>
${
    job.error === undefined
      ? undefined
      : html`<p class="error"><strong>${job.error.tag}</strong> ${job.error.message}</p>`
  }
</article>`
}

const shotSection = ([shot, jobs]: readonly [string, ReadonlyArray<JobReport>]): Html =>
  jobs.length > 1
    ? html`<section class="shot" data-shot="${shot}">
<h2>${shot} <small>${jobs.length} variants</small></h2>
<div class="grid">${jobs.map((job) => html`<div class="column"><h3>${variantLabel(job)}</h3>${card(job)}</div>`)}</div>
</section>`
    : html`<section class="shot" data-shot="${shot}">
<h2>${shot}</h2>
<div class="single">${jobs.map(card)}</div>
</section>`

const STYLE = `
:root { color-scheme: dark; font-family: system-ui, sans-serif; background: #15171a; color: #e6e6e6; }
body { margin: 0; padding: 1rem 1.5rem 3rem; }
header.summary { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; border-bottom: 1px solid #333; padding-bottom: .75rem; }
header.summary h1 { font-size: 1.3rem; margin: 0 1rem 0 0; }
.stat b { font-size: 1.2rem; }
.stat.failed b { color: #ff7b72; } .stat.completed b { color: #7ee787; } .stat.skipped b { color: #d2a8ff; }
.aborted { width: 100%; color: #ff7b72; margin: 0; }
.shot { margin-top: 1.5rem; }
.shot h2 { font-size: 1.1rem; margin: 0 0 .5rem; } .shot h2 small { color: #8b949e; font-weight: normal; }
.grid { display: grid; grid-auto-flow: column; grid-auto-columns: minmax(280px, 1fr); gap: .75rem; overflow-x: auto; }
.single { max-width: 480px; }
.column h3 { font: 600 .85rem ui-monospace, monospace; color: #79c0ff; margin: 0 0 .35rem; }
.card { background: #1f2328; border: 1px solid #30363d; border-left: 4px solid #7ee787; border-radius: 6px; padding: .6rem; }
.card[data-status="failed"] { border-left-color: #ff7b72; } .card[data-status="skipped"] { border-left-color: #d2a8ff; }
.media { display: flex; gap: .5rem; align-items: flex-start; }
video, .placeholder { width: 100%; aspect-ratio: 16 / 9; background: #000; border-radius: 4px; min-width: 0; }
.placeholder { display: flex; align-items: center; justify-content: center; color: #8b949e; border: 1px dashed #484f58; background: #0d1117; }
.frame { margin: 0; flex: 0 0 30%; } .frame img { width: 100%; border-radius: 4px; display: block; }
.frame figcaption { font-size: .7rem; color: #8b949e; }
.job-id { font: .75rem ui-monospace, monospace; color: #8b949e; margin: .4rem 0 0; word-break: break-all; }
.prompt { white-space: pre-wrap; margin: .4rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .6rem; margin: 0; font-size: .85rem; }
dt { color: #8b949e; } dd { margin: 0; }
.error { color: #ff7b72; margin: .4rem 0 0; font-size: .85rem; white-space: pre-wrap; }
`

/** A self-contained HTML page of a run's clips, shot by shot, to compare variants side by side. */
export const renderContactSheet = (report: Report): string => {
  const { run, summary } = report
  const stat = (name: string, value: number) => html`<span class="stat ${name}"><b>${value}</b> ${name}</span>`
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Contact sheet · ${run.id}</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<header class="summary">
<h1>Contact sheet</h1>
${stat("total", summary.total)}${stat("completed", summary.completed)}${stat("failed", summary.failed)}${
    stat("skipped", summary.skipped)
  }
<span>wall <b>${formatDuration(summary.wallMs, "exact")}</b></span>
<span>run <code>${run.id}</code></span>
<span>model <code>${run.model}</code></span>
<span>${run.startedAt} → ${run.finishedAt}</span>
${
    run.aborted === undefined
      ? undefined
      : html`<p class="aborted">run aborted: <strong>${run.aborted.tag}</strong> ${run.aborted.message}</p>`
  }
</header>
<main>
${storyboard(report.jobs).map(shotSection)}
</main>
</body>
</html>
`
  return page.markup
}
