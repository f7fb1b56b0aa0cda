import { Effect } from "effect"

/** The run's machinery (pipeline, journal, report, contact sheet), loaded when a run starts: `plan` and `--help` never parse it. */
export const loadRunExecution = Effect.promise(() => import("./RunExecution.js"))

/** The pipeline's plan builder, from the same lazily loaded code. */
export const loadRunPipeline = Effect.promise(() => import("../pipeline/RunPipeline.js"))
