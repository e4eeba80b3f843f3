import { describe, expect, it } from 'vitest'
import { Fenwick } from '../../src/agents/fenwick.js'
import { Rng } from '../../src/rng.js'
import { expectProportional } from './helpers.js'

describe('fenwick', () => {
  it('fenwick should keep the total and every prefix sum through pushes and updates', () => {
    const r = new Rng(1)
    const f = new Fenwick(4)
    const w: number[] = []
    for (let step = 0; step < 5000; step++) {
      if (w.length === 0 || r.next() < 0.3) {
        const x = r.next() < 0.2 ? 0 : r.uniform(0, 10)
        expect(f.push(x)).toBe(w.length)
        w.push(x)
      } else {
        const i = r.int(w.length)
        const x = r.next() < 0.2 ? 0 : r.uniform(0, 10)
        f.set(i, x)
        w[i] = x
      }
    }
    expect(f.size).toBe(w.length)
    const sum = w.reduce((a, b) => a + b, 0)
    expect(f.total).toBeCloseTo(sum, 6)
    let acc = 0
    for (let i = 0; i <= w.length; i += 37) {
      expect(f.prefix(i)).toBeCloseTo(acc, 6)
      for (let k = i; k < Math.min(i + 37, w.length); k++) acc += w[k]!
    }
    for (let i = 0; i < w.length; i++) expect(f.weight(i)).toBe(w[i])
  })

  it('fenwick should find the index whose cumulative range holds a weight, never one of weight 0', () => {
    const f = new Fenwick()
    for (const x of [0, 2, 0, 0, 1, 3, 0]) f.push(x)
    expect(f.find(0)).toBe(1)
    expect(f.find(1.999)).toBe(1)
    expect(f.find(2)).toBe(4)
    expect(f.find(2.5)).toBe(4)
    expect(f.find(3)).toBe(5)
    expect(f.find(5.999)).toBe(5)
    // at or beyond the total (rounding at the caller): the last positive weight
    expect(f.find(6)).toBe(5)
    expect(new Fenwick().find(0)).toBe(-1)
    const zeros = new Fenwick()
    zeros.push(0)
    zeros.push(0)
    expect(zeros.find(0)).toBe(-1)
  })

  it('fenwick picks should follow the weights', () => {
    const f = new Fenwick()
    const w = Array.from({ length: 200 }, (_, i) => (i % 7 === 3 ? 0 : 1 + (i % 13)))
    for (const x of w) f.push(x)
    const counts = new Float64Array(w.length)
    const rng = new Rng(42)
    for (let k = 0; k < 400_000; k++) counts[f.pick(rng)]!++
    expectProportional(counts, w)
  })

  it('fenwick picks should follow updated weights', () => {
    const f = new Fenwick()
    const w = Array.from({ length: 50 }, () => 1)
    for (const x of w) f.push(x)
    for (let i = 0; i < 50; i += 2) {
      w[i] = 5
      f.set(i, 5)
    }
    w[7] = 0
    f.set(7, 0)
    const counts = new Float64Array(w.length)
    const rng = new Rng(3)
    for (let k = 0; k < 200_000; k++) counts[f.pick(rng)]!++
    expectProportional(counts, w)
  })

  it('fenwick should grow by doubling and keep its weights', () => {
    const f = new Fenwick(16)
    expect(f.capacity).toBe(16)
    for (let i = 0; i < 100; i++) f.push(i + 1)
    expect(f.capacity).toBe(128)
    expect(f.size).toBe(100)
    expect(f.total).toBe(5050)
    expect(f.prefix(10)).toBe(55)
    expect(f.find(54.5)).toBe(9)
    expect(f.find(55)).toBe(10)
    expect(f.byteLength).toBe(129 * 8 + 128 * 8)
    f.reserve(1000)
    expect(f.capacity).toBe(1000)
    expect(f.total).toBe(5050)
  })

  it('fenwick should total exactly 0 once every weight is 0 again (no drift)', () => {
    const f = new Fenwick(16)
    const r = new Rng(9)
    for (let i = 0; i < 16; i++) f.push(r.uniform(0, 1))
    for (let k = 0; k < 10_000; k++) f.set(r.int(16), r.uniform(0, 1) * 1e-3 + r.int(2) * 1e6)
    for (let i = 0; i < 16; i++) f.set(i, 0)
    expect(f.total).toBe(0)
    expect(f.find(0)).toBe(-1)
  })

  it('fenwick should refuse negative and non-finite weights and indices out of range', () => {
    const f = new Fenwick()
    expect(() => f.push(-1)).toThrow(RangeError)
    expect(() => f.push(NaN)).toThrow(RangeError)
    expect(() => f.push(Infinity)).toThrow(RangeError)
    f.push(1)
    expect(() => f.set(1, 1)).toThrow(RangeError)
    expect(() => f.set(0, -0.5)).toThrow(RangeError)
  })
})
