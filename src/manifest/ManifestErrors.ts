import { Data } from "effect"

/** One problem of a manifest, located in its source. */
export interface ManifestIssue {
  /** the path as the user gave it */
  readonly file: string
  /** 1-based */
  readonly line: number
  readonly column: number
  readonly shot?: string | undefined
  /** e.g. `shots[1].sweep.seed` */
  readonly path: string
  /** what is wrong and what is allowed */
  readonly message: string
}

export const formatIssue = (issue: ManifestIssue): string =>
  `${issue.file}:${issue.line}:${issue.column}: ${issue.shot === undefined ? "" : `shot "${issue.shot}": `}${
    issue.path === "" ? "" : `${issue.path}: `
  }${issue.message}`

/** Every issue of the file, reported together; nothing was sent. */
export class ManifestInvalid extends Data.TaggedError("ManifestInvalid")<{
  readonly file: string
  readonly issues: ReadonlyArray<ManifestIssue>
}> {
  override get message() {
    const count = this.issues.length
    return `${this.file}: ${count} problem${count === 1 ? "" : "s"}; nothing was submitted`
  }
}

/** The file cannot be read as a manifest at all (missing, not UTF-8, too large). */
export class ManifestUnreadable extends Data.TaggedError("ManifestUnreadable")<{
  readonly file: string
  readonly reason: string
}> {
  override get message() {
    return `cannot read ${this.file}: ${this.reason}`
  }
}
