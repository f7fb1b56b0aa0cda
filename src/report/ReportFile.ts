import type { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Schema } from "effect"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { renderContactSheet } from "./ContactSheet.js"
import { Report } from "./Report.js"

const encodeReport = Schema.encodeSync(Report)

/** Writes `report.json` whole or not at all. */
export const writeReport = (
  file: string,
  report: Report
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  writeFileAtomic(file, JSON.stringify(encodeReport(report), null, 2) + "\n")

/** `report.json` and the contact sheet `report.html` built from it, each written whole. */
export const writeReportFiles = (
  files: { readonly report: string; readonly contactSheet: string },
  report: Report
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  writeReport(files.report, report).pipe(
    Effect.zipRight(writeFileAtomic(files.contactSheet, renderContactSheet(report)))
  )

export const decodeReport = Schema.decodeUnknown(Schema.parseJson(Report))
