import { Option } from "effect"
import { isHttpUrl } from "../domain/HttpUrl.js"
import type { ResultResponse } from "./WireSchemas.js"

/** A URL found in a string, an array of candidates, or an object's usual keys. */
const urlIn = (value: unknown, depth = 0): Option.Option<string> => {
  if (isHttpUrl(value)) return Option.some(value)
  if (depth > 3 || value === null || typeof value !== "object") return Option.none()
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = urlIn(item, depth + 1)
      if (Option.isSome(found)) return found
    }
    return Option.none()
  }
  const record = value as Record<string, unknown>
  for (const key of ["url", "video_url", "video", "output", "uri", "file_url"]) {
    const found = urlIn(record[key], depth + 1)
    if (Option.isSome(found)) return found
  }
  return Option.none()
}

/**
 * Where a finished video's URL sits is open in Segmind's docs: `output` (a
 * string, an array or an object), `video.url`, `video_url` or `url`.
 */
export const findVideoUrl = (result: ResultResponse): Option.Option<string> =>
  urlIn(result.output).pipe(
    Option.orElse(() => urlIn(result.video)),
    Option.orElse(() => urlIn(result.video_url)),
    Option.orElse(() => urlIn(result.url))
  )
