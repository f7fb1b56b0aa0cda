import { HttpClient, type HttpClientError } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Context, Effect, Exit, Layer, Ref, Scope } from "effect"
import { cli } from "./cli/Cli.js"
import { ExitCode, ProcessExitCode } from "./cli/ExitCode.js"
import { stderrLoggerLayer } from "./cli/Logging.js"
import { withTopLevelErrors } from "./cli/TopLevelErrors.js"
import { CrashPoints } from "./pipeline/CrashPoints.js"
import { PosterMaker } from "./report/Posters.js"

// Whatever fails a command ends it in one `shotlist: …` line and its exit code, never a stack trace.
const program = Effect.gen(function*() {
  yield* withTopLevelErrors(cli(process.argv))
  return yield* Ref.get(yield* ProcessExitCode)
})

/**
 * Undici's client (its megabyte of code, its connection pool) is loaded on
 * the first request: `plan`, `--help` and the other offline commands never
 * pay for it. Requests then go to that client unchanged.
 */
const undiciOnFirstRequest = Layer.scoped(
  HttpClient.HttpClient,
  Effect.gen(function*() {
    const scope = yield* Scope.Scope
    const undici = yield* Effect.cached(
      Effect.promise(() => import("@effect/platform-node/NodeHttpClient")).pipe(
        Effect.flatMap((module) => Layer.buildWithScope(module.layerUndici, scope)),
        Effect.map((context) => Context.get(context, HttpClient.HttpClient))
      )
    )
    return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
      (request) => Effect.flatMap(Effect.zip(request, undici), ([ready, client]) => client.execute(ready)),
      Effect.succeed
    )
  })
)

const layers = Layer.mergeAll(
  NodeContext.layer,
  undiciOnFirstRequest,
  ProcessExitCode.layer,
  stderrLoggerLayer,
  CrashPoints.layerFromEnv,
  PosterMaker.ffmpeg.pipe(Layer.provide(NodeContext.layer))
)

/**
 * The first SIGINT/SIGTERM interrupts the program (runMain): no new submits,
 * a submit on the wire still gets its id journaled, the report is written.
 * A second one exits at once; every journal line is written and fsynced
 * whole, so the journal stays consistent. Within a second of the first it is
 * the same stop delivered twice (`timeout`, a wrapper forwarding to the
 * process group), not a second Ctrl-C.
 */
const SAME_STOP_MS = 1000
let firstStopAt: number | undefined
const onStopSignal = () => {
  const now = performance.now()
  if (firstStopAt === undefined) {
    firstStopAt = now
    process.stderr.write(
      "shotlist: stopping: recording in-flight requests and writing the report (Ctrl-C again, a second from now, to exit at once)\n"
    )
  } else if (now - firstStopAt > SAME_STOP_MS) {
    process.stderr.write("shotlist: exiting at once; the journal keeps every recorded request id\n")
    process.exit(ExitCode.Interrupted)
  }
}
process.on("SIGINT", onStopSignal)
process.on("SIGTERM", onStopSignal)

program.pipe(
  Effect.provide(layers),
  NodeRuntime.runMain({
    disablePrettyLogger: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.match(exit, {
          onSuccess: (code) => (typeof code === "number" ? code : ExitCode.JobsFailed),
          onFailure: (cause) => (Cause.isInterruptedOnly(cause) ? ExitCode.Interrupted : ExitCode.JobsFailed)
        })
      )
  })
)
