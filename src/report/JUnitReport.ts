import type { JobReport } from "../domain/JobReport.js"
import type { Report } from "./Report.js"

// Everything outside XML 1.0's Char production, lone surrogates included (matched as code points under `u`).
const ILLEGAL_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
  "\t": "&#9;",
  "\n": "&#10;"
}

/** Element text: newlines stay literal; `\r` is a reference so parsers do not fold it into `\n`. */
export const escapeXmlText = (value: string): string =>
  value.replace(ILLEGAL_XML_CHARS, "").replace(/[&<>"'\r]/g, (c) => ENTITIES[c] ?? c)

/** Attribute values: whitespace as references, which attribute normalization would otherwise turn into spaces. */
export const escapeXmlAttribute = (value: string): string =>
  value.replace(ILLEGAL_XML_CHARS, "").replace(/[&<>"'\r\t\n]/g, (c) => ENTITIES[c] ?? c)

const seconds = (ms: number): string => (ms / 1000).toFixed(3)

const attributes = (pairs: ReadonlyArray<readonly [string, string | number]>): string =>
  pairs.map(([name, value]) => ` ${name}="${escapeXmlAttribute(String(value))}"`).join("")

const jobSeconds = (job: JobReport): string => seconds((job.waitMs ?? 0) + (job.downloadMs ?? 0))

const failureBody = (job: JobReport): string =>
  [
    `tag: ${job.error?.tag ?? "Unknown"}`,
    `message: ${job.error?.message ?? "failed without a recorded error"}`,
    ...(job.error?.httpStatus === undefined ? [] : [`httpStatus: ${job.error.httpStatus}`]),
    ...(job.requestId === undefined ? [] : [`requestId: ${job.requestId}`]),
    ...(job.error?.detail === undefined ? [] : [`detail: ${job.error.detail}`])
  ].join("\n")

// JUnit has no "still running": a job an interrupted run left at the API is reported as not run, saying so.
const skipMessage = (job: JobReport): string =>
  job.status === "running"
    ? `running: request ${
      job.requestId ?? "(unknown)"
    } was not finished when the run was interrupted; resume picks it up`
    : job.error === undefined
    ? "skipped"
    : `${job.error.tag}: ${job.error.message}`

const outcome = (job: JobReport): ReadonlyArray<string> => {
  switch (job.status) {
    case "completed":
      return []
    case "failed":
      return [
        `      <failure${
          attributes([
            ["type", job.error?.tag ?? "Unknown"],
            ["message", job.error?.message ?? "failed without a recorded error"]
          ])
        }>${escapeXmlText(failureBody(job))}</failure>`
      ]
    case "skipped":
    case "running":
      return [`      <skipped${attributes([["message", skipMessage(job)]])}/>`]
  }
}

const systemOut = (job: JobReport): string =>
  [
    `seed: ${job.seed}${job.seedDrawn ? " (derived from seed_base)" : ""}`,
    `requestId: ${job.requestId ?? "(none)"}`,
    `output: ${job.output?.path ?? "(none)"}`,
    `prompt: ${job.params.prompt}`
  ].join("\n")

const testcase = (job: JobReport): ReadonlyArray<string> => [
  `    <testcase${attributes([["classname", job.shot], ["name", job.id], ["time", jobSeconds(job)]])}>`,
  ...outcome(job),
  `      <system-out>${escapeXmlText(systemOut(job))}</system-out>`,
  "    </testcase>"
]

/**
 * report.json as JUnit XML, one testcase per job, for CI dashboards. Counts come
 * from the jobs themselves so they always agree with the testcases listed.
 */
export const renderJUnit = (report: Report): string => {
  const failures = report.jobs.filter((job) => job.status === "failed").length
  const skipped = report.jobs.filter((job) => job.status === "skipped" || job.status === "running").length
  const counts = [
    ["tests", report.jobs.length],
    ["failures", failures],
    ["errors", 0],
    ["skipped", skipped],
    ["time", seconds(report.summary.wallMs)]
  ] as const
  const name = `shotlist: ${report.run.id}`
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites${attributes([["name", name], ...counts])}>`,
    `  <testsuite${attributes([["name", name], ...counts, ["timestamp", report.run.startedAt]])}>`,
    ...report.jobs.flatMap(testcase),
    "  </testsuite>",
    "</testsuites>",
    ""
  ].join("\n")
}
