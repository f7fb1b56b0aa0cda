import { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import { PicksInvalid, readPicksYaml } from "../report/Picks.js"

/** The picks file's one schema is the contact sheet's (`report/Picks.ts`): the page's export, `pick` and `assemble` share it. */
export type { Picks as PicksFile } from "../report/Picks.js"
export { PicksInvalid }

/** Reads and checks a picks file (YAML, so JSON too). */
export const readPicksFile = Effect.fn("PicksFile.read")(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((error) => new PicksInvalid({ file, reason: error.message }))
  )
  return yield* readPicksYaml(file, text)
})
