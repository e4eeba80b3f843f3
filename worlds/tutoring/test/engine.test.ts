import type { TutoringStats } from '../src/index.js'
import { describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  MINUTE,
  SimError,
  createEngine,
  type Engine,
  type RateModifier,
  type SimEvent,
} from '@verisim/sim'
import { START, tutoring } from './helpers.js'

const world = tutoring()
const QUIET_API: RateModifier = { stream: 'system.api.request.log', multiplier: 0.05 }

function run(e: Engine, span: number, step = HOUR): SimEvent[] {
  const out: SimEvent[] = []
  const end = e.now + span
  while (e.now < end) for (const ev of e.advance(Math.min(e.now + step, end))) out.push(ev)
  return out
}
const count = (evs: SimEvent[], stream: string) => evs.filter((e) => e.stream === stream).length

describe('engine', () => {
  it('engine advance should return the events with now < ts <= to, in order, and move now', () => {
    const e = createEngine({ world, seed: 1, start: START })
    expect(e.now).toBe(START)
    const a = e.advance(START + 10 * MINUTE)
    expect(e.now).toBe(START + 10 * MINUTE)
    expect(a.length).toBeGreaterThan(0)
    for (let i = 0; i < a.length; i++) {
      expect(a[i]!.ts).toBeGreaterThan(START)
      expect(a[i]!.ts).toBeLessThanOrEqual(START + 10 * MINUTE)
      if (i > 0) expect(a[i]!.ts).toBeGreaterThanOrEqual(a[i - 1]!.ts)
    }
    expect(e.advance(START + 5 * MINUTE)).toEqual([])
    expect(e.now).toBe(START + 10 * MINUTE)
    expect(() => e.advance(Number.NaN)).toThrow(SimError)
    expect(() => createEngine({ world, seed: Number.NaN, start: START })).toThrow(/seed/)
  })

  it('engine events should follow the envelope: channel = domain, 0–100 with one decimal, flags, causes', () => {
    const e = createEngine({ world, seed: 2, start: START })
    const evs = e.advance(START + HOUR)
    const bad = evs.filter((ev) => {
      const s = world.streams[world.streamIndex.get(ev.stream)!]!
      const n = ev.normalizedValue
      return (
        ev.channel !== s.domain ||
        !(n >= 0 && n <= 100) ||
        Math.round(n * 10) / 10 !== n ||
        !['normal', 'warning', 'critical'].includes(ev.anomalyFlag) ||
        typeof ev.data[s.valueField] !== 'number' ||
        ev.causes.length !== 0 ||
        (n > 30 && n < 70 && ev.anomalyFlag !== 'normal') ||
        ((n === 0 || n === 100) && ev.anomalyFlag === 'normal')
      )
    })
    expect(evs.length).toBeGreaterThan(10_000)
    expect(bad).toEqual([])
  })

  it('engine catalog should list every stream and be a copy', () => {
    const e = createEngine({ world, seed: 3, start: START })
    const c = e.catalog()
    expect(c).toHaveLength(50)
    c[0]!.name = 'changed'
    expect(e.catalog()[0]!.name).not.toBe('changed')
  })

  it('engine stats should count events per stream and report the population', () => {
    const e = createEngine({ world, seed: 4, start: START })
    e.setModifiers([QUIET_API])
    const evs = run(e, DAY)
    const st = e.stats<TutoringStats>()
    expect(st.events).toBe(evs.length)
    expect(st.eventsByStream['session.booking.requested']).toBe(
      count(evs, 'session.booking.requested'),
    )
    expect(st.world.initial).toEqual({ students: 20000, tutors: 3500 })
    expect(st.world.entities.students).toBeGreaterThan(19_000)
    expect(st.world.entities.tutors).toBeGreaterThan(3_400)
    expect(st.world.entities.pendingBookings).toBeGreaterThan(0)
    expect(st.world.entities.scheduledSessions).toBeGreaterThan(0)
    expect(st.pending).toBeGreaterThan(st.world.entities.pendingBookings)
    expect(st.modifiers).toBe(1)
  })

  it('engine modifiers should scale a stream rate, leave other streams untouched, and record causes', () => {
    const base = createEngine({ world, seed: 8, start: START })
    base.setModifiers([QUIET_API])
    const boosted = createEngine({ world, seed: 8, start: START })
    boosted.setModifiers([
      QUIET_API,
      { stream: 'customer.tutor.search', multiplier: 3, cause: 'scenario:test' },
    ])
    const b = run(base, DAY)
    const x = run(boosted, DAY)
    const ratio = count(x, 'customer.tutor.search') / count(b, 'customer.tutor.search')
    expect(ratio).toBeGreaterThan(2.8)
    expect(ratio).toBeLessThan(3.2)
    // sub-streams: an independent stream draws exactly the same events
    expect(x.filter((e) => e.stream === 'marketing.ad.click')).toEqual(
      b.filter((e) => e.stream === 'marketing.ad.click'),
    )
    expect(x.find((e) => e.stream === 'customer.tutor.search')!.causes).toEqual(['scenario:test'])
    expect(x.find((e) => e.stream === 'customer.login')!.causes).toEqual([])
  })

  it('engine modifiers should silence streams, shift values and raise chain outcomes', () => {
    const e = createEngine({ world, seed: 9, start: START })
    e.setModifiers([
      QUIET_API,
      { stream: 'marketing.*', multiplier: 0 },
      { stream: 'system.heartbeat', multiplier: 0 },
      { stream: 'support.ticket.assigned', valueMultiplier: 4, cause: 'external:outage' },
      { stream: 'customer.payment.failed', multiplier: 10, cause: 'scenario:payment-outage' },
    ])
    const evs = run(e, 3 * DAY)
    expect(evs.filter((x) => x.stream.startsWith('marketing.'))).toEqual([])
    expect(count(evs, 'system.heartbeat')).toBe(0)
    // ticket waits four times as long: the stream's value signal stands out
    const waits = evs.filter((x) => x.stream === 'support.ticket.assigned')
    expect(waits.every((x) => x.causes.includes('external:outage'))).toBe(true)
    const meanNorm = waits.reduce((a, x) => a + x.normalizedValue, 0) / waits.length
    expect(meanNorm).toBeGreaterThan(65)
    expect(waits.filter((x) => x.anomalyFlag !== 'normal').length / waits.length).toBeGreaterThan(
      0.5,
    )
    const failed = count(evs, 'customer.payment.failed')
    const ok = count(evs, 'customer.payment.succeeded')
    // 3 % × 10 renormalized: 0.3 / (0.97 + 0.3) ≈ 24 %
    expect(failed / (failed + ok)).toBeGreaterThan(0.18)
    expect(failed / (failed + ok)).toBeLessThan(0.3)
    // and a silenced stream comes back when the modifier is lifted
    e.setModifiers([QUIET_API])
    expect(count(run(e, DAY), 'marketing.ad.click')).toBeGreaterThan(1000)
  })

  it('engine should lower confirmations when tutor supply collapses (supply/demand correlation)', () => {
    const e = createEngine({ world, seed: 10, start: START })
    e.setModifiers([QUIET_API, { stream: 'tutor.deactivated', multiplier: 400 }])
    const evs = run(e, 2 * DAY)
    expect(e.stats<TutoringStats>().world.entities.tutors).toBeLessThan(2000)
    const conf = count(
      evs.filter((x) => x.ts > START + DAY),
      'session.booking.confirmed',
    )
    const answered =
      conf +
      count(
        evs.filter((x) => x.ts > START + DAY),
        'session.booking.declined',
      ) +
      count(
        evs.filter((x) => x.ts > START + DAY),
        'session.booking.expired',
      )
    expect(conf / answered).toBeLessThan(0.65)
  })

  it('engine should reject modifiers that match no stream or have invalid multipliers', () => {
    const e = createEngine({ world, seed: 12, start: START })
    expect(() => e.setModifiers([{ stream: 'customer.teleport' }])).toThrow(/matches no stream/)
    expect(() => e.setModifiers([{ stream: '*', multiplier: -1 }])).toThrow(/multiplier/)
    expect(() =>
      e.setModifiers([{ stream: '*', valueMultiplier: Number.POSITIVE_INFINITY }]),
    ).toThrow(/valueMultiplier/)
  })
})
