import { Effect } from "effect"

/** Where a request is followed: its id and the two URLs the key is sent to. */
export interface FollowUrls {
  readonly requestId: string
  readonly statusUrl: string
  readonly responseUrl: string
}

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

/** The documented status and result URLs of `requestId` on `baseUrl`. */
export const followUrlsOn = (baseUrl: string, requestId: string): Omit<FollowUrls, "requestId"> => {
  const path = `${baseUrl}/v2/requests/${encodeURIComponent(requestId)}`
  return { statusUrl: `${path}/status`, responseUrl: path }
}

/**
 * Keeps the API key on the configured API origin: status and result URLs that
 * name another host (a hostile answer, a tampered journal) are rebuilt from
 * the request id on `baseUrl`, with a warning, once per request id.
 */
export const makeApiOriginGuard = (baseUrl: string) => {
  const apiOrigin = originOf(baseUrl)
  const warned = new Set<string>()

  return <A extends FollowUrls>(follow: A): Effect.Effect<A> =>
    Effect.suspend(() => {
      const foreign = [follow.statusUrl, follow.responseUrl].filter((url) => originOf(url) !== apiOrigin)
      if (foreign.length === 0) return Effect.succeed(follow)
      const rebuilt = { ...follow, ...followUrlsOn(baseUrl, follow.requestId) }
      if (warned.has(follow.requestId)) return Effect.succeed(rebuilt)
      warned.add(follow.requestId)
      const named = [...new Set(foreign.map((url) => originOf(url) ?? JSON.stringify(url.slice(0, 80))))].join(", ")
      return Effect.logWarning(
        `request ${follow.requestId}: the API named ${named} for its status or result, not ${apiOrigin}; ` +
          `the API key is sent only to ${apiOrigin}, so ${rebuilt.statusUrl} and ${rebuilt.responseUrl} are used`
      ).pipe(Effect.as(rebuilt))
    })
}
