import { FileSystem, Path } from "@effect/platform"
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
  report: Report,
  /** the animatic, relative to the run directory (default: `animatic.mp4` when there is one) */
  animatic?: string
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const runDirectory = path.dirname(files.contactSheet)
    yield* writeReport(files.report, report)
    const stills = yield* clipStills(runDirectory, report.jobs)
    const shown = animatic ?? ((yield* fs.exists(path.join(runDirectory, ANIMATIC))) ? ANIMATIC : undefined)
    yield* writeFileAtomic(files.contactSheet, renderContactSheet(report, stills, shown))
  })

/** Where `shotlist assemble` puts the animatic by default, relative to the run directory. */
const ANIMATIC = "animatic.mp4"

export const decodeReport = Schema.decodeUnknown(Schema.parseJson(Report))
