import { Command, Options } from "@effect/cli"
import type { ServeError } from "@effect/platform/HttpServerError"
import { Config, Console, Duration, Effect, Option } from "effect"
import { defaultEmulatorConfig, noFaults, type ScriptedFault } from "../emulator/EmulatorConfig.js"
import { reportUsageError, usageError } from "./UsageErrors.js"

const SCRIPT_ENDPOINTS = ["submit", "status", "result", "download", "upload"] as const
const SCRIPT_FAULTS = [
  "500",
  "502",
  "503",
  "504",
  "429",
  "drop",
  "drop-after",
  "502-after",
  "504-after",
  "slow",
  "truncate"
] as const

/** "submit:2:drop-after,download:1:truncate" -> scripted faults. */
const parseScript = (text: string) =>
  Effect.forEach(
    text.split(",").map((part) => part.trim()).filter((part) => part.length > 0),
    (part) => {
      const [endpoint, call, fault] = part.split(":")
      const known = SCRIPT_ENDPOINTS.find((e) => e === endpoint) !== undefined &&
        SCRIPT_FAULTS.find((f) => f === fault) !== undefined &&
        /^[1-9]\d*$/.test(call ?? "")
      return known
        ? Effect.succeed({ endpoint, call: Number(call), fault } as ScriptedFault)
        : usageError(
          `--script entry ${JSON.stringify(part)} must be ENDPOINT:CALL:FAULT with ENDPOINT one of ${
            SCRIPT_ENDPOINTS.join(", ")
          } and FAULT one of ${SCRIPT_FAULTS.join(", ")}`
        )
    }
  )

const rate = (name: string, description: string) =>
  Options.float(name).pipe(
    Options.withDescription(`${description} (a probability from 0 to 1; default 0)`),
    Options.withDefault(0)
  )

/** Every fault rate is a probability: 1.5 or -0.1 would be a typo, refused rather than read as "always" or "never". */
const checkRates = (rates: Readonly<Record<string, number>>) =>
  Effect.forEach(
    Object.entries(rates),
    ([flag, value]) =>
      value >= 0 && value <= 1
        ? Effect.void
        : usageError(`--${flag} is a probability from 0 to 1 (got ${value}); e.g. 0.1 for one call in ten`),
    { discard: true }
  )

const errorCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined

/** Why the server could not listen, in one line that names the flag to change. */
const cannotListen = (error: ServeError, host: string, port: number) => {
  const code = errorCode(error.cause)
  return usageError(
    code === "EADDRINUSE"
      ? `port ${port} on ${host} is in use (another emulator?): stop what holds it, or choose another with --port (0 picks a free one)`
      : code === "EACCES"
      ? `port ${port} needs privileges here: choose one above 1023 with --port`
      : code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN"
      ? `--host ${host} is no address of this machine: use 127.0.0.1 (the default), 0.0.0.0 or one of its own addresses`
      : `cannot listen on ${host} port ${port} (${code ?? "unknown error"}): choose another --host or --port`
  )
}

export const emulatorCommand = Command.make(
  "emulator",
  {
    port: Options.integer("port").pipe(
      Options.withDescription("TCP port to listen on; 0 picks a free one (default 8787)"),
      Options.withDefault(8787)
    ),
    host: Options.text("host").pipe(
      Options.withDescription(
        "interface to listen on (default 127.0.0.1: this machine only); 0.0.0.0 listens on every interface and so exposes the emulator to the network, while the URLs in its answers keep naming 127.0.0.1: for other machines, give this one's own address"
      ),
      Options.withDefault("127.0.0.1")
    ),
    key: Options.text("key").pipe(
      Options.withDescription(
        `the API key it accepts (default: $SEGMIND_API_KEY, else ${defaultEmulatorConfig.apiKey})`
      ),
      Options.optional
    ),
    workers: Options.integer("workers").pipe(
      Options.withDescription("generations run at once; the rest queue (default 2)"),
      Options.withDefault(2)
    ),
    timeScale: Options.float("time-scale").pipe(
      Options.withDescription(
        "factor on generation times: 1 takes ~3 s for 5 s of 720p, 0.1 is ten times faster (default 1)"
      ),
      Options.withDefault(1)
    ),
    ttl: Options.integer("ttl").pipe(
      Options.withDescription("seconds a result is kept after submission, then 404 (default 3600)"),
      Options.withDefault(3600)
    ),
    failRate: rate("fail-rate", "generations that end FAILED"),
    errorRate: rate("error-rate", "answers that are a 5xx, on every endpoint"),
    dropRate: rate("drop-rate", "connections dropped without an answer"),
    truncateRate: rate("truncate-rate", "downloads cut off after half the bytes"),
    slowRate: rate("slow-rate", "answers delayed by --slow-ms"),
    slowMs: Options.integer("slow-ms").pipe(
      Options.withDescription("milliseconds a slow answer is delayed (default 5000)"),
      Options.withDefault(5000)
    ),
    rateLimit: Options.integer("rate-limit").pipe(
      Options.withDescription("keyed calls allowed per minute; past it, 429 with Retry-After (default: no limit)"),
      Options.optional
    ),
    credits: Options.integer("credits").pipe(
      Options.withDescription("submits accepted before answering 406, insufficient credits (default: no limit)"),
      Options.optional
    ),
    burstRate: rate("burst-rate", "keyed calls answered 429 with Retry-After: --retry-after"),
    retryAfter: Options.integer("retry-after").pipe(
      Options.withDescription("seconds a 429 burst asks to wait (default 1)"),
      Options.withDefault(1)
    ),
    script: Options.text("script").pipe(
      Options.withDescription(
        "faults on given calls, e.g. submit:2:drop-after,download:1:truncate (faults: 500 502 503 504 429 drop drop-after 502-after 504-after slow truncate; default: none)"
      ),
      Options.withDefault("")
    ),
    faultSeed: Options.integer("fault-seed").pipe(
      Options.withDescription("seed of the fault draws, to repeat a run's faults (default 1)"),
      Options.withDefault(1)
    )
  },
  (args) =>
    Effect.gen(function*() {
      yield* checkRates({
        "fail-rate": args.failRate,
        "error-rate": args.errorRate,
        "drop-rate": args.dropRate,
        "truncate-rate": args.truncateRate,
        "slow-rate": args.slowRate,
        "burst-rate": args.burstRate
      })
      const script = yield* parseScript(args.script)
      const fromEnv = yield* Config.option(Config.string("SEGMIND_API_KEY"))
      const apiKey = Option.getOrElse(Option.orElse(args.key, () => fromEnv), () => defaultEmulatorConfig.apiKey)
      // Loaded here, not at start-up: the HTTP server and clip renderer only serve this command.
      const { Emulator } = yield* Effect.promise(() => import("../emulator/Emulator.js"))
      const emulator = yield* Emulator.start({
        ...defaultEmulatorConfig,
        apiKey,
        port: args.port,
        host: args.host,
        workers: args.workers,
        timeScale: args.timeScale,
        resultTtl: Duration.seconds(args.ttl),
        faults: {
          ...noFaults,
          seed: args.faultSeed,
          script,
          rateLimitedRate: args.burstRate,
          retryAfterSeconds: args.retryAfter,
          failRate: args.failRate,
          serverErrorRate: {
            submit: args.errorRate,
            status: args.errorRate,
            result: args.errorRate,
            download: args.errorRate
          },
          dropRate: args.dropRate,
          truncateRate: args.truncateRate,
          slowRate: args.slowRate,
          slowDelay: Duration.millis(args.slowMs),
          rateLimitPerMinute: Option.getOrUndefined(args.rateLimit),
          creditsAfterSubmissions: Option.getOrUndefined(args.credits)
        }
      }).pipe(Effect.catchTag("ServeError", (error) => cannotListen(error, args.host, args.port)))
      yield* Console.log(
        `Segmind emulator on ${emulator.baseUrl}${
          args.host === "0.0.0.0" || args.host === "::" ? ` (listening on ${args.host}: every interface)` : ""
        }`
      )
      yield* Console.log(
        Option.isSome(fromEnv) && Option.isNone(args.key)
          ? "key: the value of $SEGMIND_API_KEY"
          : `key: ${apiKey}   (SEGMIND_API_KEY=${apiKey} shotlist run MANIFEST --base-url ${emulator.baseUrl})`
      )
      yield* Console.log("stats: GET /_emulator/stats; Ctrl-C stops it")
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.catchTag("UsageError", reportUsageError))
).pipe(
  Command.withDescription(
    "Serve a local emulator of Segmind's v2 API until stopped (on 127.0.0.1 unless --host says otherwise): real MP4 clips from ffmpeg, a queueing worker pool, and injectable faults for testing. Exit 2: a flag out of range, or the port is taken."
  )
)
