/** The example world's config: loaded and cross-checked, errors naming the file and JSON path. */
import { describe, expect, it } from 'vitest'
import { WorldConfigError } from '@verisim/sim'
import { cooldownSteadyState, townConfig } from '../src/index.js'
import { compiled, example, rawConfig } from './helpers.js'

describe('example world config', () => {
  it('should load with every agent stream mapped to its segment', () => {
    const world = example()
    const cfg = townConfig(world)
    expect(cfg.agents).toBe(6000)
    expect(cfg.segments.map((s) => s.id)).toEqual(['commuter', 'student', 'family', 'retiree'])
    const mapped = world.streams.filter((s) => cfg.streamSegment[s.index]! >= 0).map((s) => s.name)
    expect(mapped).toHaveLength(12)
    expect(world.streams.find((s) => s.name === 'purchases.family.order')!.channel).toBe(
      'transactions',
    )
    expect(cfg.streamSegment[world.streamIndex.get('purchases.family.order')!]).toBe(2)
    expect(cfg.streamSegment[world.streamIndex.get('system_metrics.snapshot')!]).toBe(-1)
  })

  it('should refuse segment shares that do not sum to 1, naming baseline-metrics.json', () => {
    const raw = rawConfig()
    const segs = (raw.baseline.population as { segments: Record<string, { share: number }> })
      .segments
    segs.student!.share = 0.5
    expect(() => compiled(raw)).toThrow(WorldConfigError)
    expect(() => compiled(raw)).toThrow(
      /baseline-metrics\.json at \/population\/segments: expected segment shares summing to 1/,
    )
  })

  it('should refuse a segment missing from the population, or an unknown one', () => {
    const raw = rawConfig()
    const segs = (raw.baseline.population as { segments: Record<string, unknown> }).segments
    segs.tourist = segs.student
    expect(() => compiled(raw)).toThrow(/baseline-metrics\.json at \/population\/segments\/tourist/)
  })

  it('should refuse an agent stream without its <segment>.<action> state arrival, naming streams.json', () => {
    const raw = rawConfig()
    const s = raw.streams.streams.find((x) => x.name === 'user_actions.student.browse')!
    s.arrival = { kind: 'poisson', perDay: 100, profile: 'campus' }
    expect(() => compiled(raw)).toThrow(
      /streams\.json at \/streams\/5\/arrival: expected a state arrival whose rate is "<segment>\.browse"/,
    )
    s.arrival = { kind: 'state', rate: 'student.visit', profile: 'campus' }
    // the kernel already refuses a state rate of another behaviour
    expect(() => compiled(raw)).toThrow(/streams\.json at \/streams\/5\/arrival\/rate/)
  })

  it('the steady state of a cooldown should match a direct simulation of one agent', () => {
    // one agent at a constant rate: exponential gaps, a cooldown restarting with every action
    let seed = 12345
    const u = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32
    const perDay = 0.5
    const days = 2
    const factor = 0.2
    let t = 0
    let until = -Infinity
    let acts = 0
    let cooling = 0
    const T = 200_000 // days
    while (t < T) {
      const rate = t < until ? perDay * factor : perDay
      const dt = -Math.log(u()) / rate
      if (t < until && t + dt > until) {
        // the rate changes at the end of the cooldown: memoryless, draw again from there
        cooling += until - t
        t = until
        continue
      }
      if (t < until) cooling += dt
      t += dt
      if (t >= T) break
      acts++
      until = t + days
    }
    const ss = cooldownSteadyState(perDay, days, factor)
    expect(acts / T).toBeCloseTo(ss.perDay, 2)
    expect(cooling / T).toBeCloseTo(ss.cooling, 2)
    expect(cooldownSteadyState(perDay, days, 0).perDay).toBeCloseTo(1 / (1 / perDay + days), 12)
  })
})
