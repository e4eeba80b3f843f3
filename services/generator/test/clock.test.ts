import { describe, expect, it } from 'vitest'
import { SimClock } from '../src/clock.js'

const T0 = Date.parse('2026-11-23T08:00:00Z')

describe('SimClock', () => {
  it('should advance simulation time at its speed', () => {
    const c = new SimClock({ start: T0, speed: 60, wallNow: 1000 })
    expect(c.now(1000)).toBe(T0)
    expect(c.now(2000)).toBe(T0 + 60_000)
  })

  it('should keep simulation time continuous across a speed change', () => {
    const c = new SimClock({ start: T0, speed: 1, wallNow: 0 })
    c.setSpeed(10, 1000)
    expect(c.now(1000)).toBe(T0 + 1000)
    expect(c.now(2000)).toBe(T0 + 1000 + 10_000)
  })

  it('should stand still while paused and continue from there on resume', () => {
    const c = new SimClock({ start: T0, speed: 2, wallNow: 0 })
    c.pause(1000)
    expect(c.paused).toBe(true)
    expect(c.now(5000)).toBe(T0 + 2000)
    c.resume(5000)
    expect(c.now(6000)).toBe(T0 + 4000)
  })

  it('should slip to a given simulation time when the generator falls behind', () => {
    const c = new SimClock({ start: T0, speed: 1000, wallNow: 0 })
    c.slip(T0 + 5000, 100)
    expect(c.now(100)).toBe(T0 + 5000)
    expect(c.now(101)).toBe(T0 + 6000)
  })
})
