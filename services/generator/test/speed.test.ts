/**
 * The speed actually kept: measured over a sliding wall window, reported as
 * `effectiveSpeed` in the state and `verisim_effective_speed` in the metrics,
 * logged once per change.
 */
import { loadWorldById } from '@verisim/worlds'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { pino } from 'pino'
import { createKeys, type WorldKeys } from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import { createEngine, HOUR, type Engine } from '@verisim/sim'
import { SimClock } from '../src/clock.js'
import { GeneratorLoop } from '../src/loop.js'
import { createMetrics } from '../src/metrics.js'
import { SpeedMeter } from '../src/speed.js'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24, 9)
const prefix = testPrefix()
const keys: WorldKeys = createKeys(prefix, 'tutoring')
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

describe('SpeedMeter', () => {
  it('should measure simulated ms per wall ms over the window', () => {
    const m = new SpeedMeter({ windowMs: 5000, minSpanMs: 1000 })
    let sim = 0
    m.sample(0, sim, 100, false)
    expect(m.effective).toBe(100) // not measured yet: the requested speed
    for (let w = 100; w <= 10_000; w += 100) {
      sim += (w <= 5000 ? 100 : 40) * 100
      m.sample(w, sim, 100, false)
    }
    // the window holds only the last 5 s, all at 40×
    expect(m.effective).toBe(40)
  })

  it('should report falling behind once, a move of more than 10 %, and catching up', () => {
    const m = new SpeedMeter({ windowMs: 1000, minSpanMs: 500 })
    const changes: { at: number; behind: boolean; effective: number }[] = []
    let sim = 0
    const run = (speed: number, ms: number, from: number) => {
      for (let w = from; w < from + ms; w += 50) {
        sim += speed * 50
        m.sample(w, sim, 100, false)
        const c = m.change()
        if (c) changes.push({ at: w, behind: c.behind, effective: c.effective })
      }
      return from + ms
    }
    run(100, 2000, 0) // keeps up: silent
    run(50, 3000, 2000) // falls behind: reported as it crosses 90 %, then at the new level
    run(48, 3000, 5000) // within 10 %: silent
    run(20, 3000, 8000) // moves a lot: reported again
    run(100, 3000, 11_000) // caught up
    expect(changes[0]).toMatchObject({ behind: true })
    expect(changes[0]!.effective).toBeLessThan(90)
    expect(changes.some((c) => c.at >= 5000 && c.at < 8000)).toBe(false)
    expect(changes.some((c) => c.at >= 8000 && c.effective <= 25)).toBe(true)
    expect(changes.at(-1)).toMatchObject({ behind: false })
    expect(changes.at(-1)!.effective).toBeGreaterThanOrEqual(95)
    expect(changes.length).toBeLessThanOrEqual(7)
  })

  it('should report 0 while paused and start a new window on a speed change', () => {
    const m = new SpeedMeter({ windowMs: 1000, minSpanMs: 500 })
    for (let w = 0; w <= 2000; w += 100) m.sample(w, w * 10, 10, false)
    m.sample(2100, 21_000, 10, true)
    expect(m.effective).toBe(0)
    m.sample(2200, 21_000, 1000, false)
    expect(m.effective).toBe(1000)
  })
})

/** An engine whose every step takes `ms` of wall time (busy), as a too-big world would. */
function slowed(engine: Engine, ms: number): Engine {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'advance') {
        return (to: number) => {
          const until = Date.now() + ms
          while (Date.now() < until) {
            // busy: the step is slow, as a slow engine's would be
          }
          return target.advance(to)
        }
      }
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

async function runLoop(engine: Engine, speed: number, ms: number) {
  const lines: Record<string, unknown>[] = []
  const log = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  )
  const metrics = createMetrics()
  const clock = new SimClock({ start: engine.now, speed, wallNow: Date.now() })
  const loop = new GeneratorLoop({
    redis,
    keys,
    engine,
    clock,
    world: 'tutoring',
    seed: 42,
    retention: 10_000,
    tickMs: 5,
    log,
    metrics,
  })
  await loop.start()
  await new Promise((r) => setTimeout(r, ms))
  const state = loop.state()
  const text = await metrics.registry.metrics()
  await loop.close()
  return { state, text, lines }
}

describe('effective speed of the loop', () => {
  it('should report effectiveSpeed below speed when the engine step is too slow, and log it once', async () => {
    const engine = createEngine({ world, seed: 42, start: START })
    engine.advance(START + HOUR)
    // A step may cover at most 20 ticks (100 ms) of simulation time; taking 200 ms it keeps ~1/3.
    const { state, text, lines } = await runLoop(slowed(engine, 200), 100, 3000)
    expect(state.speed).toBe(100)
    expect(state.effectiveSpeed as number).toBeLessThan(60)
    expect(state.effectiveSpeed as number).toBeGreaterThan(15)
    expect(text).toMatch(/^verisim_effective_speed \d/m)
    expect(text).toMatch(/^verisim_requested_speed 100$/m)
    const value = Number(/^verisim_effective_speed (\S+)$/m.exec(text)![1])
    expect(value).toBeLessThan(60)
    const warned = lines.filter((l) => String(l.msg).includes('cannot keep the requested speed'))
    expect(warned.length).toBeGreaterThanOrEqual(1)
    expect(warned.length).toBeLessThanOrEqual(2) // once per change, not once per tick
    expect(warned[0]).toMatchObject({ speed: 100 })
  })

  it('should report effectiveSpeed close to speed when the engine keeps up', async () => {
    const engine = createEngine({ world, seed: 42, start: START })
    engine.advance(START + HOUR)
    const { state, lines } = await runLoop(engine, 100, 2000)
    expect(state.effectiveSpeed as number).toBeGreaterThan(90)
    expect(state.effectiveSpeed as number).toBeLessThan(110)
    expect(lines.some((l) => String(l.msg).includes('cannot keep'))).toBe(false)
  })
})
