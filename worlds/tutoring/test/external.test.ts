/**
 * External events: injection from the library or in full, impact windows (delay,
 * duration, magnitude), timestamps in the past and the future, red herrings,
 * announcements on the `external` channel, ground-truth causes and correlation
 * tracking, against a same-seed baseline engine.
 */
import { describe, expect, it } from 'vitest'
import {
  HOUR,
  MINUTE,
  SimError,
  createEngine,
  type Engine,
  type ExternalEvent,
  type SimEvent,
} from '@verisim/sim'
import { START, tutoring } from './helpers.js'

const world = tutoring()
const THIN = { stream: 'system.api.request.log', multiplier: 0.02 }
const T0 = START + 8 * HOUR

function engine(seed = 21): Engine {
  const e = createEngine({ world, seed, start: START })
  e.setModifiers([THIN])
  e.advance(T0)
  return e
}
const inWindow = (evs: readonly SimEvent[], stream: string, a: number, b: number) =>
  evs.filter((x) => x.stream === stream && x.ts > a && x.ts <= b)
const own = (evs: readonly SimEvent[]) => evs.filter((x) => x.channel !== 'external')
const strip = (evs: readonly SimEvent[]) => own(evs).map((x) => ({ ...x, causes: [] }))

function badArgument(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SimError)
    expect((err as SimError).code).toBe('VS_SIM_BAD_ARGUMENT')
    return (err as Error).message
  }
  throw new Error('expected VS_SIM_BAD_ARGUMENT')
}

describe('external events', () => {
  it('templates() should list the library in file order with its modifiers as declared', () => {
    const e = engine()
    const list = e.templates()
    expect(list.map((t) => t.id)).toEqual(world.scenarioSet.templates.map((t) => t.id))
    expect(list.find((t) => t.id === 'viral-blog-post')).toEqual({
      id: 'viral-blog-post',
      category: 'marketing',
      title: 'Study-tips blog post goes viral',
      description: expect.any(String),
      severity: 'info',
      icon: '📈',
      expectedImpact: {
        streams: ['marketing.landing.visit', 'customer.signup', 'customer.tutor.search'],
        direction: 'increase',
        magnitude: 'high',
        delay: 'PT1H',
        duration: 'PT12H',
      },
      modifiers: [
        { stream: 'marketing.landing.visit', type: 'multiplier', value: 2 },
        { stream: 'customer.signup', type: 'multiplier', value: 1.6 },
        { stream: 'customer.tutor.search', type: 'multiplier', value: 1.15 },
      ],
      redHerring: false,
      timing: expect.any(String),
    })
    expect(list.find((t) => t.id === 'industry-report')!.redHerring).toBe(true)
    // Copies: changing the answer leaves the library (and the next injection) alone.
    list[0]!.expectedImpact.streams.length = 0
    list[0]!.modifiers.length = 0
    expect(e.templates()[0]!.expectedImpact.streams.length).toBeGreaterThan(0)
    expect(e.templates()[0]!.modifiers.length).toBeGreaterThan(0)
  })

  it('a future event should change nothing before its window, apply its multiplier during it and be announced at its timestamp', () => {
    const a = engine()
    const b = engine()
    const at = T0 + 2 * HOUR
    const ev = a.injectExternalEvent({
      templateId: 'viral-blog-post',
      timestamp: new Date(at).toISOString(),
    })
    expect(ev).toMatchObject({
      id: 'evt_1',
      templateId: 'viral-blog-post',
      type: 'viral-blog-post',
      category: 'marketing',
      severity: 'info',
      icon: '📈',
      at,
      timing: 'future',
      redHerring: false,
      source: 'injected',
      injectedAt: T0,
      window: { start: at + HOUR, end: at + 13 * HOUR },
    })
    expect(ev.expectedImpact).toMatchObject({
      direction: 'increase',
      magnitude: 'high',
      delay: 'PT1H',
      duration: 'PT12H',
    })
    const end = at + 14 * HOUR
    const ea = a.advance(end)
    const eb = b.advance(end)
    // before the window (incl. the announcement hour and the delay): exactly the baseline's events
    const before = (evs: readonly SimEvent[]) => own(evs).filter((x) => x.ts <= ev.window.start)
    expect(before(ea)).toEqual(before(eb))
    // the announcement, once, at its timestamp, carrying the event
    const ann = ea.filter((x) => x.channel === 'external')
    expect(ann).toHaveLength(1)
    expect(ann[0]).toMatchObject({
      ts: at,
      stream: 'external.event',
      causes: [],
      anomalyFlag: 'normal',
    })
    expect(ann[0]!.data).toMatchObject({
      id: 'evt_1',
      type: 'viral-blog-post',
      category: 'marketing',
      severity: 'info',
      icon: '📈',
      redHerring: false,
    })
    expect((ann[0]!.data as unknown as ExternalEvent).expectedImpact.streams).toContain(
      'marketing.landing.visit',
    )
    // during the window: landing visits × 2, each carrying the event as its cause
    const wa = inWindow(ea, 'marketing.landing.visit', ev.window.start, ev.window.end)
    const wb = inWindow(eb, 'marketing.landing.visit', ev.window.start, ev.window.end)
    expect(wa.length / wb.length).toBeGreaterThan(1.8)
    expect(wa.length / wb.length).toBeLessThan(2.2)
    expect(wa.every((x) => x.causes.includes('external:evt_1'))).toBe(true)
    expect(
      inWindow(ea, 'marketing.landing.visit', ev.window.end, end).some((x) => x.causes.length > 0),
    ).toBe(false)
    expect(
      inWindow(ea, 'customer.login', T0, end).some((x) => x.causes.includes('external:evt_1')),
    ).toBe(false)
  })

  it('a past event should be announced at once, recorded with its window and shape only the rest of it', () => {
    const a = engine()
    const b = engine()
    const at = T0 - 3 * HOUR
    const ev = a.injectExternalEvent({ templateId: 'tiktok-mention', timestamp: at })
    expect(ev.timing).toBe('past')
    expect(ev.window).toEqual({ start: at + 30 * MINUTE, end: at + 30 * MINUTE + 6 * HOUR })
    const ea = a.advance(T0 + 5 * HOUR)
    const eb = b.advance(T0 + 5 * HOUR)
    // announced first, at the injection time, with its own (past) timestamp in the data
    expect(ea[0]).toMatchObject({ ts: T0, channel: 'external', stream: 'external.event' })
    expect((ea[0]!.data as unknown as ExternalEvent).timestamp).toBe(new Date(at).toISOString())
    // live effect from the injection to the end of its window only
    const rest = [T0, ev.window.end] as const
    const ra =
      inWindow(ea, 'marketing.landing.visit', ...rest).length /
      inWindow(eb, 'marketing.landing.visit', ...rest).length
    expect(ra).toBeGreaterThan(2.2)
    expect(ra).toBeLessThan(2.8)
    expect(
      inWindow(ea, 'marketing.landing.visit', ev.window.end, T0 + 5 * HOUR).some(
        (x) => x.causes.length > 0,
      ),
    ).toBe(false)
    // correlation is measured over the live part
    const c = a
      .correlations({ event: ev.id })
      .results.find((r) => r.stream === 'marketing.landing.visit')!
    expect(c.measured).toEqual({ from: T0, to: ev.window.end })
    expect(c.status).toBe('measured')
    expect(c.actual.matched).toBe(true)
  })

  it('an event entirely in the past should change nothing live and be unmeasurable', () => {
    const a = engine()
    const b = engine()
    const ev = a.injectExternalEvent({
      templateId: 'ad-campaign-launch',
      timestamp: T0 - 30 * HOUR,
    })
    expect(ev.window.end).toBeLessThan(T0)
    expect(a.externalEvents()).toHaveLength(1)
    const ea = a.advance(T0 + 3 * HOUR)
    const eb = b.advance(T0 + 3 * HOUR)
    expect(own(ea)).toEqual(own(eb))
    expect(ea.filter((x) => x.channel === 'external')).toHaveLength(1)
    expect(
      a
        .correlations({ event: ev.id })
        .results.every((r) => r.status === 'unmeasurable' && !r.actual.matched),
    ).toBe(true)
  })

  it('a red herring should be announced and flagged but change nothing', () => {
    const a = engine()
    const b = engine()
    const herring = a.injectExternalEvent({ templateId: 'industry-report', timestamp: T0 + HOUR })
    const forced = a.injectExternalEvent({
      templateId: 'tiktok-mention',
      timestamp: T0 + 2 * HOUR,
      redHerring: true,
    })
    expect(herring.redHerring).toBe(true)
    expect(forced.redHerring).toBe(true)
    expect(forced.modifiers.length).toBeGreaterThan(0) // what it would have done, for the record
    const ea = a.advance(T0 + 12 * HOUR)
    const eb = b.advance(T0 + 12 * HOUR)
    expect(own(ea)).toEqual(own(eb))
    const ann = ea.filter((x) => x.channel === 'external')
    expect(ann.map((x) => (x.data as unknown as ExternalEvent).redHerring)).toEqual([true, true])
    expect(a.activeModifiers()).toEqual([])
    for (const id of [herring.id, forced.id]) {
      for (const r of a.correlations({ event: id }).results) {
        expect(r.redHerring).toBe(true)
        expect(r.actual.matched).toBe(false)
        expect(r.actual.strength).toBeLessThan(0.5)
        // the stream did not move beyond noise against what the run would have done anyway
        expect(Math.abs(r.actual.z)).toBeLessThan(3)
        expect(r.actual.direction).toBe('none')
      }
    }
  })

  it('correlations should answer which streams an event moved and which events moved a stream', () => {
    const a = engine()
    const real = a.injectExternalEvent({ templateId: 'mobile-app-launch', timestamp: T0 + HOUR })
    const herring = a.injectExternalEvent({
      templateId: 'tiktok-mention',
      timestamp: T0 + 2 * HOUR,
      redHerring: true,
    })
    const decrease = a.injectExternalEvent({
      templateId: 'school-holidays',
      timestamp: T0 + 30 * HOUR,
    })
    a.advance(T0 + 20 * HOUR)
    const byEvent = a.correlations({ event: real.id })
    expect(byEvent.query).toEqual({ event: real.id })
    expect(byEvent.results.map((r) => r.stream)).toEqual([
      'customer.login',
      'customer.tutor.search',
    ])
    for (const r of byEvent.results) {
      expect(r.status).toBe('measuring')
      expect(r.expected.direction).toBe('increase')
      expect(r.actual.matched).toBe(true)
      expect(r.actual.direction).toBe('increase')
      expect(r.actual.strength).toBeGreaterThan(0.8)
      expect(r.actual.strength).toBeLessThanOrEqual(1)
      expect(Math.abs(r.actual.change - r.expected.change)).toBeLessThan(0.05)
    }
    // the expected stream of the red herring, landing visits: listed, not matched
    const byStream = a.correlations({ stream: 'marketing.landing.visit' })
    expect(byStream.query).toEqual({ stream: 'marketing.landing.visit' })
    expect(byStream.results.map((r) => r.event)).toEqual([herring.id])
    expect(byStream.results[0]!.actual.matched).toBe(false)
    // search: moved by the launch; the future holiday has not started
    const search = a.correlations({ stream: 'customer.tutor.search' }).results
    expect(search.map((r) => [r.event, r.status, r.actual.matched])).toEqual([
      [real.id, 'measuring', true],
      [decrease.id, 'pending', false],
    ])
    a.advance(T0 + 80 * HOUR)
    const holiday = a.correlations({ event: decrease.id }).results
    expect(
      holiday.every(
        (r) =>
          r.status === 'measured' &&
          r.expected.direction === 'decrease' &&
          r.actual.matched &&
          r.actual.direction === 'decrease',
      ),
    ).toBe(true)
    // externalEvents carries the same as actualImpact
    const listed = a.externalEvents().find((x) => x.id === real.id)!
    expect(listed.actualImpact!.map((x) => [x.stream, x.status, x.actual.matched])).toEqual([
      ['customer.login', 'measured', true],
      ['customer.tutor.search', 'measured', true],
    ])
    // errors: unknown event (404-type), unknown stream (400-type)
    expect(() => a.correlations({ event: 'evt_404' })).toThrow(
      expect.objectContaining({ code: 'VS_SIM_UNKNOWN_EVENT' }),
    )
    expect(badArgument(() => a.correlations({ stream: 'customer.teleport' }))).toMatch(/^stream: /)
  })

  it('a value modifier should be measured on the value against the same draws', () => {
    const a = engine()
    const ev = a.injectExternalEvent({ templateId: 'aws-outage', timestamp: T0 + HOUR })
    a.advance(T0 + 4 * HOUR)
    const r = a.correlations({ event: ev.id }).results
    const latency = r.find((x) => x.stream === 'system.api.request.log')!
    expect(latency.measure).toBe('value')
    expect(latency.actual.change).toBeCloseTo(3, 2)
    expect(latency.actual.matched).toBe(true)
    const errors = r.find((x) => x.stream === 'system.api.error')!
    expect(errors.measure).toBe('count')
    expect(errors.actual.change).toBeGreaterThan(6)
    expect(r.find((x) => x.stream === 'customer.login')!.expected.direction).toBe('decrease')
    expect(r.find((x) => x.stream === 'customer.login')!.actual.matched).toBe(true)
  })

  it('externalEvents should filter by time and a full event should get modifiers from its magnitude', () => {
    const a = engine()
    a.injectExternalEvent({ templateId: 'finals-week', timestamp: T0 + HOUR })
    const full = a.injectExternalEvent({
      timestamp: T0 + 5 * HOUR,
      category: 'marketing',
      title: 'Newsletter feature',
      severity: 'info',
      expectedImpact: {
        streams: ['marketing.email.opened'],
        direction: 'increase',
        magnitude: 'medium',
        duration: 'PT6H',
      },
      externalLink: 'https://example.com/newsletter',
    })
    expect(full).toMatchObject({
      templateId: null,
      type: 'custom',
      icon: '📣',
      modifiers: [{ stream: 'marketing.email.opened', type: 'multiplier', value: 1.3 }],
      window: { start: T0 + 5 * HOUR, end: T0 + 11 * HOUR },
      externalLink: 'https://example.com/newsletter',
      injectedByAI: false,
    })
    expect(a.externalEvents({ start: T0 + 2 * HOUR }).map((x) => x.id)).toEqual([full.id])
    expect(a.externalEvents({ end: T0 + 2 * HOUR }).map((x) => x.id)).toEqual(['evt_1'])
    // overrides on a template: title, delay, red herring
    const o = a.injectExternalEvent({
      templateId: 'finals-week',
      timestamp: T0 + 6 * HOUR,
      title: 'Finals (Europe)',
      expectedImpact: { delay: 'PT2H' },
    })
    expect(o.title).toBe('Finals (Europe)')
    expect(o.window.start).toBe(T0 + 8 * HOUR)
    expect(o.modifiers).toEqual(
      world.scenarioSet.templateById.get('finals-week')!.modifiers.map((m) => m.spec),
    )
  })

  it('injection should validate its input and name the field', () => {
    const a = engine()
    expect(
      badArgument(() => a.injectExternalEvent({ templateId: 'viral-blog-post' } as never)),
    ).toContain('timestamp')
    expect(
      badArgument(() =>
        a.injectExternalEvent({ templateId: 'viral-blog-post', timestamp: 'yesterday' }),
      ),
    ).toMatch(/^timestamp: /)
    expect(
      badArgument(() => a.injectExternalEvent({ templateId: 'alien-invasion', timestamp: T0 })),
    ).toMatch(/^templateId: unknown template "alien-invasion"/)
    expect(
      badArgument(() =>
        a.injectExternalEvent({
          timestamp: T0,
          title: 'x',
          severity: 'info',
          expectedImpact: {
            streams: ['customer.login'],
            direction: 'increase',
            magnitude: 'low',
            duration: 'PT1H',
          },
        }),
      ),
    ).toMatch(/^category: required/)
    expect(
      badArgument(() =>
        a.injectExternalEvent({
          templateId: 'finals-week',
          timestamp: T0,
          expectedImpact: { streams: ['customer.teleport'] },
        }),
      ),
    ).toMatch(/^expectedImpact\.streams\.0: expected a stream of world tutoring/)
    expect(
      badArgument(() =>
        a.injectExternalEvent({
          templateId: 'finals-week',
          timestamp: T0,
          modifiers: [{ stream: 'session.booking.requested', type: 'multiplier', value: -1 }],
        }),
      ),
    ).toMatch(/^modifiers\.0\.value: expected a positive multiplier/)
    expect(
      badArgument(() =>
        a.injectExternalEvent({
          templateId: 'finals-week',
          timestamp: T0,
          modifiers: [{ stream: 'customer.login', type: 'multiplier', value: 2 }],
        }),
      ),
    ).toMatch(/^modifiers\.0\.stream: expected a stream listed in expectedImpact\.streams/)
    expect(
      badArgument(() =>
        a.injectExternalEvent({
          templateId: 'finals-week',
          timestamp: T0,
          expectedImpact: { duration: 'P1M' },
        }),
      ),
    ).toMatch(/expectedImpact/)
    expect(
      badArgument(() =>
        a.injectExternalEvent({ templateId: 'finals-week', timestamp: T0, colour: 'red' } as never),
      ),
    ).toContain('colour')
    expect(
      badArgument(() =>
        a.injectExternalEvent({
          timestamp: T0,
          category: 'product',
          title: 'x',
          severity: 'info',
          expectedImpact: {
            streams: ['customer.login'],
            direction: 'mixed',
            magnitude: 'low',
            duration: 'PT1H',
          },
        }),
      ),
    ).toMatch(/^modifiers: required/)
    expect(badArgument(() => a.injectExternalEvent(null as never))).toContain('expected an object')
    expect(a.externalEvents()).toEqual([])
  })
})
