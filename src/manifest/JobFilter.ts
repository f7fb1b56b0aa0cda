import type { Job } from "../domain/Job.js"

/** `*` any run of characters, `?` one; everything else literal. */
const globToRegExp = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`)

/** Keeps the jobs whose id matches any pattern (all of them without patterns), and names patterns that match none. */
export const filterJobs = (
  jobs: ReadonlyArray<Job>,
  patterns: ReadonlyArray<string>
): { readonly jobs: ReadonlyArray<Job>; readonly unmatched: ReadonlyArray<string> } => {
  if (patterns.length === 0) return { jobs, unmatched: [] }
  const matchers = patterns.map((pattern) => ({ pattern, regex: globToRegExp(pattern) }))
  return {
    jobs: jobs.filter((job) => matchers.some(({ regex }) => regex.test(job.id))),
    unmatched: matchers.filter(({ regex }) => !jobs.some((job) => regex.test(job.id))).map(({ pattern }) => pattern)
  }
}
