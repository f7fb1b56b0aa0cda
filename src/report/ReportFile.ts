import { type FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Schema } from "effect"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { renderContactSheet } from "./ContactSheet.js"
import { clipStills } from "./Posters.js"
import { Report } from "./Report.js"

const encodeReport = Schema.encodeSync(Report)

/** Writes `report.json` whole or not at all. */
export const writeReport = (
  file: string,
  report: Report
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  writeFileAtomic(file, JSON.stringify(encodeReport(report), null, 2) + "\n")

/** `report.json` and the contact sheet `report.html` built from it (with the clips' stills it can find or make), each written whole. */
export const writeReportFiles = (
  files: { readonly report: string; readonly contactSheet: string },
  report: Report
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  writeReport(files.report, report).pipe(
    Effect.zipRight(Effect.flatMap(Path.Path, (path) => clipStills(path.dirname(files.contactSheet), report.jobs))),
    Effect.flatMap((stills) => writeFileAtomic(files.contactSheet, renderContactSheet(report, stills)))
  )

export const decodeReport = Schema.decodeUnknown(Schema.parseJson(Report))
