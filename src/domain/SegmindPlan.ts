/** Segmind's account plans and the API calls a minute each allows per key (its "Rate Limits" page). */
export const PLAN_RPM = { free: 5, pro: 50 } as const

export type SegmindPlan = keyof typeof PLAN_RPM

export const SEGMIND_PLANS = Object.keys(PLAN_RPM) as ReadonlyArray<SegmindPlan>

/** Where nothing names the plan: Pro, the plan that renders video at a useful pace (Free admits under 2 jobs a minute). */
export const DEFAULT_PLAN: SegmindPlan = "pro"

/** The plans as a help text lists them: `free (5 calls/min), pro (50 calls/min)`. */
export const PLANS_TEXT = SEGMIND_PLANS.map((plan) => `${plan} (${PLAN_RPM[plan]} calls/min)`).join(", ")
