/**
 * The crash trial: a 22-job run against an in-process emulator, killed with
 * SIGKILL 20 times at random (at a random moment, or at a random crash point)
 * and resumed after each kill, then resumed to its end. The emulator's log
 * says how often each job was submitted; every submission past the first
 * must be named in the report (`resubmitted`). `tsx bench/crash-trial.ts
 * [SEED]`; `CRASH_KILLS` changes the number of kills.
 */
import { FileSystem, Path } from "@effect/platform"
import { Duration, Effect } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { join } from "node:path"
import { type BenchResult, isMain, markdownTable, publish, repoRoot, runMain } from "./support/BenchResult.js"
import { BENCH_KEY, benchEmulator, readReport, writeSweepManifest } from "./support/BenchRun.js"

const JOBS = 22
const KILLS = Number(process.env["CRASH_KILLS"] ?? 20)
const CONCURRENCY = 4
/** Long enough that the run outlives its kills: 6 waves of 4 jobs, 20 s each (the emulator generates on while shotlist is dead). */
const GENERATION_MS = 20_000
const CRASH_POINTS = ["before-submit", "after-submit", "mid-download", "after-download", "before-report"] as const

/** A small seeded PRNG (mulberry32): a seed repeats the trial's kills. */
const prng = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** How one life of the process is ended: at a crash point (when one is drawn and reached), else after `afterMs`. */
interface Kill {
  readonly at: string | undefined
  readonly afterMs: number
}

interface Life {
  readonly kill: Kill | undefined
  readonly signal: string | null
  readonly code: number | null
  readonly stdout: string
  readonly stderrTail: string
}

/** `node bin/shotlist.js ARGS`, killed with SIGKILL after `afterMs` when given. */
const live = (args: ReadonlyArray<string>, env: Record<string, string>, kill: Kill | undefined) =>
  Effect.async<Life>((resume) => {
    const child = spawn(process.execPath, [join(repoRoot, "bin/shotlist.js"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: "1", ...env, ...(kill?.at === undefined ? {} : { SHOTLIST_CRASH_AT: kill.at }) },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)))
    const timer = kill === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), kill.afterMs)
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      resume(Effect.succeed({ kill, signal, code, stdout, stderrTail: stderr }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const describeKill = (kill: Kill | undefined) =>
  kill === undefined ? "none" : `${kill.at === undefined ? "" : `at ${kill.at}, else `}after ${kill.afterMs} ms`

/** Crash points reached once per life are drawn for their first time; the others for their 1st to 3rd. */
const drawPoint = (random: () => number) => {
  const point = CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)]!
  return `${point}:${point === "before-report" ? 1 : 1 + Math.floor(random() * 3)}`
}

export const crashTrial = (seed: number) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    execFileSync(process.execPath, [join(repoRoot, "scripts/build.mjs")], { cwd: repoRoot, stdio: "inherit" })
    const random = prng(seed)
    const emulator = yield* benchEmulator({ workers: 64, generationTimeModel: { kind: "fixed", ms: GENERATION_MS } })
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "shotlist-crash-trial-" })
    const manifest = yield* writeSweepManifest(root, "crash-trial", JOBS)
    const runDirectory = path.join(root, "run")
    const env = { SEGMIND_API_KEY: BENCH_KEY }
    const common = [
      "--base-url",
      emulator.baseUrl,
      "--concurrency",
      String(CONCURRENCY),
      "--rpm",
      "6000",
      "--expect",
      `${GENERATION_MS / 1000}s`
    ]
    const resumeArgs = ["resume", runDirectory, ...common]

    const lives: Array<Life & { readonly submissionsAfter: number }> = []
    let kills = 0
    while (kills < KILLS) {
      const kill: Kill = {
        at: random() < 0.5 ? drawPoint(random) : undefined,
        afterMs: Math.round(300 + random() * 2200)
      }
      const args = lives.length === 0 ? ["run", manifest, "--out", runDirectory, ...common] : resumeArgs
      const life = yield* live(args, env, kill)
      lives.push({ ...life, submissionsAfter: (yield* emulator.stats).submissions })
      if (life.signal === "SIGKILL") kills += 1
      // The run ended before its kill came: nothing is left to kill.
      else break
    }
    // To the end: a plain resume holds the submits a kill left uncertain; then they are sent, by name.
    const plain = yield* live(resumeArgs, env, undefined)
    lives.push({ ...plain, submissionsAfter: (yield* emulator.stats).submissions })
    const resent = plain.code === 1 && plain.stdout.includes("--resend-uncertain")
      ? yield* live([...resumeArgs, "--resend-uncertain"], env, undefined)
      : undefined
    if (resent !== undefined) lives.push({ ...resent, submissionsAfter: (yield* emulator.stats).submissions })

    const report = yield* readReport(path.join(runDirectory, "report.json"))
    const stats = yield* emulator.stats
    const bySeed = new Map<number, number>()
    for (const { body } of stats.submitted) {
      const jobSeed = (body as { readonly seed: number }).seed
      bySeed.set(jobSeed, (bySeed.get(jobSeed) ?? 0) + 1)
    }
    const jobs = report.jobs.map((job) => ({
      id: job.id,
      status: job.status,
      submissions: bySeed.get(job.seed) ?? 0,
      named: job.resubmitted?.reason
    }))
    const extra = jobs.reduce((sum, job) => sum + Math.max(0, job.submissions - 1), 0)
    const unnamed = jobs.filter((job) => job.submissions > 1 && job.named === undefined)
    const overNamed = jobs.filter((job) => job.submissions > 2)
    const held = report.jobs.filter((job) => job.resubmitted?.reason.startsWith("--resend-uncertain")).length
    const completed = report.summary.completed

    const result: BenchResult = {
      name: "crash-trial",
      title: `Crash trial: ${JOBS} jobs, ${kills} random SIGKILLs, each followed by a resume`,
      setup: `seed ${seed}; emulator in-process (every generation ${
        GENERATION_MS / 1000
      } s, request retention 1 h), concurrency ${CONCURRENCY}; each life of \`shotlist\` killed with SIGKILL after a random 0.3-2.5 s or, in half of the lives, sooner at a random crash point (${
        CRASH_POINTS.join(", ")
      }, the 1st-3rd time reached); then a plain \`resume\`, and \`resume --resend-uncertain\` if it held any submit.`,
      table: markdownTable(
        ["life", "command", "kill", "ended by", "submissions so far"],
        lives.map((life, index) => [
          index + 1,
          index === 0
            ? "run"
            : index >= lives.length - (resent === undefined ? 1 : 2)
            ? "resume (to the end)"
            : "resume",
          describeKill(life.kill),
          life.signal ?? `exit ${life.code}`,
          life.submissionsAfter
        ])
      ),
      targets: [
        {
          target: "every job completed",
          measured: `${completed} of ${JOBS}`,
          met: completed === JOBS
        },
        {
          target: "every submission past a job's first is named in the report",
          measured: `${extra} extra, ${unnamed.length} unnamed (${unnamed.map((job) => job.id).join(", ") || "none"})`,
          met: unnamed.length === 0
        },
        {
          target: "no job submitted more than twice",
          measured: `${overNamed.length} jobs (${overNamed.map((job) => job.id).join(", ") || "none"})`,
          met: overNamed.length === 0
        }
      ],
      notes: [
        `emulator submissions: ${stats.submissions} for ${JOBS} jobs; ${extra} extra, each on a job named in the report: ${
          jobs.filter((job) => job.named !== undefined).map((job) => `${job.id} (${job.submissions}x: ${job.named})`)
            .join("; ") || "none"
        }`,
        `submits held as uncertain at the end and sent again by --resend-uncertain: ${held}`,
        `kills: ${kills}; lives: ${lives.length}`
      ],
      figures: {
        seed,
        kills,
        lives: lives.map(({ code, kill, signal, submissionsAfter }) => ({ kill, signal, code, submissionsAfter })),
        jobs,
        extra,
        unnamed: unnamed.length,
        submissions: stats.submissions
      }
    }
    return yield* publish(result)
  }).pipe(Effect.scoped)

if (isMain(import.meta.url)) {
  runMain(crashTrial(Number(process.argv[2] ?? 2026)).pipe(Effect.timeout(Duration.minutes(20)), Effect.orDie))
}
