/** Edit distance and "did you mean" for names a user misspelt: manifest keys, flags. */

const levenshtein = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/** "did you mean" for a misspelt key, when one allowed key is close. */
export const closestKey = (key: string, allowed: ReadonlyArray<string>): string | undefined => {
  const scored = allowed
    .map((candidate) => ({ candidate, distance: levenshtein(key.toLowerCase(), candidate) }))
    .sort((x, y) => x.distance - y.distance)
  const best = scored[0]
  if (best === undefined) return undefined
  const prefix = allowed.find((candidate) =>
    candidate.startsWith(key.toLowerCase()) || key.toLowerCase().startsWith(candidate)
  )
  return best.distance <= 2 ? best.candidate : prefix
}
