import { describe, expect, it } from 'vitest'
import type { Distribution } from '@verisim/schema'
import {
  anomalyFlagFor,
  compileDistribution,
  createRng,
  normalizeValue,
  normalizeZ,
  zScore,
} from '../src/index.js'

describe('normalize', () => {
  it('normalize should map mean to 50, ∓1σ to 30/70, ∓3σ to 0/100', () => {
    expect(normalizeZ(0)).toBe(50)
    expect(normalizeZ(1)).toBe(70)
    expect(normalizeZ(-1)).toBe(30)
    expect(normalizeZ(3)).toBe(100)
    expect(normalizeZ(-3)).toBe(0)
    expect(normalizeZ(2)).toBe(85)
    expect(normalizeZ(-2)).toBe(15)
    expect(normalizeZ(0.5)).toBe(60)
  })

  it('normalize should clamp outliers and keep one decimal', () => {
    expect(normalizeZ(10)).toBe(100)
    expect(normalizeZ(-10)).toBe(0)
    expect(normalizeZ(Number.NaN)).toBe(0)
    expect(normalizeZ(0.12345)).toBe(52.5)
    expect(normalizeValue(120, 100, 20)).toBe(70)
    expect(zScore(5, 5, 0)).toBe(0)
  })

  it('normalize should be monotonic', () => {
    let prev = -1
    for (let z = -4; z <= 4; z += 0.01) {
      const v = normalizeZ(z)
      expect(v).toBeGreaterThanOrEqual(prev)
      prev = v
    }
  })

  it('normalize should flag warning beyond 1σ and critical beyond 3σ', () => {
    expect(anomalyFlagFor(0.9)).toBe('normal')
    expect(anomalyFlagFor(-1.2)).toBe('warning')
    expect(anomalyFlagFor(2.9)).toBe('warning')
    expect(anomalyFlagFor(-3.5)).toBe('critical')
    expect(anomalyFlagFor(1.5, 2, 4)).toBe('normal')
  })
})

describe('distributions', () => {
  const sampleStats = (d: Parameters<typeof compileDistribution>[0], n = 100_000) => {
    const c = compileDistribution(d)
    const r = createRng(77, JSON.stringify(d))
    let s = 0
    let s2 = 0
    for (let i = 0; i < n; i++) {
      const x = c.numeric!(r)
      s += x
      s2 += x * x
    }
    const mean = s / n
    return { c, mean, sd: Math.sqrt(s2 / n - mean * mean) }
  }

  it('distributions analytic baselines should match samples', () => {
    for (const d of [
      { type: 'lognormal', median: 85, sigma: 0.6 },
      { type: 'gamma', shape: 3, scale: 8 },
      { type: 'normal', mean: 4.1, sd: 0.35 },
      { type: 'exponential', mean: 2 },
      { type: 'poisson', mean: 1.2, offset: 1 },
      { type: 'uniform', min: 2, max: 6 },
      { type: 'categorical', values: [1, 2, 3, 4, 5], weights: [3, 4, 9, 27, 57] },
    ] satisfies Distribution[]) {
      const { c, mean, sd } = sampleStats(d)
      expect(c.statsSource).toBe('analytic')
      expect(Math.abs(mean - c.mean) / c.sd).toBeLessThan(0.02)
      expect(Math.abs(sd - c.sd) / c.sd).toBeLessThan(0.03)
    }
  })

  it('distributions should clamp, round, and estimate clamped baselines from a fixed sample', () => {
    const d = { type: 'normal', mean: 82, sd: 9, clampMax: 100, round: 0 } as const
    const { c, mean, sd } = sampleStats(d)
    expect(c.statsSource).toBe('sampled')
    expect(Math.abs(mean - c.mean)).toBeLessThan(0.1)
    expect(Math.abs(sd - c.sd)).toBeLessThan(0.1)
    expect(compileDistribution(d).mean).toBe(c.mean) // deterministic
    const r = createRng(1)
    for (let i = 0; i < 1000; i++) {
      const x = c.numeric!(r)
      expect(x).toBeLessThanOrEqual(100)
      expect(Number.isInteger(x)).toBe(true)
    }
  })

  it('distributions should sample categorical strings by weight', () => {
    const c = compileDistribution({ type: 'categorical', values: ['a', 'b'], weights: [1, 3] })
    expect(c.numeric).toBeUndefined()
    const r = createRng(3)
    let b = 0
    for (let i = 0; i < 40_000; i++) if (c.sample(r) === 'b') b++
    expect(b / 40_000).toBeCloseTo(0.75, 2)
  })

  it('distributions should reject missing parameters by name', () => {
    expect(() => compileDistribution({ type: 'lognormal', median: 3 })).toThrow(/sigma/)
    expect(() =>
      compileDistribution({ type: 'categorical', values: [1, 2], weights: [1] }),
    ).toThrow(/weights/)
  })
})
