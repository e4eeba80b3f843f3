import { describe, expect, it } from 'vitest'
import {
  clipValue,
  combineZ,
  nextFlagLevel,
  normalizeSignal,
  rateZ,
  valueZ,
  type SignalThresholds,
} from '../src/index.js'

const T: SignalThresholds = { warningSigma: 3, criticalSigma: 5, hysteresisSigma: 1 }

describe('rateZ', () => {
  it('should be about (N − E)/√E for large counts and 0 at the expectation', () => {
    expect(rateZ(10_000, 10_000, 0)).toBeCloseTo(0, 2)
    expect(rateZ(10_300, 10_000, 0)).toBeCloseTo(3, 1)
    expect(rateZ(130, 100, 0)).toBeCloseTo(2.8, 1)
  })

  it('should not call a rare stream being quiet an anomaly', () => {
    expect(rateZ(0, 0.5, 0)).toBeGreaterThan(-1)
    expect(rateZ(1, 0.04, 0)).toBeLessThan(T.warningSigma)
  })

  it('should widen with the tolerance and the dispersion', () => {
    expect(Math.abs(rateZ(10_500, 10_000, 0.04))).toBeLessThan(Math.abs(rateZ(10_500, 10_000, 0)))
    expect(rateZ(130, 100, 0, 3)).toBeLessThan(rateZ(130, 100, 0))
  })

  it('should be monotone in the count', () => {
    let prev = -Infinity
    for (let n = 0; n < 300; n++) {
      const z = rateZ(n, 100, 0.04, 2)
      expect(z).toBeGreaterThan(prev)
      prev = z
    }
  })
})

describe('valueZ and clipValue', () => {
  it('should measure the window mean in standard errors', () => {
    expect(valueZ(120, 25, 100, 50, 0)).toBeCloseTo(2, 6)
    expect(valueZ(100, 0, 100, 50, 0)).toBe(0)
    // too few values to judge a mean on
    expect(valueZ(500, 7, 100, 50, 0)).toBe(0)
    expect(valueZ(500, 8, 100, 50, 0)).toBeGreaterThan(20)
  })

  it('should let one extreme value move a window of 30 by under one σ of the mean', () => {
    const mu = 100
    const sd = 20
    const values = [...Array.from({ length: 29 }, () => mu), 100_000]
    const mean = values.reduce((a, v) => a + clipValue(v, mu, sd), 0) / values.length
    expect(Math.abs(valueZ(mean, values.length, mu, sd, 0))).toBeLessThan(1)
  })
})

describe('combineZ and normalizeSignal', () => {
  it('should keep the larger magnitude with its sign', () => {
    expect(combineZ(2, -4)).toBe(-4)
    expect(combineZ(-1, 0.5)).toBe(-1)
  })

  it('should be monotone in each argument', () => {
    for (const a of [-6, -2, 0, 2, 6]) {
      let prev = -Infinity
      for (let b = -8; b <= 8; b += 0.25) {
        const z = combineZ(a, b)
        expect(z).toBeGreaterThanOrEqual(prev)
        prev = z
      }
    }
  })

  it('should map 0 to 50, stay in 0–100 and rise with z', () => {
    expect(normalizeSignal(0)).toBe(50)
    expect(normalizeSignal(4)).toBe(88.1)
    expect(normalizeSignal(-2)).toBe(26.9)
    expect(normalizeSignal(1e9)).toBe(100)
    expect(normalizeSignal(-1e9)).toBe(0)
    expect(normalizeSignal(NaN)).toBe(50)
  })
})

describe('nextFlagLevel', () => {
  it('should rise at the thresholds and fall only below them minus the hysteresis', () => {
    expect(nextFlagLevel(0, 2.9, T)).toBe(0)
    expect(nextFlagLevel(0, 3, T)).toBe(1)
    expect(nextFlagLevel(0, -5.2, T)).toBe(2)
    expect(nextFlagLevel(1, 2.5, T)).toBe(1)
    expect(nextFlagLevel(1, 1.9, T)).toBe(0)
    expect(nextFlagLevel(2, 4.2, T)).toBe(2)
    expect(nextFlagLevel(2, 3.5, T)).toBe(1)
    expect(nextFlagLevel(2, 0, T)).toBe(0)
  })

  it('should not flicker on a signal wobbling around a threshold', () => {
    let level = 0
    const seen: number[] = []
    for (const z of [3.1, 2.8, 3.05, 2.6, 3.2, 2.9]) seen.push((level = nextFlagLevel(level, z, T)))
    expect(seen).toEqual([1, 1, 1, 1, 1, 1])
  })
})
