/** An http(s) URL rather than a local path: the one test for a frame, a video or a link. */
export const isHttpUrl = (value: unknown): value is string => typeof value === "string" && /^https?:\/\//i.test(value)
