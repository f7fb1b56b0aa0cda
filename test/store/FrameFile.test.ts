import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { spawnSync } from "node:child_process"
import { MAX_FRAME_BYTES, readFrameFile } from "../../src/store/FrameFile.js"

/** A read that would spin or hang fails the test instead. */
const promptly = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => "still reading" as const }))

describe("a local frame, read right before each use", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped("a regular file of at most 30 MB is read whole", () =>
      Effect.gen(function*() {
        const frame = "test/fixtures/runs/frames/start.png"
        const bytes = yield* readFrameFile(frame)
        const whole = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFile(frame))
        expect(bytes.length).toBeGreaterThan(0)
        expect(Buffer.from(bytes).equals(Buffer.from(whole))).toBe(true)
      }))

    it.scoped("a symlink to /dev/zero, a FIFO, a directory or a file over 30 MB is refused, naming what it is", () =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped()
        yield* fs.symlink("/dev/zero", `${dir}/zero.png`)
        expect(spawnSync("mkfifo", [`${dir}/fifo.png`]).status).toBe(0)
        yield* fs.makeDirectory(`${dir}/folder.png`)
        // Sparse: 30 MB and one byte, no disk taken.
        yield* fs.writeFile(`${dir}/huge.png`, new Uint8Array())
        yield* fs.truncate(`${dir}/huge.png`, MAX_FRAME_BYTES + 1)

        const refusal = (name: string) => promptly(Effect.flip(readFrameFile(`${dir}/${name}`)))
        expect((yield* refusal("zero.png")).reason).toBe("it is a character device, not a regular file")
        expect((yield* refusal("fifo.png")).reason).toBe("it is a FIFO, not a regular file")
        expect((yield* refusal("folder.png")).reason).toBe("it is a directory, not a regular file")
        expect((yield* refusal("huge.png")).reason).toContain("a frame may be at most 30 MB")
        expect((yield* refusal("missing.png")).message).toContain(`${dir}/missing.png`)
      }))
  })
})
