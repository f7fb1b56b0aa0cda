import { ConfigError, Effect, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { defaultEmulatorConfig } from "../emulator/EmulatorConfig.js"
import { apiOriginOf, EMULATOR_ORIGIN } from "../pipeline/ReuseCache.js"
import { apiKeyConfig, baseUrlConfig, uploadUrlConfig } from "../segmind/SegmindConfig.js"
import { usageError } from "./UsageErrors.js"

/** The API a run talks to, with the key it sends. */
export interface ApiTarget {
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  /** where local frames upload, when not the default for the base URL */
  readonly uploadUrl: string | undefined
  readonly isEmulator: boolean
}

/** The embedded emulator for the life of the command, or Segmind (or --base-url) with the key. */
export const apiTarget = Effect.fn("ApiTarget.apiTarget")(
  function*(useEmulator: boolean, baseUrlFlag: Option.Option<string>) {
    if (useEmulator) {
      const apiKey = `SG_${randomBytes(8).toString("hex")}`
      // Loaded only for --emulator: the HTTP server and clip renderer stay out of every other start.
      const { Emulator } = yield* Effect.promise(() => import("../emulator/Emulator.js"))
      const emulator = yield* Emulator.start({ ...defaultEmulatorConfig, apiKey, port: 0 })
      yield* Effect.logInfo(`emulator serving on ${emulator.baseUrl}`)
      return { baseUrl: emulator.baseUrl, apiKey: Redacted.make(apiKey), uploadUrl: undefined, isEmulator: true }
    }
    const baseUrl = yield* baseUrlConfig(baseUrlFlag)
    const apiKey = yield* apiKeyConfig.pipe(
      Effect.catchIf(ConfigError.isMissingDataOnly, () =>
        usageError(
          "SEGMIND_API_KEY is not set. Export your key (SEGMIND_API_KEY=SG_… shotlist run …) or render on the local emulator with --emulator."
        ))
    )
    const uploadUrl = Option.getOrUndefined(yield* uploadUrlConfig)
    return { baseUrl, apiKey, uploadUrl, isEmulator: false } satisfies ApiTarget
  }
)

/** The origin a run with these flags renders on, known before anything starts: the key of the videos it may reuse. */
export const apiOriginOfFlags = (useEmulator: boolean, baseUrlFlag: Option.Option<string>) =>
  useEmulator
    ? Effect.succeed(EMULATOR_ORIGIN)
    : Effect.map(baseUrlConfig(baseUrlFlag), (baseUrl) => apiOriginOf({ emulator: false, baseUrl }))
