/**
 * The history book: determinism (same world, seed and start → byte-identical
 * series, statistics and events) and regeneration — a past external event or a
 * retroactive scenario changes only the buckets inside the reported window, joins
 * the untouched series exactly at both seams, moves the expected streams, and
 * regenerating without modifications restores the baseline byte for byte.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  HistoryBook,
  SimError,
  SimErrorCode,
  type GeneratedHistory,
  type HistoryModification,
  type HistorySeries,
} from '@verisim/sim'
import { tutoring } from '../helpers.js'

const START = Date.UTC(2026, 2, 2)
const SEED = 42

let book: HistoryBook
beforeAll(() => {
  book = new HistoryBook({ world: tutoring(), seed: SEED, start: START })
}, 30_000)

const bytes = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength)
/** JSON with the typed arrays spelled out (NaN → null, as JSON.stringify writes it). */
const seriesJson = (s: HistorySeries): string =>
  JSON.stringify({
    ...s,
    count: s.count.map((a) => Array.from(a)),
    mean: s.mean.map((a) => Array.from(a)),
  })

function expectSameSeries(a: HistorySeries, b: HistorySeries): void {
  expect(a.n).toBe(b.n)
  a.streams.forEach((name, s) => {
    expect(bytes(a.count[s]!).equals(bytes(b.count[s]!)), `${name} count`).toBe(true)
    expect(bytes(a.mean[s]!).equals(bytes(b.mean[s]!)), `${name} mean`).toBe(true)
  })
}

/** Buckets [a, b) of the series covered by `window`. */
function bucketsOf(s: HistorySeries, w: { start: number; end: number }): [number, number] {
  return [Math.floor((w.start - s.from) / s.bucketMs), Math.ceil((w.end - s.from) / s.bucketMs)]
}

/**
 * Every bucket of every stream outside the regeneration's window equals the
 * baseline (count and mean, NaN included); some bucket inside differs; the
 * buckets just before and just after the window are equal.
 */
function expectOnlyWindowChanged(g: GeneratedHistory): [number, number] {
  const base = book.series
  const s = g.series
  expect(g.window).not.toBeNull()
  const w = g.window!
  expect(w.start).toBeGreaterThanOrEqual(base.from)
  expect(w.end).toBeLessThanOrEqual(base.start)
  expect((w.start - base.from) % base.bucketMs).toBe(0)
  const [a, b] = bucketsOf(s, w)
  let changed = 0
  const outside: string[] = []
  for (let k = 0; k < s.streams.length; k++) {
    for (let i = 0; i < s.n; i++) {
      const same =
        s.count[k]![i] === base.count[k]![i] && Object.is(s.mean[k]![i], base.mean[k]![i])
      if (i >= a && i < b) {
        if (!same) changed++
      } else if (!same && outside.length < 10) {
        outside.push(`${s.streams[k]} at ${new Date(s.from + i * s.bucketMs).toISOString()}`)
      }
    }
    // the seams: the last bucket before the window and the first after it
    if (a > 0)
      expect(s.count[k]![a - 1], `${s.streams[k]} before the window`).toBe(base.count[k]![a - 1])
    if (b < s.n) expect(s.count[k]![b], `${s.streams[k]} after the window`).toBe(base.count[k]![b])
  }
  expect(outside, 'buckets changed outside the window').toEqual([])
  expect(changed).toBeGreaterThan(0)
  return [a, b]
}

/** Sum of a stream's counts over [t0, t1) in a series. */
function total(s: HistorySeries, stream: string, t0: number, t1: number): number {
  const k = s.streams.indexOf(stream)
  const [a, b] = bucketsOf(s, { start: t0, end: t1 })
  let x = 0
  for (let i = Math.max(0, a); i < Math.min(s.n, b); i++) x += s.count[k]![i]!
  return x
}

describe('history book determinism', () => {
  it('the same world, seed and start should give byte-identical series, statistics and events', () => {
    const other = new HistoryBook({ world: tutoring(), seed: SEED, start: START })
    expect(seriesJson(other.series)).toBe(seriesJson(book.series))
    expectSameSeries(other.series, book.series)
    expect(JSON.stringify(other.baseline.anomalies)).toBe(JSON.stringify(book.baseline.anomalies))
    for (const iv of ['12h', '1h', '15m'] as const)
      expect(JSON.stringify(other.statistics(iv))).toBe(JSON.stringify(book.statistics(iv)))
    expect(JSON.stringify(other.events)).toBe(JSON.stringify(book.events))
  }, 30_000)

  it('a different seed should give a different baseline', () => {
    const other = new HistoryBook({ world: tutoring(), seed: SEED + 1, start: START })
    expect(seriesJson(other.series)).not.toBe(seriesJson(book.series))
    expect(JSON.stringify(other.statistics('12h'))).not.toBe(JSON.stringify(book.statistics('12h')))
    expect(JSON.stringify(other.events)).not.toBe(JSON.stringify(book.events))
  }, 30_000)
})

describe('history regeneration', () => {
  it('a past tiktok-mention should change only its window and raise its streams there', () => {
    const at = START - 10 * DAY
    const g = book.regenerate([
      {
        kind: 'event',
        event: { templateId: 'tiktok-mention', timestamp: new Date(at).toISOString() },
      },
    ])
    expectOnlyWindowChanged(g)
    const e = g.timeline.events.find((x) => x.templateId === 'tiktok-mention' && x.at === at)!
    expect(e).toBeDefined()
    expect(e.redHerring).toBe(false)
    // the event's impact window lies inside the regeneration window
    expect(g.window!.start).toBeLessThanOrEqual(e.window.start)
    expect(g.window!.end).toBeGreaterThanOrEqual(e.window.end)
    for (const stream of e.expectedImpact.streams) {
      const after = total(g.series, stream, e.window.start, e.window.end)
      const before = total(book.series, stream, e.window.start, e.window.end)
      expect(after, `${stream}: ${before} → ${after}`).toBeGreaterThan(before)
    }
  })

  it('a retroactive payment-outage should change only its window and raise payment failures and API errors', () => {
    const at = START - 12 * DAY
    const g = book.regenerate([{ kind: 'scenario', scenarioId: 'payment-outage', start: at }])
    expectOnlyWindowChanged(g)
    expect(g.window!.start).toBeLessThanOrEqual(at)
    // active for 2 h from `at`
    for (const stream of ['customer.payment.failed', 'system.api.error', 'support.chat.started']) {
      const after = total(g.series, stream, at, at + 2 * HOUR)
      const before = total(book.series, stream, at, at + 2 * HOUR)
      expect(after, `${stream}: ${before} → ${after}`).toBeGreaterThan(before)
    }
  })

  it('regenerating without modifications should restore the baseline byte for byte', () => {
    const g = book.regenerate([])
    expect(g.window).toBeNull()
    expect(seriesJson(g.series)).toBe(seriesJson(book.series))
    expectSameSeries(g.series, book.series)
  })

  it('an injected red herring should report no window and leave the series identical', () => {
    const g = book.regenerate([
      {
        kind: 'event',
        event: {
          templateId: 'tiktok-mention',
          timestamp: new Date(START - 10 * DAY).toISOString(),
          redHerring: true,
        },
      },
    ])
    expect(g.window).toBeNull()
    expectSameSeries(g.series, book.series)
  })

  it('should leave the baseline itself untouched', () => {
    const before = seriesJson(book.series)
    book.regenerate([
      { kind: 'scenario', scenarioId: 'exam-season-surge', start: START - 20 * DAY },
    ])
    expect(seriesJson(book.series)).toBe(before)
  })

  // Regression: a modifier on a chain outcome (customer.churned, produced 24–168 h
  // after an escalated ticket) changes it one inbound delay later; the window
  // reaches forward by that delay.
  it('a past price-increase should change nothing after its window', () => {
    const g = book.regenerate([
      {
        kind: 'event',
        event: {
          templateId: 'price-increase',
          timestamp: new Date(START - 15 * DAY).toISOString(),
        },
      },
    ])
    expectOnlyWindowChanged(g)
  })

  // Regression, backward: outcomes anchored before a session start (cancellations
  // 48–1 h before it) take the probability at the session start, so the window
  // reaches back by the longest such offset.
  it('a retroactive quality-crisis should change nothing before its window', () => {
    const g = book.regenerate([
      { kind: 'scenario', scenarioId: 'quality-crisis', start: START - 20 * DAY },
    ])
    expectOnlyWindowChanged(g)
  })
})

describe('history regeneration errors', () => {
  const fails = (mods: HistoryModification[]): SimError => {
    try {
      book.regenerate(mods)
    } catch (err) {
      return err as SimError
    }
    throw new Error('regenerate did not throw')
  }

  it('an unknown scenario should throw VS_SIM_BAD_ARGUMENT naming it', () => {
    const err = fails([
      { kind: 'scenario', scenarioId: 'no-such-scenario', start: START - 12 * DAY },
    ])
    expect(err).toBeInstanceOf(SimError)
    expect(err.code).toBe(SimErrorCode.badArgument)
    expect(err.message).toContain('scenario no-such-scenario')
    expect(err.message).toMatch(/history modification \d+/)
  })

  it('an unknown template should throw VS_SIM_BAD_ARGUMENT naming it', () => {
    const err = fails([
      {
        kind: 'event',
        event: { templateId: 'no-such-template', timestamp: new Date(START - DAY).toISOString() },
      },
    ])
    expect(err).toBeInstanceOf(SimError)
    expect(err.code).toBe(SimErrorCode.badArgument)
    expect(err.message).toContain('no-such-template')
    expect(err.message).toMatch(/history modification \d+ \(event\)/)
  })

  // Regression: the baseline's own events come first in the combined list; errors
  // still count the caller's modifications from 0.
  it("the error should name the modification by its index in the caller's list", () => {
    const err = fails([
      { kind: 'scenario', scenarioId: 'no-such-scenario', start: START - 12 * DAY },
    ])
    expect(err.message).toContain('history modification 0 ')
  })
})
