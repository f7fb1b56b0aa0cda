// A separate process that tries to take the run lock: bundled and spawned by RunLock.test.ts.
// It prints "ready", acquires on "go", prints the outcome as one JSON line and holds until stdin closes.
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { Effect, Either, Layer, Logger, LogLevel } from "effect"
import { createInterface } from "node:readline"
import { acquireRunLock } from "../../src/store/RunLock.js"

const runDirectory = process.argv[2]!
const lines = createInterface({ input: process.stdin })
const nextLine = () => new Promise<string>((resolve) => lines.once("line", resolve))
const stdinClosed = new Promise<void>((resolve) => lines.once("close", resolve))

process.stdout.write("ready\n")
await nextLine()
await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function*() {
      const outcome = yield* Effect.either(acquireRunLock(runDirectory))
      process.stdout.write(
        JSON.stringify(
          Either.isRight(outcome)
            ? { won: true, pid: process.pid }
            : { won: false, pid: process.pid, tag: outcome.left._tag, message: outcome.left.message }
        ) + "\n"
      )
      yield* Effect.promise(() => stdinClosed)
    })
  ).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)), Logger.withMinimumLogLevel(LogLevel.None))
)
