import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { XMLParser, XMLValidator } from "fast-xml-parser"
import { type JobReport } from "../../src/domain/JobReport.js"
import { SEEDANCE_DEFAULTS } from "../../src/domain/SeedanceParams.js"
import { renderJUnit } from "../../src/report/JUnitReport.js"
import { Report, summarize } from "../../src/report/Report.js"

const decodeReport = Schema.decodeUnknownSync(Report)

const job = (id: string, overrides: Partial<Record<keyof JobReport, unknown>> = {}): unknown => ({
  id,
  shot: id.split("-")[0],
  status: "completed",
  seed: 42,
  seedDrawn: false,
  params: { ...SEEDANCE_DEFAULTS, prompt: `a shot called ${id}`, seed: 42 },
  attempts: 1,
  ...overrides
})

// Decoded through the Report schema so the fixture is a report.json shotlist could have written.
const reportOf = (jobs: ReadonlyArray<unknown>, wallMs = 123_456): Report => {
  const decoded = decodeReport({
    schemaVersion: 1,
    tool: { name: "shotlist", version: "0.1.0" },
    run: {
      id: "2026-11-25T10-00-00Z-abcd",
      manifest: { path: "manifests/example.yaml", sha256: "0".repeat(64) },
      model: "seedance-1.5-pro",
      baseUrl: "https://api.segmind.com",
      concurrency: 4,
      rpm: 60,
      startedAt: "2026-11-25T10:00:00.000Z",
      finishedAt: "2026-11-25T10:02:03.456Z"
    },
    summary: { total: 0, completed: 0, failed: 0, skipped: 0, wallMs },
    jobs
  })
  return { ...decoded, summary: summarize(decoded.jobs, wallMs) }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => name === "testsuite" || name === "testcase"
})

type Node = Record<string, unknown>

const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value)

const nodes = (value: unknown): ReadonlyArray<Node> => (Array.isArray(value) ? value.filter(isNode) : [])

const attr = (node: Node, name: string): string => {
  const value = node[name]
  if (typeof value !== "string") throw new Error(`missing attribute ${name} in ${JSON.stringify(node)}`)
  return value
}

const text = (value: unknown): string => (typeof value === "string" ? value : isNode(value) ? attr(value, "#text") : "")

const COUNT = /^\d+$/
const SECONDS = /^\d+\.\d{3}$/
// Everything outside XML 1.0's Char production.
const ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

/** Checks the JUnit shape CI tools read (Jenkins/GitLab/Ant schema) and returns the one suite. */
const parseJUnit = (xml: string) => {
  expect(xml.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n`)).toBe(true)
  expect(ILLEGAL.test(xml)).toBe(false)
  expect(XMLValidator.validate(xml)).toBe(true)
  const doc: unknown = parser.parse(xml)
  if (!isNode(doc)) throw new Error("no document")
  expect(Object.keys(doc).filter((key) => key !== "?xml")).toEqual(["testsuites"])
  const root = doc["testsuites"]
  if (!isNode(root)) throw new Error("no <testsuites>")
  const suites = nodes(root["testsuite"])
  expect(suites).toHaveLength(1)
  const suite = suites[0]
  if (suite === undefined) throw new Error("no <testsuite>")
  for (const name of ["tests", "failures", "errors", "skipped"]) expect(attr(suite, name)).toMatch(COUNT)
  expect(attr(suite, "time")).toMatch(SECONDS)
  expect(Number.isNaN(Date.parse(attr(suite, "timestamp")))).toBe(false)
  for (const name of ["tests", "failures", "errors", "skipped", "time"]) {
    expect(attr(root, name)).toBe(attr(suite, name))
  }
  const testcases = nodes(suite["testcase"])
  for (const testcase of testcases) {
    attr(testcase, "name")
    attr(testcase, "classname")
    expect(attr(testcase, "time")).toMatch(SECONDS)
    expect(testcase["system-out"]).toBeDefined()
    const failure = testcase["failure"]
    if (failure !== undefined) {
      if (!isNode(failure)) throw new Error("<failure> without attributes")
      attr(failure, "type")
      attr(failure, "message")
    }
    const skipped = testcase["skipped"]
    if (skipped !== undefined && !isNode(skipped)) throw new Error("<skipped> without attributes")
  }
  return { root, suite, testcases }
}

describe("renderJUnit", () => {
  it("lists one testcase per job, with counts, times and outcomes a CI dashboard reads", () => {
    const report = reportOf([
      job("intro-001", {
        requestId: "req-1",
        waitMs: 95_000,
        downloadMs: 1_234,
        output: { path: "videos/intro-001.mp4", bytes: 10, sha256: "a".repeat(64), sourceUrl: "https://x/y.mp4" }
      }),
      job("chase-001", {
        status: "failed",
        requestId: "req-2",
        waitMs: 30_500,
        error: { tag: "GenerationFailed", message: "the model refused the prompt", httpStatus: 422 }
      }),
      job("chase-002", {
        status: "skipped",
        seedDrawn: true,
        error: { tag: "Interrupted", message: "not submitted: the run was interrupted" }
      })
    ])
    const { suite, testcases } = parseJUnit(renderJUnit(report))

    expect(attr(suite, "name")).toBe("shotlist: 2026-11-25T10-00-00Z-abcd")
    expect(attr(suite, "tests")).toBe("3")
    expect(attr(suite, "failures")).toBe(String(report.summary.failed))
    expect(attr(suite, "skipped")).toBe(String(report.summary.skipped))
    expect(attr(suite, "errors")).toBe("0")
    expect(attr(suite, "time")).toBe("123.456")
    expect(attr(suite, "timestamp")).toBe(report.run.startedAt)

    expect(testcases.map((t) => [attr(t, "classname"), attr(t, "name"), attr(t, "time")])).toEqual([
      ["intro", "intro-001", "96.234"],
      ["chase", "chase-001", "30.500"],
      ["chase", "chase-002", "0.000"]
    ])
    const [completed, failed, skipped] = testcases
    expect(completed?.["failure"]).toBeUndefined()
    expect(completed?.["skipped"]).toBeUndefined()
    expect(text(completed?.["system-out"])).toContain("requestId: req-1")
    expect(text(completed?.["system-out"])).toContain("output: videos/intro-001.mp4")
    expect(text(completed?.["system-out"])).toContain("seed: 42")

    const failure = failed?.["failure"]
    if (!isNode(failure)) throw new Error("the failed job has no <failure>")
    expect(attr(failure, "type")).toBe("GenerationFailed")
    expect(attr(failure, "message")).toBe("the model refused the prompt")
    expect(text(failure).split("\n")).toEqual([
      "tag: GenerationFailed",
      "message: the model refused the prompt",
      "httpStatus: 422",
      "requestId: req-2"
    ])

    const skip = skipped?.["skipped"]
    if (!isNode(skip)) throw new Error("the skipped job has no <skipped>")
    expect(attr(skip, "message")).toBe("Interrupted: not submitted: the run was interrupted")
    expect(skipped?.["failure"]).toBeUndefined()
    expect(text(skipped?.["system-out"])).toContain("requestId: (none)")
  })

  it("a job an interrupted run left running at the API counts as skipped, naming its request", () => {
    const report = reportOf([
      job("intro-001"),
      job("intro-002", { status: "running", requestId: "req-9", waitMs: 12_000 })
    ])
    const { suite, testcases } = parseJUnit(renderJUnit(report))
    expect(attr(suite, "tests")).toBe("2")
    expect(attr(suite, "failures")).toBe("0")
    expect(attr(suite, "skipped")).toBe(String(report.summary.skipped + (report.summary.running ?? 0)))
    expect(attr(suite, "skipped")).toBe("1")
    const skip = testcases[1]?.["skipped"]
    if (!isNode(skip)) throw new Error("the running job has no <skipped>")
    expect(attr(skip, "message")).toContain("req-9")
  })

  it("an empty run is still a valid suite with zero tests", () => {
    const { suite, testcases } = parseJUnit(renderJUnit(reportOf([], 0)))
    expect(attr(suite, "tests")).toBe("0")
    expect(attr(suite, "time")).toBe("0.000")
    expect(testcases).toHaveLength(0)
  })

  it("hostile prompts, ids and error messages are escaped, illegal characters dropped, and the XML still parses", () => {
    const hostile = `"><injected a='1'/>]]><!-- & &amp; <![CDATA[x]]>\u0000\u0001\u001b\u000b\uFFFE\uD800\r\n\ttab 🎬`
    const legal = hostile.replace(new RegExp(ILLEGAL.source, "gu"), "")
    const report = reportOf([
      job("evil-001", {
        shot: `shot ${hostile}`,
        id: `id ${hostile}`,
        params: { ...SEEDANCE_DEFAULTS, prompt: `prompt ${hostile}`, seed: 7 },
        requestId: `req ${hostile}`,
        status: "failed",
        error: { tag: `Tag${hostile}`, message: `message ${hostile}`, detail: `detail ${hostile}` }
      }),
      job("evil-002", { status: "skipped", error: { tag: "RunAborted", message: `aborted ${hostile}` } })
    ])
    const xml = renderJUnit(report)
    expect(xml).not.toContain("<injected")
    expect(xml).not.toContain("<!--")
    expect(xml).not.toContain("<![CDATA[")

    const { suite, testcases } = parseJUnit(xml)
    expect(attr(suite, "tests")).toBe("2")
    expect(attr(suite, "failures")).toBe("1")
    expect(attr(suite, "skipped")).toBe("1")
    const [evil, aborted] = testcases
    if (evil === undefined || aborted === undefined) throw new Error("missing testcases")
    // Attributes round-trip exactly, whitespace included, minus the characters XML cannot carry.
    expect(attr(evil, "classname")).toBe(`shot ${legal}`)
    expect(attr(evil, "name")).toBe(`id ${legal}`)
    const failure = evil["failure"]
    if (!isNode(failure)) throw new Error("no <failure>")
    expect(attr(failure, "type")).toBe(`Tag${legal}`)
    expect(attr(failure, "message")).toBe(`message ${legal}`)
    expect(text(failure)).toContain(`requestId: req ${legal}`)
    expect(text(failure)).toContain(`detail: detail ${legal}`)
    expect(text(evil["system-out"])).toContain(`prompt: prompt ${legal}`)
    const skip = aborted["skipped"]
    if (!isNode(skip)) throw new Error("no <skipped>")
    expect(attr(skip, "message")).toBe(`RunAborted: aborted ${legal}`)
  })
})
