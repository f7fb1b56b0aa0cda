import { Data, Duration, Either } from "effect"

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Why a flag's text is no duration: a bare number (which unit was meant?) or no duration at all. */
export type DurationProblem = Data.TaggedEnum<{
  NoUnit: { readonly amount: string }
  NotADuration: { readonly text: string }
}>
const DurationProblem = Data.taggedEnum<DurationProblem>()

/**
 * "90s", "15m", "2h", "1.5h", "250ms". A bare number is refused: `--job-deadline 15`
 * was read as 15 seconds where 15 minutes was meant.
 */
export const parseDurationText = (text: string): Either.Either<Duration.Duration, DurationProblem> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (match === null) return Either.left(DurationProblem.NotADuration({ text }))
  const [, amount = "", unit] = match
  if (unit === undefined) return Either.left(DurationProblem.NoUnit({ amount }))
  const millis = Number(amount) * (UNITS[unit] ?? 1000)
  return millis > 0 ? Either.right(Duration.millis(millis)) : Either.left(DurationProblem.NotADuration({ text }))
}

/** What the text of flag `--name` got wrong, said with the forms that would do. */
export const durationProblemMessage = (name: string, problem: DurationProblem): string =>
  DurationProblem.$match(problem, {
    NoUnit: ({ amount }) => `--${name} ${amount} has no unit: did you mean ${amount}s or ${amount}m?`,
    NotADuration: ({ text }) => `--${name} takes a duration like 90s, 15m or 2h (got ${JSON.stringify(text)})`
  })
