import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../src/index.js'
import { resolveReconnect } from '../src/backoff.js'

describe('backoff', () => {
  it('should double from initialMs up to maxMs without jitter', () => {
    const r = resolveReconnect({ initialMs: 100, maxMs: 1000, jitter: false })
    expect([0, 1, 2, 3, 4, 5, 60].map((a) => backoffDelay(r, a))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ])
  })

  it('should draw from [0, cap] with full jitter and [cap/2, cap] with half', () => {
    const full = resolveReconnect({ initialMs: 100, maxMs: 1000 })
    expect(full.jitter).toBe(1)
    expect(backoffDelay(full, 3, () => 0)).toBe(800)
    expect(backoffDelay(full, 3, () => 0.999999)).toBe(0)
    expect(backoffDelay(full, 3, () => 0.5)).toBe(400)
    const half = resolveReconnect({ initialMs: 100, maxMs: 1000, jitter: 0.5 })
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(half, 2)
      expect(d).toBeGreaterThanOrEqual(200)
      expect(d).toBeLessThanOrEqual(400)
    }
  })

  it('should use 500 ms / 30 s / full jitter / no limit by default and refuse nonsense', () => {
    expect(resolveReconnect()).toEqual({
      initialMs: 500,
      maxMs: 30_000,
      jitter: 1,
      maxAttempts: Infinity,
    })
    expect(() => resolveReconnect({ initialMs: 10, maxMs: 5 })).toThrow(RangeError)
    expect(() => resolveReconnect({ jitter: -0.1 })).toThrow(RangeError)
    expect(() => resolveReconnect({ maxAttempts: 0 })).toThrow(RangeError)
  })
})
