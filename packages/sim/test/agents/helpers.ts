/** Shared by the agent-model tests: a goodness-of-fit check of counts against weights. */
import { expect } from 'vitest'

/**
 * Pearson's χ² of `counts` against `weights` (cells of weight 0 must have count 0),
 * expected within mean + 6 σ of its χ²(df) distribution: a fixed-seed test that
 * fails only when the sampler is wrong, not by chance.
 */
export function expectProportional(counts: ArrayLike<number>, weights: ArrayLike<number>): void {
  let n = 0
  let w = 0
  for (let i = 0; i < counts.length; i++) {
    n += counts[i]!
    w += weights[i]!
  }
  let chi2 = 0
  let df = -1
  for (let i = 0; i < counts.length; i++) {
    if (weights[i] === 0) {
      expect(counts[i], `cell ${i} has weight 0`).toBe(0)
      continue
    }
    const e = (n * weights[i]!) / w
    chi2 += (counts[i]! - e) ** 2 / e
    df++
  }
  expect(chi2).toBeLessThan(df + 6 * Math.sqrt(2 * df))
}
