/**
 * Manual modifiers (Engine.adjustBehavior, the control action adjust_behavior):
 * they act from the simulation time they are added at, end at a breakpoint when
 * their duration runs out, show in activeModifiers and in events' causes, and are
 * removed by clearManual and by reset — without breaking split invariance.
 */
import { describe, expect, it } from 'vitest'
import { HOUR, MINUTE, SimError, createEngine, type Engine, type SimEvent } from '@verisim/sim'
import { START, fnv, tutoring } from './helpers.js'

const world = tutoring()
/** Keeps the busiest stream small so a few simulated hours run fast. */
const THIN = { stream: 'system.api.request.log', multiplier: 0.02 }
/** 09:00 UTC on a Monday: daytime demand. */
const T0 = START + 9 * HOUR
const STREAM = 'customer.message.sent'

function engine(seed = 7): Engine {
  const e = createEngine({ world, seed, start: START })
  e.setModifiers([THIN])
  e.advance(T0)
  return e
}

const iso = (ms: number) => new Date(ms).toISOString()
const of = (evs: readonly SimEvent[], stream: string) => evs.filter((e) => e.stream === stream)

function thrown(fn: () => unknown): SimError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SimError)
    return err as SimError
  }
  throw new Error('expected an error')
}

/** Digest of every event from T0 to `to`, advanced in steps of `step` ms. */
function digest(e: Engine, to: number, step: number): { hash: number; n: number } {
  let hash = 2166136261
  let n = 0
  for (let t = e.now; t < to;) {
    t = Math.min(to, t + step)
    for (const ev of e.advance(t)) {
      hash = fnv(hash, JSON.stringify(ev))
      n++
    }
  }
  return { hash, n }
}

describe('adjustBehavior', () => {
  it('should add a manual modifier from now on and report it with its id, cause and end', () => {
    const e = engine()
    const m = e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2, duration: 'PT2H' })
    expect(m).toEqual({
      id: 'mod_1',
      cause: 'manual:mod_1',
      stream: STREAM,
      type: 'multiplier',
      target: 'rate',
      value: 2,
      duration: 'PT2H',
      startTime: iso(T0),
      startMs: T0,
      endsAt: iso(T0 + 2 * HOUR),
      endMs: T0 + 2 * HOUR,
    })
    expect(e.manualModifiers()).toEqual([m])
    e.advance(T0 + 30 * MINUTE)
    expect(e.activeModifiers()).toEqual([
      {
        source: 'manual:mod_1',
        stream: STREAM,
        type: 'multiplier',
        target: 'rate',
        value: 2,
        declaredValue: 2,
        strength: 1,
        status: 'active',
        remainingMs: 90 * MINUTE,
        id: 'mod_1',
        startTime: iso(T0),
        endsAt: iso(T0 + 2 * HOUR),
        description: `manual: ${STREAM} rate ×2`,
      },
    ])
    // setModifiers' own modifier is counted, not listed
    expect(e.stats().modifiers).toBe(2)
    // without a duration: until cleared or reset; ids count on
    const open = e.adjustBehavior({ stream: 'support.*', type: 'multiplier', value: 1.2 })
    expect(open).toMatchObject({ id: 'mod_2', duration: null, endsAt: null, endMs: null })
    expect(e.activeModifiers().find((x) => x.id === 'mod_2')).toMatchObject({
      remainingMs: null,
      endsAt: null,
    })
  })

  it('should multiply the stream rate over a simulated window and mark its events with the cause', () => {
    const base = engine()
    const mod = engine()
    mod.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2, id: 'double' })
    const to = T0 + 4 * HOUR
    const b = of(base.advance(to), STREAM)
    const m = of(mod.advance(to), STREAM)
    expect(b.length).toBeGreaterThan(1000)
    expect(m.length / b.length).toBeGreaterThan(1.85)
    expect(m.length / b.length).toBeLessThan(2.15)
    expect(m.every((ev) => ev.causes.includes('manual:double'))).toBe(true)
    expect(b.every((ev) => ev.causes.length === 0)).toBe(true)
    // other streams are not marked
    const other = of(mod.advance(to + HOUR), 'customer.login')
    expect(other.length).toBeGreaterThan(0)
    expect(other.every((ev) => !ev.causes.includes('manual:double'))).toBe(true)
  })

  it('should apply additive and override rate modifiers and value modifiers', () => {
    const base = engine()
    const add = engine()
    add.adjustBehavior({ stream: 'support.ticket.created', type: 'override', value: 600 })
    const to = T0 + 2 * HOUR
    const n = of(add.advance(to), 'support.ticket.created').length
    // 600 per hour for two hours, whatever the baseline
    expect(n).toBeGreaterThan(1100)
    expect(n).toBeLessThan(1300)
    expect(of(base.advance(to), 'support.ticket.created').length).toBeLessThan(200)
    const val = engine()
    val.adjustBehavior({ stream: STREAM, type: 'override', target: 'value', value: 5 })
    const sent = of(val.advance(T0 + HOUR), STREAM)
    expect(sent.length).toBeGreaterThan(100)
    expect(sent.every((ev) => ev.causes.includes('manual:mod_1'))).toBe(true)
    expect(sent.every((ev) => ev.data.chars === 5)).toBe(true)
  })

  it('should expire at the end of its duration, a breakpoint', () => {
    const e = engine()
    const end = T0 + 90 * MINUTE
    e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 3, duration: 'PT90M' })
    // one advance across the end: the engine stops there on its own
    const evs = of(e.advance(T0 + 4 * HOUR), STREAM)
    const marked = evs.filter((ev) => ev.causes.includes('manual:mod_1'))
    expect(marked.length).toBeGreaterThan(0)
    expect(marked.every((ev) => ev.ts > T0 && ev.ts <= end)).toBe(true)
    expect(evs.filter((ev) => ev.ts > end).every((ev) => ev.causes.length === 0)).toBe(true)
    // before: about 3× the rate of after (same daytime profile, within noise)
    const before = marked.length / 1.5
    const after = evs.filter((ev) => ev.ts > end).length / 2.5
    expect(before / after).toBeGreaterThan(2.2)
    expect(e.activeModifiers()).toEqual([])
    expect(e.manualModifiers()).toEqual([])
    expect(e.stats().modifiers).toBe(1)
  })

  it('should keep the output split-invariant with a modifier active and expiring', () => {
    const run = (step: number) => {
      const e = engine(11)
      e.adjustBehavior({ stream: 'customer.*', type: 'multiplier', value: 1.7, duration: 'PT1H' })
      e.adjustBehavior({
        stream: 'support.ticket.created',
        type: 'additive',
        value: 40,
        duration: 'PT2H17M',
      })
      return digest(e, T0 + 3 * HOUR, step)
    }
    const one = run(3 * HOUR)
    expect(one.n).toBeGreaterThan(1000)
    expect(run(7 * MINUTE + 333)).toEqual(one)
    expect(run(59_999)).toEqual(one)
  })

  it('should give the same events when added at the same simulation time after a fresh start (replay)', () => {
    const at = T0 + 45 * MINUTE
    const input = { stream: STREAM, type: 'override', target: 'rate', value: 50 } as const
    const a = engine(5)
    a.advance(at)
    a.adjustBehavior(input)
    const b = engine(5)
    b.advance(T0 + 10 * MINUTE)
    b.advance(at)
    b.adjustBehavior(input)
    expect(digest(b, T0 + 2 * HOUR, 13 * MINUTE)).toEqual(digest(a, T0 + 2 * HOUR, HOUR))
  })

  it('should replace the modifier of an id in use', () => {
    const e = engine()
    e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2, id: 'x' })
    e.advance(T0 + HOUR)
    const m = e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 0.5, id: 'x' })
    expect(m).toMatchObject({ id: 'x', value: 0.5, startMs: T0 + HOUR })
    expect(e.manualModifiers()).toEqual([m])
    expect(e.activeModifiers()).toHaveLength(1)
  })

  it('should refuse bad input naming the field and the expectation', () => {
    const e = engine()
    const msg = (input: unknown) =>
      thrown(() => e.adjustBehavior(input as Parameters<Engine['adjustBehavior']>[0]))
    expect(msg({ stream: 'nope', type: 'multiplier', value: 2 }).message).toBe(
      'stream: expected a stream of world tutoring (an exact name, "<domain>.*" or "*"), found "nope"',
    )
    expect(msg({ stream: STREAM, type: 'multiplier', value: 0 }).code).toBe('VS_SIM_BAD_ARGUMENT')
    expect(msg({ stream: STREAM, type: 'multiplier', value: -1 }).message).toBe(
      'value: expected a positive multiplier, found -1',
    )
    expect(msg({ stream: STREAM, type: 'times', value: 2 }).message).toMatch(
      /^type: expected one of "multiplier", "additive", "override"/,
    )
    expect(msg({ stream: STREAM, type: 'multiplier', value: 2, duration: '2h' }).message).toBe(
      'duration: expected a positive ISO 8601 duration (e.g. PT2H, PT30M, P1D), found "2h"',
    )
    expect(msg({ stream: STREAM, type: 'multiplier', value: 2, duration: 'PT0S' }).message).toMatch(
      /^duration: /,
    )
    expect(msg({ stream: STREAM, type: 'multiplier', value: 2, id: 'a b' }).message).toMatch(
      /^id: expected 1 to 64 letters/,
    )
    expect(msg({ stream: STREAM, type: 'multiplier', value: 2, until: 'x' }).message).toMatch(
      /^until: unexpected field/,
    )
    expect(msg({ stream: 'marketing.ad.spend', type: 'additive', value: 2 }).message).toMatch(
      /^stream: expected streams with a poisson or state arrival/,
    )
    expect(
      msg({ stream: STREAM, type: 'override', target: 'probability', value: 0.5 }).message,
    ).toMatch(/^stream: expected streams that are chain outcomes/)
    // nothing was added
    expect(e.manualModifiers()).toEqual([])
    expect(e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2 }).id).toBe('mod_1')
  })
})

describe('clearManual', () => {
  it('should remove one modifier by id from now on, and refuse an id not in effect', () => {
    const e = engine()
    e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2 })
    e.adjustBehavior({ stream: 'support.*', type: 'multiplier', value: 2, id: 'support' })
    e.advance(T0 + HOUR)
    const cleared = e.clearManual('mod_1')
    expect(cleared.map((m) => m.id)).toEqual(['mod_1'])
    expect(e.manualModifiers().map((m) => m.id)).toEqual(['support'])
    const after = of(e.advance(T0 + 2 * HOUR), STREAM)
    expect(after.length).toBeGreaterThan(0)
    expect(after.every((ev) => ev.causes.length === 0)).toBe(true)
    const err = thrown(() => e.clearManual('mod_1'))
    expect(err.code).toBe('VS_SIM_UNKNOWN_MODIFIER')
    expect(err.message).toContain('in effect: support')
  })

  it('should remove every manual modifier without an id', () => {
    const e = engine()
    e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2 })
    e.adjustBehavior({ stream: 'support.*', type: 'multiplier', value: 2 })
    expect(e.clearManual().map((m) => m.id)).toEqual(['mod_1', 'mod_2'])
    expect(e.activeModifiers()).toEqual([])
    expect(e.clearManual()).toEqual([])
    expect(e.stats().modifiers).toBe(1)
  })
})

describe('reset', () => {
  it('should clear manual modifiers and keep those of setModifiers', () => {
    const base = engine()
    const e = engine()
    e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2, duration: 'PT5H' })
    e.activateScenario('exam-season-surge')
    e.advance(T0 + HOUR)
    e.reset()
    expect(e.manualModifiers()).toEqual([])
    expect(e.activeModifiers()).toEqual([])
    expect(e.stats().modifiers).toBe(1)
    // the expiry of the cleared modifier is no longer a breakpoint; nothing is marked
    const evs = e.advance(T0 + 7 * HOUR)
    expect(evs.every((ev) => !ev.causes.some((c) => c.startsWith('manual:')))).toBe(true)
    // setModifiers' thinning still applies: about as many API logs as the baseline engine
    const api = of(evs, THIN.stream).length
    const baseApi = of(base.advance(T0 + 7 * HOUR), THIN.stream).length * (6 / 7)
    expect(api / baseApi).toBeGreaterThan(0.8)
    expect(api / baseApi).toBeLessThan(1.2)
    // ids keep counting after a reset
    expect(e.adjustBehavior({ stream: STREAM, type: 'multiplier', value: 2 }).id).toBe('mod_2')
  })
})
