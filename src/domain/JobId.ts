/**
 * A job id as the manifest's expansion builds it: the shot id, then
 * `~key=value` per sweep field and `~take=N` (values reduced to letters,
 * digits, `.`, `_`, `-`). It names the job's video file, so one read back
 * from a report or a journal must have exactly this form: no `/`, `\`, NUL
 * or leading dot can ever reach a path.
 */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:~[A-Za-z0-9_]+=[A-Za-z0-9._-]*)*$/

export const isJobId = (id: string): boolean => JOB_ID_PATTERN.test(id)

/** Why `id` is refused, if it is: it is not one shotlist could have made. */
export const jobIdProblem = (id: string): string | undefined =>
  isJobId(id)
    ? undefined
    : `job id ${
      JSON.stringify(id)
    } is not one shotlist makes (it names a file: letters, digits, _ and -, then ~key=value parts)`
