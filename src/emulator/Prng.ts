/** One step of mulberry32: the draw in [0, 1) and the state after it. */
export const prngStep = (state: number): readonly [number, number] => {
  const next = (state + 0x6d2b79f5) >>> 0
  let t = next
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next]
}

/** A small seeded PRNG (mulberry32) drawing in [0, 1): the same seed gives the same sequence. */
export const makePrng = (seed: number): () => number => {
  let state = seed >>> 0
  return () => {
    const [draw, next] = prngStep(state)
    state = next
    return draw
  }
}
