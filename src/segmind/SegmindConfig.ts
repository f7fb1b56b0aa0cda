import { Config, Context, Layer, Option, Redacted } from "effect"
import { SEEDANCE_MODEL } from "../domain/SeedanceParams.js"

export const DEFAULT_BASE_URL = "https://api.segmind.com"
export const DEFAULT_UPLOAD_URL = "https://workflows-api.segmind.com/upload-asset"

/** Where the client talks to and with which key; the key stays redacted until the header is set. */
export class SegmindConfig extends Context.Tag("shotlist/SegmindConfig")<
  SegmindConfig,
  {
    readonly baseUrl: string
    readonly apiKey: Redacted.Redacted<string>
    readonly model: string
    readonly uploadUrl: string
    /** how long one HTTP call may take before it counts as lost */
    readonly requestTimeoutMs: number
    /** how long a video download may go without a byte before the attempt counts as lost */
    readonly downloadIdleTimeoutMs: number
  }
>() {}

const trimSlash = (url: string) => url.replace(/\/+$/, "")

/**
 * Segmind's upload host differs from its API host; another server speaking the
 * same API (an emulator, a proxy) is expected to serve `/upload-asset` itself.
 */
export const uploadUrlFor = (baseUrl: string): string =>
  trimSlash(baseUrl) === DEFAULT_BASE_URL ? DEFAULT_UPLOAD_URL : `${trimSlash(baseUrl)}/upload-asset`

export interface SegmindSettings {
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  readonly uploadUrl?: string | undefined
  readonly model?: string | undefined
  readonly requestTimeoutMs?: number | undefined
  readonly downloadIdleTimeoutMs?: number | undefined
}

/** A key copied from a secret file often ends in a newline, which no HTTP client will send. */
const trimmedKey = (key: Redacted.Redacted<string>): Redacted.Redacted<string> => {
  const value = Redacted.value(key)
  return value.trim() === value ? key : Redacted.make(value.trim())
}

export const makeSegmindConfig = (settings: SegmindSettings): Context.Tag.Service<SegmindConfig> => ({
  baseUrl: trimSlash(settings.baseUrl),
  apiKey: trimmedKey(settings.apiKey),
  model: settings.model ?? SEEDANCE_MODEL,
  uploadUrl: settings.uploadUrl ?? uploadUrlFor(settings.baseUrl),
  requestTimeoutMs: settings.requestTimeoutMs ?? 60_000,
  downloadIdleTimeoutMs: settings.downloadIdleTimeoutMs ?? 30_000
})

export const layerSegmindConfig = (settings: SegmindSettings): Layer.Layer<SegmindConfig> =>
  Layer.succeed(SegmindConfig, makeSegmindConfig(settings))

/** The base URL: the flag when given, else `SEGMIND_BASE_URL`, else Segmind's. */
export const baseUrlConfig = (flag: Option.Option<string>): Config.Config<string> =>
  Option.match(flag, {
    onSome: (url) => Config.succeed(url),
    onNone: () => Config.string("SEGMIND_BASE_URL").pipe(Config.withDefault(DEFAULT_BASE_URL))
  })

export const apiKeyConfig: Config.Config<Redacted.Redacted<string>> = Config.redacted("SEGMIND_API_KEY").pipe(
  Config.map(trimmedKey)
)

/** Where local frames are uploaded, when not the default for the base URL. */

export const uploadUrlConfig: Config.Config<Option.Option<string>> = Config.option(Config.string("SEGMIND_UPLOAD_URL"))

/** The key's value, for the one place that sets the header. */
export const apiKeyHeader = (key: Redacted.Redacted<string>): string => Redacted.value(key)
