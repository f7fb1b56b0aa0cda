// The answers the emulator gives, in the shapes of segmind-v2-api.md.
import { HttpServerResponse } from "@effect/platform"
import type { ResultPending } from "./EmulatorConfig.js"
import type { Generation } from "./EmulatorState.js"

export const errorJson = (status: number, message: string, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson({ error: message }, { status, ...(headers === undefined ? {} : { headers }) })

export const unauthorized = () => errorJson(401, "Unauthorized: missing or invalid x-api-key")

export const rateLimited = (retryAfterSeconds: number) =>
  errorJson(429, "Rate limit exceeded", { "retry-after": String(retryAfterSeconds) })

// Upstream answers a wrong method with an HTML page, not JSON.
export const methodNotAllowed = () =>
  HttpServerResponse.text("<html><body><h1>405 Not Allowed</h1></body></html>", {
    status: 405,
    contentType: "text/html"
  })

export const requestUrls = (baseUrl: string, id: string) => ({
  poll_url: `${baseUrl}/v1/requests/${id}`,
  status_url: `${baseUrl}/v2/requests/${id}/status`,
  response_url: `${baseUrl}/v2/requests/${id}`
})

export const PRICE_PER_GENERATION = 0.41

/** Credits left, when the fault plan runs them out after some submissions; else a comfortable balance. */
export const remainingCredits = (submissions: number, creditsAfterSubmissions: number | undefined) =>
  creditsAfterSubmissions === undefined
    ? 1000
    : Math.max(0, creditsAfterSubmissions - submissions) * PRICE_PER_GENERATION

const queueSeconds = (g: Generation) => ((g.startedAt ?? g.submittedAt) - g.submittedAt) / 1000

const inferenceSeconds = (g: Generation) =>
  ((g.endedAt ?? g.startedAt ?? g.submittedAt) - (g.startedAt ?? g.submittedAt)) / 1000

export const metricsOf = (g: Generation, remainingCredits: number) => {
  const queueTime = queueSeconds(g)
  const inferenceTime = inferenceSeconds(g)
  return {
    inference_time: inferenceTime,
    queue_time: queueTime,
    total_time: queueTime + inferenceTime,
    cost: PRICE_PER_GENERATION,
    remaining_credits: remainingCredits
  }
}

export const submitAnswer = (baseUrl: string, id: string) =>
  HttpServerResponse.unsafeJson({ request_id: id, status: "QUEUED", ...requestUrls(baseUrl, id) })

export const statusAnswer = (baseUrl: string, g: Generation) =>
  HttpServerResponse.unsafeJson({
    status: g.status,
    request_id: g.id,
    ...requestUrls(baseUrl, g.id),
    metrics: g.status === "COMPLETED" ? { inference_time: inferenceSeconds(g) } : {}
  })

// Before completion the result URL answers like the status URL, without `output` (undocumented upstream).
export const pendingResultAnswer = (g: Generation) =>
  HttpServerResponse.unsafeJson({ status: g.status, request_id: g.id, metrics: {} })

/** The result URL's answer to a request still running, in the shape `shape` names; `served`: such answers so far, this one included. */
export const pendingResultAs = (shape: ResultPending, served: number, baseUrl: string, g: Generation) => {
  switch (shape) {
    case "status":
      return pendingResultAnswer(g)
    case "404":
      return errorJson(404, "Result not ready")
    case "500":
      return errorJson(500, "Internal Server Error")
    case "html-200":
      return HttpServerResponse.text("<html><body>Checking your browser…</body></html>", { contentType: "text/html" })
    case "empty-200":
      return HttpServerResponse.text("", { contentType: "application/json" })
    case "unknown-status":
      return HttpServerResponse.unsafeJson({ status: "RUNNING", request_id: g.id })
    case "completed-no-video":
      return HttpServerResponse.unsafeJson({ status: "COMPLETED", request_id: g.id, metrics: {} })
    case "redirect":
      return HttpServerResponse.empty({ status: 302, headers: { location: requestUrls(baseUrl, g.id).status_url } })
    default: {
      const notYet = Number(shape.slice("switch-after-".length))
      return served <= notYet ? pendingResultAnswer(g) : errorJson(404, "Result not ready")
    }
  }
}

export const fileUrl = (baseUrl: string, id: string) => `${baseUrl}/files/${id}.mp4`

export const resultAnswer = (baseUrl: string, g: Generation, fileBytes: number, remainingCredits: number) => {
  const url = fileUrl(baseUrl, g.id)
  return HttpServerResponse.unsafeJson({
    status: "COMPLETED",
    request_id: g.id,
    output: url,
    video: { url, content_type: "video/mp4", file_name: `${g.id}.mp4`, file_size: fileBytes },
    metrics: metricsOf(g, remainingCredits)
  })
}

export const failedAnswer = (g: Generation, remainingCredits: number) =>
  HttpServerResponse.unsafeJson({
    status: "FAILED",
    request_id: g.id,
    error: g.error,
    metrics: metricsOf(g, remainingCredits)
  }, { status: 422 })
