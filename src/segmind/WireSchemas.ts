import { Schema } from "effect"

/**
 * Bodies of Segmind's async (v2) API, as documented in segmind-v2-api.md.
 * The client decodes with them tolerantly (unknown keys pass, optional where
 * the docs are open); the emulator encodes its answers with them.
 */

export const RequestStatus = Schema.Literal("QUEUED", "PROCESSING", "COMPLETED", "FAILED")
export type RequestStatus = typeof RequestStatus.Type

/** `metrics` as seen on status and result answers; every field is optional. */
export const Metrics = Schema.Struct({
  inference_time: Schema.optional(Schema.Number),
  queue_time: Schema.optional(Schema.Number),
  total_time: Schema.optional(Schema.Number),
  cost: Schema.optional(Schema.Number),
  remaining_credits: Schema.optional(Schema.Number)
})
export type Metrics = typeof Metrics.Type

/** Answer 200 of `POST /v2/{model}`. */
export const SubmitResponse = Schema.Struct({
  request_id: Schema.String,
  status: Schema.String,
  poll_url: Schema.optional(Schema.String),
  status_url: Schema.String,
  response_url: Schema.String
})
export type SubmitResponse = typeof SubmitResponse.Type

/** Answer of `GET status_url`: 200 while the job lives, 422 with status FAILED. */
export const StatusResponse = Schema.Struct({
  status: RequestStatus,
  request_id: Schema.optional(Schema.String),
  status_url: Schema.optional(Schema.String),
  response_url: Schema.optional(Schema.String),
  error: Schema.optional(Schema.String),
  metrics: Schema.optional(Metrics)
})
export type StatusResponse = typeof StatusResponse.Type

/**
 * Answer 200 of `GET response_url` on COMPLETED. Where the video's URL sits is
 * open (see `VideoUrl.ts`), so `output` and `video` stay unknown here.
 */
export const ResultResponse = Schema.Struct({
  status: RequestStatus,
  request_id: Schema.optional(Schema.String),
  output: Schema.optional(Schema.Unknown),
  video: Schema.optional(Schema.Unknown),
  video_url: Schema.optional(Schema.Unknown),
  url: Schema.optional(Schema.Unknown),
  error: Schema.optional(Schema.String),
  metrics: Schema.optional(Metrics)
})
export type ResultResponse = typeof ResultResponse.Type

/** Error answers: `{"error": "<message>"}`; some servers say `detail` or `message`. */
export const ErrorBody = Schema.Struct({
  error: Schema.optional(Schema.Unknown),
  detail: Schema.optional(Schema.Unknown),
  message: Schema.optional(Schema.Unknown)
})
export type ErrorBody = typeof ErrorBody.Type

/** `POST https://workflows-api.segmind.com/upload-asset`. */
export const UploadRequest = Schema.Struct({
  data_urls: Schema.Array(Schema.String)
})
export type UploadRequest = typeof UploadRequest.Type

/** The docs show `urls`, the live service answers `file_urls`: accept both. */
export const UploadResponse = Schema.Struct({
  file_urls: Schema.optional(Schema.Array(Schema.String)),
  urls: Schema.optional(Schema.Array(Schema.String))
})
export type UploadResponse = typeof UploadResponse.Type
