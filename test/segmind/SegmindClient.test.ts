import { HttpClient, HttpClientError, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Layer, Option, Redacted, TestClock } from "effect"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { SegmindClient } from "../../src/segmind/SegmindClient.js"
import { layerSegmindConfig } from "../../src/segmind/SegmindConfig.js"

const BASE = "https://api.test"
const KEY = "SG_0123456789abcdef"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
}

type Answer =
  | { readonly status: number; readonly body: string; readonly headers?: Record<string, string> }
  | "refused"
  | "dropped"

/** A client whose every call is answered by `answer`; `seen` records what was sent. */
const clientAnswering = (answer: (request: HttpClientRequest.HttpClientRequest) => Answer, seen: Array<Seen> = []) => {
  const http = HttpClient.make((request) => {
    seen.push({ method: request.method, url: request.url, headers: { ...request.headers } })
    const a = answer(request)
    if (a === "refused" || a === "dropped") {
      const cause = a === "refused"
        ? Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })
        : Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })
      return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
    }
    return Effect.succeed(
      HttpClientResponse.fromWeb(
        request,
        new Response(a.body, { status: a.status, headers: a.headers ?? { "content-type": "application/json" } })
      )
    )
  })
  return SegmindClient.Default.pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, http)),
    Layer.provide(layerSegmindConfig({ baseUrl: BASE, apiKey: Redacted.make(KEY) }))
  )
}

const params: SeedanceParams = {
  prompt: "A lighthouse at dusk",
  duration: 5,
  resolution: "720p",
  aspect_ratio: "16:9",
  seed: 42,
  camera_fixed: false,
  generate_audio: true,
  skip_moderation: false
}

const submission = {
  requestId: "2c7f59ea-1111-2222-3333-444455556666",
  statusUrl: `${BASE}/v2/requests/2c7f59ea-1111-2222-3333-444455556666/status`,
  responseUrl: `${BASE}/v2/requests/2c7f59ea-1111-2222-3333-444455556666`
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({
  status,
  body: JSON.stringify(body),
  ...(headers === undefined ? {} : { headers: { "content-type": "application/json", ...headers } })
})

const submitError = (answer: Answer) =>
  Effect.flatMap(SegmindClient, (client) => Effect.either(client.submit(params))).pipe(
    Effect.provide(clientAnswering(() => answer))
  )

describe("SegmindClient", () => {
  it.effect("submits the exact body with the key header and reads the documented answer", () => {
    const seen: Array<Seen> = []
    return Effect.gen(function*() {
      const client = yield* SegmindClient
      const accepted = yield* client.submit(params)
      expect(accepted).toEqual(submission)
      expect(seen[0]?.method).toBe("POST")
      expect(seen[0]?.url).toBe(`${BASE}/v2/seedance-1.5-pro`)
      expect(seen[0]?.headers["x-api-key"]).toBe(KEY)
      expect(seen[0]?.headers["authorization"]).toBeUndefined()
    }).pipe(
      Effect.provide(
        clientAnswering(
          () =>
            json(200, {
              request_id: submission.requestId,
              status: "QUEUED",
              poll_url: `${BASE}/v1/requests/${submission.requestId}`,
              status_url: submission.statusUrl,
              response_url: submission.responseUrl
            }),
          seen
        )
      )
    )
  })

  it.effect("treats a 32-hex request id as opaque", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const accepted = yield* client.submit(params)
      expect(accepted.requestId).toBe("0123456789abcdef0123456789abcdef")
    }).pipe(
      Effect.provide(
        clientAnswering(() =>
          json(200, {
            request_id: "0123456789abcdef0123456789abcdef",
            status: "QUEUED",
            status_url: `${BASE}/s`,
            response_url: `${BASE}/r`
          })
        )
      )
    ))

  it.effect.each(
    [
      [400, "BadRequest"],
      [401, "Unauthorized"],
      [402, "InsufficientCredits"],
      [403, "Forbidden"],
      [404, "ModelNotFound"],
      [405, "MethodNotAllowed"],
      [406, "InsufficientCredits"],
      [410, "ModelRetired"],
      [429, "RateLimited"],
      [500, "ServerError"],
      [502, "ServerError"],
      [503, "ServerError"],
      [504, "ServerError"],
      [418, "UnexpectedResponse"]
    ] as const
  )("a submit answered %i fails as %s with the server's message", ([status, tag]) =>
    Effect.gen(function*() {
      const result = yield* submitError(json(status, { error: `server says ${status}` }))
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe(tag)
        expect(result.left.message).toBe(`server says ${status}`)
      }
    }))

  it.effect("the server's text is kept as detail, and the message does not say the tag again", () =>
    Effect.gen(function*() {
      const echoed = yield* submitError(json(401, { error: "Unauthorized: missing or invalid x-api-key" }))
      expect(Either.isLeft(echoed) && echoed.left).toMatchObject({
        _tag: "Unauthorized",
        detail: "Unauthorized: missing or invalid x-api-key",
        message: "missing or invalid x-api-key"
      })
      const bare = yield* submitError(json(401, { error: "Unauthorized" }))
      expect(Either.isLeft(bare) && bare.left.message).toBe("the API key is missing or invalid")
      const silent = yield* submitError({ status: 502, body: "", headers: {} })
      expect(Either.isLeft(silent) && silent.left).toMatchObject({ _tag: "ServerError", httpStatus: 502, detail: "" })
      expect(Either.isLeft(silent) && silent.left.message).toBe("HTTP 502")
      const nginx = yield* submitError({
        status: 502,
        body: "<html><h1>502 Bad Gateway</h1></html>",
        headers: { "content-type": "text/html" }
      })
      expect(Either.isLeft(nginx) && nginx.left.message).toBe("502 Bad Gateway")
    }))

  it.effect("a FAILED answer without a reason says which request failed, not FAILED twice", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const result = yield* Effect.either(client.status(submission))
      expect(Either.isLeft(result) && result.left).toMatchObject({ _tag: "GenerationFailed", detail: "FAILED" })
      expect(Either.isLeft(result) && result.left.message).toBe(
        `request ${submission.requestId} ended without a reason given`
      )
    }).pipe(Effect.provide(clientAnswering(() => json(422, { error: "FAILED" })))))

  it.effect("a transport error keeps the URL and the system's code as data", () =>
    Effect.gen(function*() {
      const result = yield* submitError("refused")
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "TransportError",
        url: `${BASE}/v2/seedance-1.5-pro`,
        requestSent: false,
        code: "ECONNREFUSED",
        message: "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1"
      })
    }))

  it.effect("an HTML error page becomes a readable message", () =>
    Effect.gen(function*() {
      const result = yield* submitError({
        status: 405,
        body: "<html><body><h1>405 Not Allowed</h1></body></html>",
        headers: { "content-type": "text/html" }
      })
      expect(Either.isLeft(result) && result.left.message).toBe("405 Not Allowed")
    }))

  it.effect("a 429 carries Retry-After in seconds", () =>
    Effect.gen(function*() {
      const result = yield* submitError(json(429, { error: "Rate limit exceeded" }, { "retry-after": "7" }))
      expect(Either.isLeft(result) && result.left._tag === "RateLimited" && result.left.retryAfter).toEqual(
        Option.some(Duration.seconds(7))
      )
    }))

  it.effect("a 429 without Retry-After falls back to x-rate-limit-reset-at-utc", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-11-24T12:00:00Z"))
      const result = yield* submitError(
        json(429, { error: "slow down" }, { "x-rate-limit-reset-at-utc": "2026-11-24T12:00:30Z" })
      )
      expect(Either.isLeft(result) && result.left._tag === "RateLimited" && result.left.retryAfter).toEqual(
        Option.some(Duration.millis(30_000))
      )
    }))

  it.effect("a refused connection is known not to have reached the server", () =>
    Effect.gen(function*() {
      const result = yield* submitError("refused")
      expect(Either.isLeft(result) && result.left._tag === "TransportError" && result.left.requestSent).toBe(false)
    }))

  it.effect("a connection dropped after sending may have been accepted", () =>
    Effect.gen(function*() {
      const result = yield* submitError("dropped")
      expect(Either.isLeft(result) && result.left._tag === "TransportError" && result.left.requestSent).toBe(true)
    }))

  it.effect("the documented status answers decode, QUEUED to COMPLETED with metrics", () => {
    const answers = [
      json(200, { status: "QUEUED", request_id: "x", status_url: "s", response_url: "r", metrics: {} }),
      json(200, { status: "PROCESSING", request_id: "x", metrics: {} }),
      json(200, { status: "COMPLETED", request_id: "x", metrics: { inference_time: 13.06 } })
    ]
    let call = 0
    return Effect.gen(function*() {
      const client = yield* SegmindClient
      expect((yield* client.status(submission)).status).toBe("QUEUED")
      expect((yield* client.status(submission)).status).toBe("PROCESSING")
      const done = yield* client.status(submission)
      expect(done).toEqual({ status: "COMPLETED", metrics: { inference_time: 13.06 } })
    }).pipe(Effect.provide(clientAnswering(() => answers[call++]!)))
  })

  it.effect("FAILED served as 422 becomes GenerationFailed with the server's detail", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const result = yield* Effect.either(client.status(submission))
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "GenerationFailed",
        requestId: submission.requestId,
        message: "The request was blocked by content moderation"
      })
    }).pipe(
      Effect.provide(
        clientAnswering(() =>
          json(422, { status: "FAILED", error: "The request was blocked by content moderation", metrics: {} })
        )
      )
    ))

  it.effect("a FAILED body on HTTP 200 is still a failure: the body decides", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const result = yield* Effect.either(client.status(submission))
      expect(Either.isLeft(result) && result.left._tag).toBe("GenerationFailed")
    }).pipe(Effect.provide(clientAnswering(() => json(200, { status: "FAILED", error: "worker crashed" })))))

  it.effect("a 404 after submission means the result expired", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const status = yield* Effect.either(client.status(submission))
      const result = yield* Effect.either(client.result(submission))
      expect(Either.isLeft(status) && status.left._tag).toBe("ResultExpired")
      expect(Either.isLeft(result) && result.left._tag).toBe("ResultExpired")
    }).pipe(Effect.provide(clientAnswering(() => json(404, { error: "Request not found" })))))

  it.effect.each(
    [
      ["a string in output", { output: "https://images.segmind.com/a.mp4" }],
      ["video.url", { output: null, video: { url: "https://images.segmind.com/a.mp4", content_type: "video/mp4" } }],
      ["video_url", { video_url: "https://images.segmind.com/a.mp4" }],
      ["url", { url: "https://images.segmind.com/a.mp4" }],
      ["an array in output", { output: ["https://images.segmind.com/a.mp4"] }],
      ["an object in output", { output: { video: "https://images.segmind.com/a.mp4" } }]
    ] as const
  )("finds the video URL given as %s", ([, shape]) =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const result = yield* client.result(submission)
      expect(result.videoUrl).toBe("https://images.segmind.com/a.mp4")
    }).pipe(Effect.provide(clientAnswering(() => json(200, { status: "COMPLETED", request_id: "x", ...shape })))))

  it.effect.each(
    [
      ["a 404", json(404, { error: "Request not found" }), "HTTP 404 (Request not found)"],
      ["a 400", json(400, { error: "Bad request" }), "HTTP 400"],
      ["a 405 page", { status: 405, body: "<html><body>405 Not Allowed</body></html>" }, "HTTP 405"],
      ["a 500", json(500, { error: "boom" }), "HTTP 500"],
      ["a redirect", { status: 302, body: "", headers: { location: "https://elsewhere.test/" } }, "HTTP 302"],
      ["an HTML 200", { status: 200, body: "<html><body>Checking your browser</body></html>" }, "without a known"],
      ["an empty 200", { status: 200, body: "" }, "without a known status"],
      ["a 200 with an unknown status", json(200, { status: "RUNNING" }), "without a known status"],
      ["a 200 without a status", json(200, { output: "https://images.segmind.com/a.mp4" }), "without a known"],
      ["COMPLETED without a video", json(200, { status: "COMPLETED", metrics: {} }), "COMPLETED without a video"],
      [
        "PROCESSING with a video",
        json(200, { status: "PROCESSING", output: "https://x.test/a.mp4" }),
        "PROCESSING with"
      ],
      ["FAILED on a 200", json(200, { status: "FAILED", error: "worker crashed" }), "FAILED without"],
      ["a 422 without FAILED", json(422, { error: "Unprocessable" }), "HTTP 422"],
      ["a dropped connection", "dropped", "no usable answer"]
    ] as const
  )(
    "the result URL polled: %s is unrecognised, never read as the request expired or failed",
    ([, answer, said]) =>
      Effect.gen(function*() {
        const client = yield* SegmindClient
        const polled = yield* client.resultOrPending(submission)
        expect(polled).toMatchObject({ _tag: "Unrecognised", answered: expect.stringContaining(said) })
      }).pipe(Effect.provide(clientAnswering(() => answer)))
  )

  it.effect("the result URL polled: \"not yet\", the result, a 422 FAILED and a 429 are what they say", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      expect(yield* client.resultOrPending(submission)).toEqual({
        _tag: "Pending",
        answer: { status: "PROCESSING", metrics: {} }
      })
      expect(yield* client.resultOrPending(submission)).toMatchObject({
        _tag: "Done",
        result: { videoUrl: "https://images.segmind.com/a.mp4" }
      })
      const failed = yield* Effect.either(client.resultOrPending(submission))
      expect(Either.isLeft(failed) && failed.left).toMatchObject({ _tag: "GenerationFailed", message: "blocked" })
      const limited = yield* Effect.either(client.resultOrPending(submission))
      expect(Either.isLeft(limited) && limited.left._tag).toBe("RateLimited")
    }).pipe(Effect.provide(clientAnswering((() => {
      const answers = [
        json(200, { status: "PROCESSING", request_id: "x" }),
        json(200, { status: "COMPLETED", output: "https://images.segmind.com/a.mp4" }),
        json(422, { status: "FAILED", error: "blocked" }),
        json(429, { error: "slow down" }, { "retry-after": "2" })
      ]
      let call = 0
      return () => answers[call++]!
    })()))))

  it.effect("records cost and remaining credits from the result's metrics", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const result = yield* client.result(submission)
      expect(result.metrics).toEqual({
        inference_time: 94.2,
        queue_time: 1.5,
        total_time: 95.7,
        cost: 0.41,
        remaining_credits: 12.3
      })
    }).pipe(
      Effect.provide(
        clientAnswering(() =>
          json(200, {
            status: "COMPLETED",
            output: "https://images.segmind.com/a.mp4",
            metrics: { inference_time: 94.2, queue_time: 1.5, total_time: 95.7, cost: 0.41, remaining_credits: 12.3 }
          })
        )
      )
    ))

  it.effect("a COMPLETED result without any video URL is a clear NoVideoUrl error", () =>
    Effect.gen(function*() {
      const client = yield* SegmindClient
      const result = yield* Effect.either(client.result(submission))
      expect(Either.isLeft(result) && result.left).toMatchObject({
        _tag: "NoVideoUrl",
        requestId: submission.requestId
      })
      expect(Either.isLeft(result) && result.left.message).toContain("names no video URL")
    }).pipe(
      Effect.provide(clientAnswering(() => json(200, { status: "COMPLETED", output: { note: "nothing here" } })))
    ))

  it.effect("upload accepts both file_urls and urls", () => {
    const answers = [json(200, { file_urls: ["https://x/a.png"] }), json(200, { urls: ["https://x/b.png"] })]
    let call = 0
    return Effect.gen(function*() {
      const client = yield* SegmindClient
      expect(yield* client.upload("data:image/png;base64,AA==")).toBe("https://x/a.png")
      expect(yield* client.upload("data:image/png;base64,AA==")).toBe("https://x/b.png")
    }).pipe(Effect.provide(clientAnswering(() => answers[call++]!)))
  })

  it.scoped("never sends the API key to the storage host when downloading", () => {
    const seen: Array<Seen> = []
    return Effect.gen(function*() {
      const client = yield* SegmindClient
      const download = yield* client.download("https://images.segmind.com/a.mp4")
      expect(download.contentLength).toEqual(Option.some(4))
      expect(seen[0]?.headers["x-api-key"]).toBeUndefined()
    }).pipe(
      Effect.provide(
        clientAnswering(
          () => ({ status: 200, body: "abcd", headers: { "content-type": "video/mp4", "content-length": "4" } }),
          seen
        )
      )
    )
  })
})
