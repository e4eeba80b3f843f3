import { describe, expect, it } from 'vitest'
import { Rng, createRng, deriveKey, hashString } from '../src/index.js'

describe('rng', () => {
  it('rng should repeat the same sequence for the same seed and key', () => {
    const a = createRng(42, 'customer.tutor.search')
    const b = createRng(42, 'customer.tutor.search')
    const xs = Array.from({ length: 1000 }, () => a.next())
    const ys = Array.from({ length: 1000 }, () => b.next())
    expect(xs).toEqual(ys)
  })

  it('rng should give independent sub-streams per key and per seed', () => {
    const a = createRng(42, 'customer.tutor.search')
    const b = createRng(42, 'customer.login')
    const c = createRng(43, 'customer.tutor.search')
    const xa = Array.from({ length: 100 }, () => a.nextU32())
    const xb = Array.from({ length: 100 }, () => b.nextU32())
    const xc = Array.from({ length: 100 }, () => c.nextU32())
    expect(xa).not.toEqual(xb)
    expect(xa).not.toEqual(xc)
    // no shared values at all between sub-streams is the overwhelmingly likely case
    expect(xa.filter((x) => xb.includes(x)).length).toBeLessThan(2)
  })

  it('rng should derive keys from 53-bit seeds without collapsing high bits', () => {
    expect(deriveKey(1, 'x')).not.toBe(deriveKey(1 + 2 ** 32, 'x'))
    expect(deriveKey(7, 'stream', 3)).toBe(deriveKey(7, 'stream', 3))
    expect(deriveKey(7, 'stream', 3)).not.toBe(deriveKey(7, 'stream', 4))
    expect(hashString('abc')).toBe(hashString('abc'))
  })

  it('rng should reseed in place to the same sequence', () => {
    const r = new Rng(123)
    const first = [r.next(), r.next(), r.normal()]
    r.reseed(123)
    expect([r.next(), r.next(), r.normal()]).toEqual(first)
  })

  it('rng uniforms should be uniform in [0, 1)', () => {
    const r = createRng(1, 'u')
    const n = 200_000
    const bins = new Array(10).fill(0)
    let min = 1
    let max = 0
    for (let i = 0; i < n; i++) {
      const u = r.next()
      min = Math.min(min, u)
      max = Math.max(max, u)
      bins[Math.floor(u * 10)]++
    }
    expect(min).toBeGreaterThanOrEqual(0)
    expect(max).toBeLessThan(1)
    // chi-square with 9 degrees of freedom: 99.9 % quantile is 27.9
    const chi = bins.reduce((a, b) => a + (b - n / 10) ** 2 / (n / 10), 0)
    expect(chi).toBeLessThan(27.9)
  })

  it('rng should draw normal, gamma, exponential and poisson with the right moments', () => {
    const r = createRng(9, 'moments')
    const n = 100_000
    const moments = (f: () => number) => {
      let s = 0
      let s2 = 0
      for (let i = 0; i < n; i++) {
        const x = f()
        s += x
        s2 += x * x
      }
      const m = s / n
      return { mean: m, sd: Math.sqrt(s2 / n - m * m) }
    }
    const nm = moments(() => r.normal())
    expect(nm.mean).toBeCloseTo(0, 1)
    expect(nm.sd).toBeCloseTo(1, 1)
    const g = moments(() => r.gamma(3))
    expect(g.mean).toBeCloseTo(3, 1)
    expect(g.sd).toBeCloseTo(Math.sqrt(3), 1)
    const g2 = moments(() => r.gamma(0.5))
    expect(g2.mean).toBeCloseTo(0.5, 1)
    const e = moments(() => r.exp())
    expect(e.mean).toBeCloseTo(1, 1)
    const p = moments(() => r.poisson(4))
    expect(p.mean).toBeCloseTo(4, 1)
    expect(p.sd).toBeCloseTo(2, 1)
    const big = moments(() => r.poisson(100))
    expect(big.mean).toBeCloseTo(100, 0)
  })

  it('rng int should stay in range', () => {
    const r = createRng(5)
    for (let i = 0; i < 10_000; i++) {
      const k = r.int(7)
      expect(k >= 0 && k < 7 && Number.isInteger(k)).toBe(true)
    }
  })
})
