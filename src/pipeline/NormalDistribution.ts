/** The standard normal's density. */
export const normalPdf = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)

/** The standard normal's distribution function (Abramowitz and Stegun 7.1.26 for erf: error under 1.5e-7). */
export const normalCdf = (z: number): number => {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
  const erf = 1 - poly * Math.exp(-x * x)
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf)
}

/** The z where the standard normal's distribution function reaches `p`, by bisection: precise enough for poll times. */
export const normalQuantile = (p: number): number => {
  if (p <= 0) return Number.NEGATIVE_INFINITY
  if (p >= 1) return Number.POSITIVE_INFINITY
  let low = -10
  let high = 10
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2
    if (normalCdf(mid) < p) low = mid
    else high = mid
  }
  return (low + high) / 2
}

/** E[Z | Z > a] for a standard normal (the inverse Mills ratio); far in the tail it tends to `a`. */
export const tailMean = (a: number): number => {
  const survival = 1 - normalCdf(a)
  return survival < 1e-12 ? a + 1 / Math.max(a, 1) : normalPdf(a) / survival
}
