import type { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { type Effect, Schema } from "effect"
import { writeFileAtomic } from "../store/AtomicFile.js"
import { Report } from "./Report.js"

const encodeReport = Schema.encodeSync(Report)

/** Writes `report.json` whole or not at all. */
export const writeReport = (
  file: string,
  report: Report
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  writeFileAtomic(file, JSON.stringify(encodeReport(report), null, 2) + "\n")

export const decodeReport = Schema.decodeUnknown(Schema.parseJson(Report))
