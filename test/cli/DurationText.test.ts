import { describe, expect, it } from "@effect/vitest"
import { Duration, Either } from "effect"
import { durationProblemMessage, parseDurationText } from "../../src/cli/DurationText.js"

/** The message a flag gets for `text`, or the duration it reads. */
const read = (text: string) =>
  Either.mapLeft(parseDurationText(text), (problem) => durationProblemMessage("job-deadline", problem))

describe("durations on the command line", () => {
  it("take a unit: ms, s, m or h, fractions allowed", () => {
    expect(read("90s")).toEqual(Either.right(Duration.seconds(90)))
    expect(read("15m")).toEqual(Either.right(Duration.minutes(15)))
    expect(read("1.5h")).toEqual(Either.right(Duration.minutes(90)))
    expect(read("250ms")).toEqual(Either.right(Duration.millis(250)))
    expect(read(" 2 h ")).toEqual(Either.right(Duration.hours(2)))
  })

  it("a bare number is refused with the two readings it could have, not taken as seconds", () => {
    expect(read("15")).toEqual(Either.left("--job-deadline 15 has no unit: did you mean 15s or 15m?"))
    expect(read("0.5")).toEqual(Either.left("--job-deadline 0.5 has no unit: did you mean 0.5s or 0.5m?"))
  })

  it("text that is no duration, and a zero one, say the form expected", () => {
    for (const text of ["soon", "0s", "15 minutes"]) {
      expect(read(text)).toEqual(
        Either.left(`--job-deadline takes a duration like 90s, 15m or 2h (got ${JSON.stringify(text)})`)
      )
    }
  })
})
