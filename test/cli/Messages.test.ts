import { FileSystem, Path } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { fileURLToPath } from "node:url"
import { displayPath } from "../../src/cli/DisplayPath.js"
import { ManifestInvalid, ManifestUnreadable } from "../../src/manifest/ManifestErrors.js"
import {
  DownloadInvalid,
  DownloadProblem,
  PollDeadlineExceeded,
  RunAborted,
  RunDeadlineReached,
  SubmitUncertain,
  VideoMismatch
} from "../../src/pipeline/PipelineErrors.js"
import {
  BadRequest,
  Forbidden,
  GenerationFailed,
  InsufficientCredits,
  MethodNotAllowed,
  ModelNotFound,
  ModelRetired,
  NoVideoUrl,
  RateLimited,
  ResultExpired,
  ServerError,
  TransportError,
  Unauthorized,
  UnexpectedResponse,
  UploadFailed
} from "../../src/segmind/SegmindErrors.js"
import { RunLocked } from "../../src/store/RunLock.js"
import { runChildCli } from "../support/ChildCli.js"
import { loopbackServer } from "../support/LoopbackServer.js"
import { FAST_RUN, nodeContext, TEST_KEY, testEmulator } from "../support/TestRun.js"

const REPO = fileURLToPath(new URL("../..", import.meta.url))

/** The words of a line as a reader meets them: a tag `GenerationFailed` is "generation failed", `video.url` one word. */
const wordsOf = (text: string): ReadonlyArray<string> =>
  text.split(/\s+/).map((token) => token.replace(/^[^\w]+|[^\w]+$/g, "")).filter((token) => token.length > 0)
    .flatMap((token) => (/^[A-Z][a-z]+(?:[A-Z][a-z]+)+$/.test(token) ? token.split(/(?=[A-Z])/) : [token]))
    .map((word) => word.toLowerCase())

/** The first word said twice in a row ("unauthorized unauthorized"), if any. */
const doubledWord = (text: string): string | undefined =>
  wordsOf(text).find((word, index, words) => index > 0 && words[index - 1] === word)

/** Every server text a tag tends to be echoed in: alone, after a status code, as a prefix, or absent. */
const detailsFor = (tag: string): ReadonlyArray<string> => {
  const words = tag.replace(/([a-z])([A-Z])/g, "$1 $2")
  return [
    "",
    words,
    tag,
    `401 ${words}`,
    `HTTP 500 ${words}`,
    `${words}: the reason`,
    `${tag}. the reason`,
    "the reason"
  ]
}

const url = "https://api.segmind.com/v2/seedance-v1.5-pro"
const transport = new TransportError({ url, requestSent: true, code: "ECONNRESET", detail: "socket hang up" })

/** One error of each class, for each way a server may word its detail. */
const everyError = (detail: string) => [
  new BadRequest({ detail }),
  new Unauthorized({ detail }),
  new Forbidden({ detail }),
  new InsufficientCredits({ httpStatus: 402, detail }),
  new ModelNotFound({ url, detail }),
  new ResultExpired({ requestId: "r-1", url, detail }),
  new ResultExpired({ requestId: undefined, url, detail }),
  new MethodNotAllowed({ url, detail }),
  new ModelRetired({ detail }),
  new GenerationFailed({ requestId: "r-1", detail }),
  new RateLimited({ retryAfter: Option.none(), detail }),
  new ServerError({ httpStatus: 503, detail }),
  new TransportError({ url, requestSent: false, code: undefined, detail: detail || "connection refused" }),
  new UnexpectedResponse({ url, httpStatus: 418, problem: undefined, detail }),
  new UnexpectedResponse({ url, httpStatus: 200, problem: "no status", detail }),
  new NoVideoUrl({ requestId: "r-1" }),
  new UploadFailed({ reason: "NoFileUrl", frame: "frames/a.jpg", detail }),
  new UploadFailed({ reason: "FrameUnreadable", frame: "frames/a.jpg", detail: detail || "no such file" }),
  new PollDeadlineExceeded({ requestId: "r-1", after: Duration.minutes(15), byRun: false }),
  new PollDeadlineExceeded({ requestId: "r-1", after: Duration.minutes(15), byRun: true }),
  new DownloadInvalid({ url, problem: DownloadProblem.Truncated({ received: 10, expected: 20 }) }),
  new DownloadInvalid({ url, problem: DownloadProblem.NotPlayable({ reason: detail || "no moov box" }) }),
  new SubmitUncertain({ cause: transport }),
  new RunAborted({ stoppedBy: { tag: "Unauthorized", message: new Unauthorized({ detail }).message } }),
  new VideoMismatch({ url, keptAt: "rejected/a.mp4", reason: "video lasts 3.00 s, 5 s were requested" }),
  new RunDeadlineReached({}),
  new RunDeadlineReached({ rateLimitedFor: Duration.days(1) }),
  new ManifestUnreadable({ file: "a.yaml", reason: "no such file" }),
  new ManifestInvalid({ file: "a.yaml", issues: [] }),
  new RunLocked({ runDirectory: "output/a/1", lockFile: "output/a/1/.lock", pid: 1, host: "h", since: "now" })
]

describe("messages", () => {
  it("no error says a word twice in a row, alone or after its tag as the summary and the report print it", () => {
    for (const tag of ["Unauthorized", "BadRequest", "GenerationFailed", "ServerError", "InsufficientCredits"]) {
      for (const detail of detailsFor(tag)) {
        for (const error of everyError(detail)) {
          for (const line of [error.message, `${error._tag} ${error.message}`, `${error._tag}: ${error.message}`]) {
            expect(doubledWord(line), `${error._tag} with detail ${JSON.stringify(detail)}: ${line}`).toBeUndefined()
          }
        }
      }
    }
    expect(doubledWord("Unauthorized: Unauthorized")).toBe("unauthorized")
  })

  it("paths print relative to the working folder when inside it, else absolute, whichever way they were given", () => {
    expect(displayPath("/work/clone/output/a/1", "/work/clone")).toBe("output/a/1")
    expect(displayPath("output/a/1", "/work/clone")).toBe("output/a/1")
    expect(displayPath("./output/../output/a", "/work/clone")).toBe("output/a")
    expect(displayPath("/work/clone", "/work/clone")).toBe(".")
    expect(displayPath("../elsewhere/run", "/work/clone")).toBe("/work/elsewhere/run")
    expect(displayPath("/tmp/run", "/work/clone")).toBe("/tmp/run")
    expect(displayPath("/work/clone-2/run", "/work/clone")).toBe("/work/clone-2/run")
  })

  it.scopedLive("every line a run prints on stderr starts with shotlist:, warnings and failures included", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      // The blocked shot fails; a webhook on a closed port is a warning.
      const emulator = yield* testEmulator()
      const closed = yield* Effect.scoped(Effect.map(loopbackServer((_, response) => response.end()), (s) => s.url))
      const out = `${yield* fs.makeTempDirectoryScoped()}/run`
      const outcome = yield* runChildCli(
        [
          "run",
          "test/fixtures/runs/one-blocked.yaml",
          "--base-url",
          emulator.baseUrl,
          "--out",
          out,
          ...FAST_RUN,
          "--notify",
          closed
        ],
        { SEGMIND_API_KEY: TEST_KEY }
      )
      expect(outcome.code).toBe(1)
      const lines = outcome.stderr.trimEnd().split("\n")
      expect(lines.length).toBeGreaterThan(5)
      for (const line of lines) expect(line).toMatch(/^shotlist: /)
      expect(outcome.stderr).toMatch(/^shotlist: \d\d:\d\d:\d\d warning: /m)
      expect(outcome.stderr).toMatch(/^shotlist: \d\d:\d\d:\d\d \[\d\/3\] blocked: failed: GenerationFailed/m)
    }).pipe(Effect.provide(nodeContext)))

  it.scopedLive("usage and manifest errors: shotlist: lines, or file:line:col diagnostics an editor jumps to", () =>
    Effect.gen(function*() {
      for (
        const args of [
          ["run", "test/fixtures/runs/broken.yaml", "--emulator"],
          ["run", "no-such.yaml", "--emulator"],
          ["plan", "manifests/example.yaml", "--concurrency", "many"],
          ["run", "manifests/example.yaml", "--emulator", "--onyl", "x"]
        ]
      ) {
        const outcome = yield* runChildCli(args, {})
        expect(outcome.code, args.join(" ")).toBe(2)
        for (const line of outcome.stderr.trimEnd().split("\n")) {
          expect(line, args.join(" ")).toMatch(/^(shotlist: |test\/fixtures\/runs\/broken\.yaml:\d+:\d+: )/)
        }
      }
    }))

  it.scopedLive("run prints its folder relative to the working folder, though --out named it absolutely", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const folder = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-paths-" })
      yield* fs.copyFile(path.join(REPO, "test/fixtures/runs/one-blocked.yaml"), path.join(folder, "shots.yaml"))
      const emulator = yield* testEmulator()
      const outcome = yield* runChildCli(
        ["run", "shots.yaml", "--base-url", emulator.baseUrl, "--out", path.join(folder, "runs/a"), "--only", "meadow"],
        { SEGMIND_API_KEY: TEST_KEY },
        () => Effect.void,
        folder
      )
      expect(outcome.code, outcome.stderr).toBe(0)
      expect(outcome.stderr).toContain("rendering 1 jobs of shots.yaml into runs/a (")
      expect(outcome.stdout).toContain(
        "videos: runs/a/videos\nreport: runs/a/report.json\ncontact sheet: runs/a/report.html"
      )
    }).pipe(Effect.provide(nodeContext)))
})
