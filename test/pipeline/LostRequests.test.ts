import { describe, expect, it } from "@effect/vitest"
import type { SeedanceParams } from "../../src/domain/SeedanceParams.js"
import { JobStart } from "../../src/pipeline/JobStart.js"
import { lostWithEmulator, submitAgainIfLost } from "../../src/pipeline/LostRequests.js"

const pollOf = (origin: string, requestId: string) =>
  JobStart.Poll({
    submission: {
      requestId,
      statusUrl: `${origin}/v2/requests/${requestId}/status`,
      responseUrl: `${origin}/v2/requests/${requestId}`
    },
    submittedAtMs: 0,
    params: { prompt: "p", duration: 4, resolution: "480p", seed: 1 } as SeedanceParams,
    frames: undefined,
    submitAttempts: 1,
    resubmitted: undefined,
    ifForgotten: undefined
  })

describe("requests lost with the embedded emulator", () => {
  it("a run on an API keeps polling; an emulator run sends again what an emulator held, and polls what the API it now talks to holds", () => {
    const onOldEmulator = pollOf("http://127.0.0.1:41000", "old")
    const onApi = pollOf("https://api.example.test", "kept")

    expect(lostWithEmulator({ emulator: false }, { emulator: true, baseUrl: "http://127.0.0.1:42000" })).toBeUndefined()
    expect(submitAgainIfLost(undefined)(onOldEmulator)).toBe(onOldEmulator)

    const onNewEmulator = submitAgainIfLost(
      lostWithEmulator({ emulator: true }, { emulator: true, baseUrl: "http://127.0.0.1:41000" })
    )
    // Even on the very port the old one had: a new emulator never knew the requests of another process.
    expect(onNewEmulator(onOldEmulator)).toEqual(JobStart.Submit({
      resubmitted: {
        reason: "the emulator that held request old stopped with its run: submitted again",
        previousRequestId: "old"
      }
    }))

    const onApiNow = submitAgainIfLost(
      lostWithEmulator({ emulator: true }, { emulator: false, baseUrl: "https://api.example.test" })
    )
    expect(onApiNow(onApi)).toBe(onApi)
    expect(onApiNow(onOldEmulator)._tag).toBe("Submit")
    const submit = JobStart.Submit({})
    expect(onApiNow(submit)).toBe(submit)
  })
})
