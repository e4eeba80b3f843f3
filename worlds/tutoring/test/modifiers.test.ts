/**
 * Modifier types (multiplier, additive, override, probability shift) on rate, value
 * and outcome probability; composition order, precedence and conflict reports; and
 * their effect in the engine against a same-seed baseline.
 */
import { describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  MINUTE,
  chainProbabilities,
  compileModifier,
  composeParams,
  createEngine,
  type CompiledModifier,
  type Engine,
  type ModifierConflict,
  type ModifierEntry,
  type SimEvent,
} from '@verisim/sim'
import type { StreamModifier } from '@verisim/schema'
import { START, tutoring } from './helpers.js'

const world = tutoring()
const idx = (name: string) => world.streamIndex.get(name)!

function mod(spec: StreamModifier): CompiledModifier {
  const m = compileModifier(world, spec)
  if ('rule' in m) throw new Error(m.rule)
  return m as CompiledModifier
}
const entry = (
  spec: StreamModifier,
  source: string,
  layer: number,
  strength = 1,
): ModifierEntry => ({ mod: mod(spec), source, cause: source, layer, strength })

describe('modifier composition', () => {
  it('multipliers on one parameter should multiply, in layer order, and be reported', () => {
    const conflicts: ModifierConflict[] = []
    const p = composeParams(
      world,
      [
        entry(
          { stream: 'customer.tutor.search', type: 'multiplier', value: 1.2 },
          'external:evt_1',
          2,
        ),
        entry({ stream: 'customer.*', type: 'multiplier', value: 1.5 }, 'scenario:s', 1),
      ],
      conflicts,
    )
    expect(p[idx('customer.tutor.search')]!.rateMult).toBeCloseTo(1.8, 12)
    expect(p[idx('customer.login')]!.rateMult).toBe(1.5)
    expect(p[idx('customer.tutor.search')]!.causes).toEqual(['scenario:s', 'external:evt_1'])
    expect(conflicts).toEqual([
      {
        stream: 'customer.tutor.search',
        target: 'rate',
        sources: ['scenario:s', 'external:evt_1'],
        resolution: 'composed',
        message: expect.stringContaining('composed in order'),
      },
    ])
  })

  it('additive, override and shift should compose in application order', () => {
    const conflicts: ModifierConflict[] = []
    const p = composeParams(
      world,
      [
        entry({ stream: 'customer.signup', type: 'additive', value: 10 }, 'scenario:s', 1),
        entry({ stream: 'customer.signup', type: 'multiplier', value: 2 }, 'external:evt_2', 2),
        entry({ stream: 'customer.login', type: 'multiplier', value: 3 }, 'scenario:s', 1),
        entry({ stream: 'customer.login', type: 'override', value: 50 }, 'external:evt_3', 2),
        entry(
          { stream: 'customer.payment.failed', type: 'probabilityShift', value: 0.1 },
          'scenario:s',
          1,
        ),
        entry(
          {
            stream: 'customer.payment.failed',
            type: 'multiplier',
            target: 'probability',
            value: 2,
          },
          'external:evt_4',
          2,
        ),
      ],
      conflicts,
    )
    // (baseline + 10) × 2
    expect(p[idx('customer.signup')]).toMatchObject({ rateMult: 2, rateAdd: 20 })
    expect(p[idx('customer.signup')]!.rateOverride).toBeNaN()
    // an override replaces what came before it
    expect(p[idx('customer.login')]).toMatchObject({ rateOverride: 50, rateMult: 1, rateAdd: 0 })
    expect(conflicts.find((c) => c.stream === 'customer.login')).toMatchObject({
      resolution: 'override',
      message: 'override by external:evt_3 replaces scenario:s',
    })
    // (p + 0.1) × 2
    expect(p[idx('customer.payment.failed')]).toMatchObject({ probMult: 2, probAdd: 0.2 })
  })

  it('declared precedence should let only the highest apply', () => {
    const conflicts: ModifierConflict[] = []
    const p = composeParams(
      world,
      [
        entry(
          { stream: 'customer.tutor.search', type: 'multiplier', value: 2, precedence: 5 },
          'scenario:s',
          1,
        ),
        entry(
          { stream: 'customer.tutor.search', type: 'multiplier', value: 3 },
          'external:evt_1',
          2,
        ),
        entry(
          { stream: 'customer.tutor.search', type: 'multiplier', value: 1.1, precedence: 1 },
          'external:evt_2',
          2,
        ),
      ],
      conflicts,
    )
    expect(p[idx('customer.tutor.search')]!.rateMult).toBe(2)
    expect(p[idx('customer.tutor.search')]!.causes).toEqual(['scenario:s'])
    expect(conflicts[0]).toMatchObject({
      resolution: 'precedence',
      sources: ['scenario:s', 'external:evt_1', 'external:evt_2'],
    })
    expect(conflicts[0]!.message).toBe(
      'precedence 5 (scenario:s) applies; external:evt_1, external:evt_2 ignored',
    )
  })

  it('strength should shrink each type toward neutral', () => {
    const p = composeParams(world, [
      entry(
        { stream: 'customer.tutor.search', type: 'multiplier', value: 3 },
        'scenario:s',
        1,
        0.5,
      ),
      entry({ stream: 'customer.signup', type: 'additive', value: 10 }, 'scenario:s', 1, 0.25),
      entry({ stream: 'customer.login', type: 'override', value: 100 }, 'scenario:s', 1, 0.25),
    ])
    expect(p[idx('customer.tutor.search')]!.rateMult).toBe(2)
    expect(p[idx('customer.signup')]!.rateAdd).toBe(2.5)
    // (1 − r) × baseline + r × override
    expect(p[idx('customer.login')]).toMatchObject({ rateMult: 0.75, rateAdd: 25 })
    expect(p[idx('customer.login')]!.rateOverride).toBeNaN()
  })

  it('outcome probabilities should keep their chain total and mark the siblings', () => {
    const p = composeParams(world, [
      entry(
        { stream: 'customer.payment.failed', type: 'override', target: 'probability', value: 0.6 },
        'scenario:payment-outage',
        1,
      ),
      entry(
        { stream: 'session.booking.confirmed', type: 'probabilityShift', value: -0.15 },
        'scenario:supply-crisis',
        1,
      ),
    ])
    const cp = chainProbabilities(world, p)!
    const chain = (id: string) => world.streams.flatMap((s) => s.chains).find((c) => c.id === id)!
    const charge = cp.get(chain('session-charge'))!
    expect([...charge].map((x) => Math.round(x * 1e9) / 1e9)).toEqual([0.4, 0.6])
    const booking = cp.get(chain('booking-response'))!
    // confirmed 0.75 → 0.6; declined 0.13 and expired 0.12 share the other 0.4 in proportion
    expect(booking[0]).toBeCloseTo(0.6, 12)
    expect(booking[1]).toBeCloseTo(0.13 * (0.4 / 0.25), 12)
    expect(booking[2]).toBeCloseTo(0.12 * (0.4 / 0.25), 12)
    expect(p[idx('customer.payment.succeeded')]!.causes).toEqual(['scenario:payment-outage'])
    expect(p[idx('session.booking.expired')]!.causes).toEqual(['scenario:supply-crisis'])
    expect(cp.has(chain('session-rating'))).toBe(false)
  })
})

// ---------------------------------------------------------------------------
// in the engine

const THIN = { stream: 'system.api.request.log', multiplier: 0.02 }
const T = START + DAY + 12 * HOUR // Tuesday 12:00 UTC: sessions and payments flowing

function engine(seed = 77): Engine {
  const e = createEngine({ world, seed, start: START })
  e.setModifiers([THIN])
  e.advance(T)
  return e
}
const count = (evs: readonly SimEvent[], s: string) => evs.filter((e) => e.stream === s).length
const custom = (
  modifiers: StreamModifier[],
  streams: string[],
  duration = 'PT3H',
  direction: 'increase' | 'decrease' | 'mixed' = 'mixed',
) => ({
  timestamp: T,
  category: 'operational' as const,
  title: 'test',
  severity: 'info' as const,
  expectedImpact: { streams, direction, magnitude: 'medium' as const, duration },
  modifiers,
})

describe('modifier types in the engine', () => {
  it('an additive rate should add events per hour; an override should fix the rate', () => {
    const a = engine()
    const b = engine()
    a.injectExternalEvent(
      custom([{ stream: 'customer.signup', type: 'additive', value: 100 }], ['customer.signup']),
    )
    a.injectExternalEvent(
      custom(
        [{ stream: 'customer.tutor.search', type: 'override', value: 600 }],
        ['customer.tutor.search'],
      ),
    )
    const ea = a.advance(T + 3 * HOUR)
    const eb = b.advance(T + 3 * HOUR)
    const extra = count(ea, 'customer.signup') - count(eb, 'customer.signup')
    expect(Math.abs(extra - 300)).toBeLessThan(
      4 * Math.sqrt(300 + 2 * count(eb, 'customer.signup')),
    )
    // 600 an hour whatever the time of day (the baseline at this hour is ~3 × that)
    expect(Math.abs(count(ea, 'customer.tutor.search') - 1800)).toBeLessThan(4 * Math.sqrt(1800))
    expect(count(eb, 'customer.tutor.search')).toBeGreaterThan(3000)
  })

  it('a probability shift should change the share of a chain outcome and keep the chain complete', () => {
    const a = engine()
    const b = engine()
    a.injectExternalEvent(
      custom(
        [{ stream: 'customer.payment.failed', type: 'probabilityShift', value: 0.3 }],
        ['customer.payment.failed'],
        'PT6H',
        'increase',
      ),
    )
    const ea = a.advance(T + 6 * HOUR)
    const eb = b.advance(T + 6 * HOUR)
    const share = (evs: readonly SimEvent[]) =>
      count(evs, 'customer.payment.failed') /
      (count(evs, 'customer.payment.failed') + count(evs, 'customer.payment.succeeded'))
    const n = count(ea, 'customer.payment.failed') + count(ea, 'customer.payment.succeeded')
    expect(n).toBeGreaterThan(500)
    expect(Math.abs(share(ea) - 0.33)).toBeLessThan(4 * Math.sqrt((0.33 * 0.67) / n))
    expect(share(eb)).toBeLessThan(0.06)
    // as many charges as sessions completed (each completion has exactly one outcome)
    expect(n / count(ea, 'session.completed')).toBeGreaterThan(0.95)
    expect(
      ea
        .filter((e) => e.stream === 'customer.payment.succeeded')
        .every((e) => e.causes.includes('external:evt_1')),
    ).toBe(true)
  })

  it('value override and additive should set and shift the primary value', () => {
    const a = engine()
    a.injectExternalEvent(
      custom(
        [{ stream: 'customer.login', type: 'override', target: 'value', value: 10 }],
        ['customer.login'],
        'PT1H',
      ),
    )
    a.injectExternalEvent(
      custom(
        [{ stream: 'customer.tutor.search', type: 'additive', target: 'value', value: 100 }],
        ['customer.tutor.search'],
        'PT1H',
        'increase',
      ),
    )
    a.injectExternalEvent(
      custom(
        [{ stream: 'system.video.quality', type: 'override', target: 'value', value: 1 }],
        ['system.video.quality'],
        'PT1H',
      ),
    )
    const ea = a.advance(T + HOUR)
    const logins = ea.filter((e) => e.stream === 'customer.login')
    expect(logins.every((e) => e.data.daysSinceLastLogin === 10)).toBe(true)
    // a stream whose signal watches its value: critical once its last half hour holds
    // enough overridden values to judge a mean on (8; a quiet 15 minutes may have fewer)
    const mos = ea.filter((e) => e.stream === 'system.video.quality')
    expect(mos.every((e) => e.data.mosScore === 1)).toBe(true)
    const later = mos.filter((e) => e.ts >= T + 30 * MINUTE)
    expect(later.length).toBeGreaterThan(20)
    const critical = later.filter((e) => e.anomalyFlag === 'critical')
    expect(critical.length).toBe(later.length)
    expect(critical.every((e) => e.normalizedValue < 5)).toBe(true)
    // customer.login's signal watches its rate only (docs/SIGNAL.md): a changed value alone is no anomaly
    expect(logins.every((e) => e.anomalyFlag === 'normal')).toBe(true)
    const search = ea.filter((e) => e.stream === 'customer.tutor.search')
    expect(Math.min(...search.map((e) => e.data.resultsCount as number))).toBeGreaterThanOrEqual(
      100,
    )
  })

  it('precedence should hold in the engine and conflicts should be reported in stats', () => {
    const a = engine()
    const b = engine()
    a.injectExternalEvent(
      custom(
        [{ stream: 'customer.tutor.profile.view', type: 'multiplier', value: 2, precedence: 5 }],
        ['customer.tutor.profile.view'],
        'PT2H',
        'increase',
      ),
    )
    a.injectExternalEvent(
      custom(
        [{ stream: 'customer.tutor.profile.view', type: 'multiplier', value: 3 }],
        ['customer.tutor.profile.view'],
        'PT2H',
        'increase',
      ),
    )
    expect(a.stats().modifierConflicts).toEqual([
      expect.objectContaining({
        stream: 'customer.tutor.profile.view',
        target: 'rate',
        resolution: 'precedence',
        sources: ['external:evt_1', 'external:evt_2'],
      }),
    ])
    const ea = a.advance(T + 2 * HOUR)
    const eb = b.advance(T + 2 * HOUR)
    const r = count(ea, 'customer.tutor.profile.view') / count(eb, 'customer.tutor.profile.view')
    expect(r).toBeGreaterThan(1.9)
    expect(r).toBeLessThan(2.1)
    const views = ea.filter((e) => e.stream === 'customer.tutor.profile.view')
    expect(views.every((e) => e.causes.join() === 'external:evt_1')).toBe(true)
    expect(a.stats().modifierConflicts).toEqual([])
  })
})
