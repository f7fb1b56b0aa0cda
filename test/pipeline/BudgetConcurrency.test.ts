import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { renderPlan } from "../../src/cli/PlanTable.js"
import { defaultConcurrency, resolveRunSettings, type SettingsFlags } from "../../src/cli/RunSettings.js"
import { SEEDANCE_MODEL } from "../../src/domain/SeedanceParams.js"
import { budgetConcurrency, CONCURRENCY_CAP, jobsPerMinute } from "../../src/pipeline/BudgetConcurrency.js"
import { estimateRun } from "../../src/segmind/ModelCatalog.js"

describe("a default concurrency that fits the request budget", () => {
  it("admits rpm/3 jobs a minute: ~100 s jobs at 50 rpm need ~30 in flight (with 20 % headroom: 34)", () => {
    expect(jobsPerMinute(50)).toBeCloseTo(16.67, 2)
    expect(budgetConcurrency(50, Duration.seconds(100))).toBe(34)
    expect(budgetConcurrency(45, Duration.seconds(100))).toBe(30)
    expect(budgetConcurrency(5, Duration.seconds(100))).toBe(4)
  })

  it("stays within 1 and the cap", () => {
    expect(budgetConcurrency(1, Duration.millis(10))).toBe(1)
    expect(budgetConcurrency(6000, Duration.minutes(2))).toBe(CONCURRENCY_CAP)
  })

  it("is the run's default only when neither the flag nor the manifest sets one", () =>
    Effect.gen(function*() {
      const flags = (concurrency: Option.Option<number>): SettingsFlags => ({
        concurrency,
        rpm: Option.some(45),
        plan: Option.none(),
        retries: Option.none(),
        retryBase: Option.none(),
        retryCap: Option.none(),
        jobDeadline: Option.none(),
        deadline: Option.none(),
        expect: Option.none(),
        pollVia: "status"
      })
      const none = { concurrency: undefined, rpm: undefined, retry: undefined }
      expect((yield* resolveRunSettings(flags(Option.none()), none, false)).concurrency).toBe(30)
      expect((yield* resolveRunSettings(flags(Option.none()), { ...none, concurrency: 7 }, false)).concurrency).toBe(7)
      expect((yield* resolveRunSettings(flags(Option.some(2)), { ...none, concurrency: 7 }, false)).concurrency).toBe(2)
      expect(defaultConcurrency(45)).toBe(30)
    }).pipe(Effect.runPromise))

  it("plan says what the budget allows", () => {
    const plan = renderPlan({
      manifest: "m.yaml",
      name: "m",
      model: SEEDANCE_MODEL,
      concurrency: 4,
      rpm: 50,
      jobs: [],
      estimate: estimateRun([], { model: SEEDANCE_MODEL, concurrency: 4, rpm: 50 })
    })
    expect(plan).toContain("request budget: 50 API calls/min, as rpm says (--plan free|pro, or --rpm N)")
    expect(plan).toContain("so it admits ~16.7 jobs a minute")
    expect(plan).toContain("at ~100 s a generation, concurrency 34 keeps the budget busy")
  })
})
