import { ValidationError } from "@effect/cli"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer, Ref } from "effect"
import { cli } from "./cli/Cli.js"
import { ExitCode, ProcessExitCode } from "./cli/ExitCode.js"
import { stderrLoggerLayer } from "./cli/Logging.js"

const program = Effect.gen(function* () {
  yield* cli(process.argv)
  return yield* Ref.get(yield* ProcessExitCode)
}).pipe(
  // @effect/cli has already printed what was wrong with the command line.
  Effect.catchIf(ValidationError.isValidationError, () => Effect.succeed(ExitCode.Usage))
)

const layers = Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici, ProcessExitCode.layer, stderrLoggerLayer)

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
