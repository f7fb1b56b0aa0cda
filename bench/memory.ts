/**
 * Peak memory while large videos download at once through the real pipeline:
 * RSS should not grow with the file size, since downloads stream to disk.
 */
import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { type BenchResult, isMain, markdownTable, publish, runMain } from "./support/BenchResult.js"
import { BENCH_CLIP_CACHE, BENCH_KEY, benchEmulator, readReport, writeSweepManifest } from "./support/BenchRun.js"
import { runShotlist } from "./support/ChildProcess.js"
import { fixed, mb } from "./support/Measure.js"

const JOBS = 4
const SIZES = [50_000_000, 500_000_000]
const GENERATION_MS = 2_000
const LIMIT_MB = 150

/** One run of 4 jobs whose videos are `bytes` long, by the command line in its own process, into a directory deleted afterwards. */
const runAtSize = (manifest: string, bytes: number) =>
  Effect.scoped(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const emulator = yield* benchEmulator({
        syntheticVideoBytes: bytes,
        generationTimeModel: { kind: "fixed", ms: GENERATION_MS }
      })
      const parent = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-memory-" })
      const runDirectory = `${parent}/run`
      const child = yield* runShotlist(
        [
          "run",
          manifest,
          "--base-url",
          emulator.baseUrl,
          "--out",
          runDirectory,
          "--concurrency",
          String(JOBS),
          "--rpm",
          "6000",
          "--expect",
          `${GENERATION_MS}ms`,
          "--no-reuse"
        ],
        { SEGMIND_API_KEY: BENCH_KEY }
      )
      if (child.code !== 0) return yield* Effect.dieMessage(`shotlist exited with ${child.code}: ${child.stderrTail}`)
      const report = yield* readReport(`${runDirectory}/report.json`)
      const downloads = report.jobs.flatMap((job) => (job.downloadMs === undefined ? [] : [job.downloadMs]))
      return {
        fileBytes: bytes,
        completed: report.summary.completed,
        downloadedBytes: report.jobs.reduce((sum, job) => sum + (job.output?.bytes ?? 0), 0),
        peakRssMB: mb(child.peakRssBytes),
        cpuS: child.cpuMs / 1000,
        wallS: child.wallMs / 1000,
        slowestDownloadS: Math.max(...downloads) / 1000
      }
    })
  )

export const memoryBench = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-bench-memory-" })
  const manifest = yield* writeSweepManifest(directory, "bench-memory", JOBS)
  const rows = []
  for (const bytes of SIZES) rows.push(yield* runAtSize(manifest, bytes))
  // The padded files are large: only the small clip stays cached.
  const padded = (yield* fs.readDirectory(BENCH_CLIP_CACHE)).filter((name) => name.includes("-padded-"))
  yield* Effect.forEach(padded, (name) => fs.remove(`${BENCH_CLIP_CACHE}/${name}`), { discard: true })
  const largest = rows[rows.length - 1]!
  const smallest = rows[0]!
  return yield* publish(
    {
      name: "memory",
      title: "Memory: 4 large downloads at once",
      setup: `${JOBS} jobs at concurrency ${JOBS}, every generation ${
        GENERATION_MS / 1000
      } s, so the ${JOBS} videos download at the same time: \`shotlist run\` (the bundle bin/shotlist.js runs) in its own process streams each to disk, hashes it, checks the MP4 and renames it in; the emulator, in the benchmark's process, serves a real clip padded with a \`free\` box to the size. Peak RSS is the shotlist process's own high-water mark (VmHWM).`,
      table: markdownTable(
        [
          "video size (MB)",
          "completed",
          "downloaded (MB)",
          "peak RSS of shotlist (MB)",
          "CPU (s)",
          "wall (s)",
          "slowest download (s)"
        ],
        rows.map((r) => [
          fixed(r.fileBytes / 1e6, 0),
          `${r.completed}/${JOBS}`,
          fixed(r.downloadedBytes / 1e6, 0),
          fixed(r.peakRssMB, 0),
          fixed(r.cpuS, 1),
          fixed(r.wallS, 1),
          fixed(r.slowestDownloadS, 1)
        ])
      ),
      targets: [
        {
          target: `peak RSS < ${LIMIT_MB} MB for ${JOBS} × ${fixed(largest.fileBytes / 1e6, 0)} MB`,
          measured: `${fixed(largest.peakRssMB, 0)} MB`,
          met: largest.peakRssMB < LIMIT_MB
        },
        {
          target: "peak RSS does not grow with the file size",
          measured: `${fixed(smallest.peakRssMB, 0)} MB at ${fixed(smallest.fileBytes / 1e6, 0)} MB, ${
            fixed(largest.peakRssMB, 0)
          } MB at ${fixed(largest.fileBytes / 1e6, 0)} MB`,
          met: largest.peakRssMB <= smallest.peakRssMB * 1.2
        }
      ],
      notes: [],
      figures: { jobs: JOBS, generationMs: GENERATION_MS, runs: rows }
    } satisfies BenchResult
  )
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) runMain(memoryBench)
