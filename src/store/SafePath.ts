import type { Path } from "@effect/platform"
import { Data, Either } from "effect"

/** A path read from a file (a report, a journal) that would lead out of the run directory it belongs to. */
export class PathEscapes extends Data.TaggedError("PathEscapes")<{
  readonly directory: string
  readonly relative: string
}> {
  override get message() {
    return `${JSON.stringify(this.relative)} is not a path inside ${this.directory}`
  }
}

/**
 * Whether a path read back from a file stays inside the folder it is relative
 * to, whatever that folder is: relative, no `..` step, no NUL, no backslash
 * (a separator elsewhere). Paths shotlist writes (`videos/<id>.mp4`) always do.
 */
export const isContainedPath = (relative: string): boolean =>
  relative.length > 0 &&
  !relative.startsWith("/") &&
  !/[\\\0]/.test(relative) &&
  relative.split("/").every((step) => step !== "..")

/** Why a path read back is refused, if it is. */
export const containedPathProblem = (relative: string): string | undefined =>
  isContainedPath(relative) ? undefined : `path ${JSON.stringify(relative)} leads outside its run directory`

/**
 * `relative` resolved under `directory`, or `PathEscapes`: the one way a path
 * read from a file is joined to the folder it names a file in.
 */
export const resolveInside = (
  path: Path.Path,
  directory: string,
  relative: string
): Either.Either<string, PathEscapes> => {
  const base = path.resolve(directory)
  const resolved = path.resolve(base, relative)
  return isContainedPath(relative) && resolved.startsWith(base + path.sep)
    ? Either.right(resolved)
    : Either.left(new PathEscapes({ directory, relative }))
}
