import { jobReportBase } from "../domain/JobReport.js"
import { roundUsd } from "../segmind/ModelCatalog.js"
import { type Plan, plannedCost, planTotals } from "./PlanTable.js"

/** `shotlist plan --json`: the plan as one JSON document for scripts. */
export const planDocument = (plan: Plan) => ({
  manifest: plan.manifest,
  name: plan.name,
  model: plan.model,
  concurrency: plan.concurrency,
  rpm: plan.rpm,
  // The Segmind plan whose limit the rpm is; null where an rpm was written.
  plan: plan.segmindPlan ?? null,
  jobs: plan.jobs.map((entry) => {
    const { job, reusedFrom } = entry
    return {
      ...jobReportBase(job),
      // Local frames are not in `params` until a run uploads them.
      ...(job.firstFrame === undefined ? {} : { firstFrame: job.firstFrame }),
      ...(job.firstFrameFrom === undefined ? {} : { firstFrameFrom: job.firstFrameFrom }),
      ...(job.lastFrame === undefined ? {} : { lastFrame: job.lastFrame }),
      reusedFrom: reusedFrom === undefined
        ? null
        : { run: reusedFrom.runId, job: reusedFrom.jobId, runDirectory: reusedFrom.runDirectory },
      estimatedCostUsd: roundUsd(plannedCost(plan, entry))
    }
  }),
  totals: {
    ...planTotals(plan),
    estimatedCostUsd: plan.estimate.costUsd,
    estimatedWallSeconds: plan.estimate.wallSeconds,
    wallLimitedBy: plan.estimate.limitedBy,
    priceKnown: plan.estimate.known
  }
})
