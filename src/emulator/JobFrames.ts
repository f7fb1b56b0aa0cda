import type { HttpClient } from "@effect/platform"
import { Data, Effect, Option } from "effect"
import {
  FRAME_HEADER_BYTES,
  FRAME_MAX_BYTES,
  type FrameImage,
  frameImageOf,
  frameProblem
} from "../domain/FrameLimits.js"
import { sha256Hex } from "../store/FileDigest.js"
import type { EmulatorStore } from "./EmulatorState.js"

/** The request fields a frame comes in. */
export type FrameField = "first_frame_url" | "last_frame_url"

/** A frame the model cannot use: the request was accepted, and FAILS with this reason. */
export class FrameRefused extends Data.TaggedError("FrameRefused")<{
  readonly field: FrameField
  /** what follows the field's name: "is 100×100 (aspect 1.00): …", "could not be fetched: 404" */
  readonly reason: string
}> {
  override get message() {
    return `${this.field} ${this.reason}`
  }
}

/** A frame read and within the API's limits. */
export interface JobFrame {
  readonly bytes: Uint8Array
  readonly image: FrameImage
  readonly sha256: string
}

/** How long the emulator waits for a frame on another local server. */
const FETCH_TIMEOUT = "10 seconds"

/** Hosts the emulator fetches from: this machine only, so it never goes online. */
const isLoopback = (url: string): boolean => {
  const host = URL.canParse(url) ? new URL(url).hostname : ""
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * Reads a request's frame the way the API would, where it can: an upload it
 * stored, or any URL on this machine. A remote URL is not fetched (none).
 * A frame it cannot fetch, or outside the limits, is refused.
 */
export const makeFrameReader = (baseUrl: string, store: EmulatorStore, client: HttpClient.HttpClient) => {
  const ownAssets = `${baseUrl}/assets/`

  const stored = (field: FrameField, url: string) =>
    Effect.flatMap(
      store.asset(url.slice(ownAssets.length)),
      Option.match({
        onNone: () => Effect.fail(new FrameRefused({ field, reason: "could not be fetched: 404" })),
        onSome: (asset) => Effect.succeed(asset.bytes)
      })
    )

  const fetched = (field: FrameField, url: string) =>
    Effect.gen(function*() {
      const response = yield* client.get(url)
      if (response.status !== 200) {
        return yield* new FrameRefused({ field, reason: `could not be fetched: ${response.status}` })
      }
      const length = Number(response.headers["content-length"] ?? 0)
      const tooLarge = length >= FRAME_MAX_BYTES ? frameProblem(undefined, length) : undefined
      if (tooLarge !== undefined) {
        return yield* new FrameRefused({ field, reason: tooLarge })
      }
      return new Uint8Array(yield* response.arrayBuffer)
    }).pipe(
      Effect.scoped,
      Effect.timeoutFail({
        duration: FETCH_TIMEOUT,
        onTimeout: () => new FrameRefused({ field, reason: `could not be fetched: no answer in ${FETCH_TIMEOUT}` })
      }),
      Effect.catchTags({
        RequestError: (error) => new FrameRefused({ field, reason: `could not be fetched: ${error.message}` }),
        ResponseError: (error) => new FrameRefused({ field, reason: `could not be fetched: ${error.message}` })
      })
    )

  return Effect.fn("Emulator.readFrame")(function*(field: FrameField, url: string) {
    if (!url.startsWith(ownAssets) && !isLoopback(url)) return Option.none<JobFrame>()
    const bytes = yield* url.startsWith(ownAssets) ? stored(field, url) : fetched(field, url)
    const image = frameImageOf(bytes.subarray(0, FRAME_HEADER_BYTES))
    const problem = frameProblem(image, bytes.length)
    if (image === undefined || problem !== undefined) return yield* new FrameRefused({ field, reason: `${problem}` })
    return Option.some<JobFrame>({ bytes, image, sha256: sha256Hex(bytes) })
  })
}
