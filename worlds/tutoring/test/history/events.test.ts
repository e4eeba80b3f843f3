/**
 * The baseline's external events: 2–5 a day, 30–40 % red herrings and 60–70 %
 * causal, academic events on their Monday 08:00 UTC schedule, marketing events in
 * clusters, and the measured impact stored with each (red herrings change
 * nothing, causal events mostly move their streams).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  HistoryBook,
  HistoryModel,
  planBaselineEvents,
  type HistoryEvent,
} from '@verisim/sim'
import { tutoring } from '../helpers.js'

const START = Date.UTC(2026, 2, 2)
const SEED = 42

let book: HistoryBook
let events: HistoryEvent[]
beforeAll(() => {
  book = new HistoryBook({ world: tutoring(), seed: SEED, start: START })
  events = book.events
}, 30_000)

const overlaps = (a: HistoryEvent, b: HistoryEvent): boolean =>
  a.window.start < b.window.end && b.window.start < a.window.end

/** Events per UTC day over [from, to), in day order. */
function perDay(ts: readonly number[], from: number, to: number): number[] {
  const out: number[] = []
  for (let d = from; d < to; d += DAY) out.push(ts.filter((t) => t >= d && t < d + DAY).length)
  return out
}

describe('baseline external events', () => {
  it('should number 2–5 on each of the 30 UTC days', () => {
    const days = perDay(
      events.map((e) => e.at),
      book.series.from,
      START,
    )
    expect(days).toHaveLength(30)
    for (const [d, k] of days.entries()) {
      expect(k, `day ${d}: ${days.join(',')}`).toBeGreaterThanOrEqual(2)
      expect(k, `day ${d}: ${days.join(',')}`).toBeLessThanOrEqual(5)
    }
  })

  it('should be stored as baseline events in time order, inside the 30 days', () => {
    events.forEach((e, i) => {
      expect(e.id).toBe(`base_${i + 1}`)
      expect(e.source).toBe('baseline')
      expect(e.at).toBe(Date.parse(e.timestamp))
      expect(e.at).toBeGreaterThanOrEqual(book.series.from)
      expect(e.at).toBeLessThan(START)
      if (i > 0) expect(e.at).toBeGreaterThanOrEqual(events[i - 1]!.at)
      expect(e.actualImpact.length).toBeGreaterThan(0)
      for (const a of e.actualImpact) expect(book.series.streams).toContain(a.stream)
    })
  })

  it('should be 30–40 % red herrings and 60–70 % causal', () => {
    const herrings = events.filter((e) => e.redHerring).length
    const n = events.length
    expect(herrings / n).toBeGreaterThanOrEqual(0.3)
    expect(herrings / n).toBeLessThanOrEqual(0.4)
    expect((n - herrings) / n).toBeGreaterThanOrEqual(0.6)
    expect((n - herrings) / n).toBeLessThanOrEqual(0.7)
  })

  it('a red herring should report no change on any of its streams', () => {
    // it is measured against the baseline without it, which is the baseline itself
    // (next test): overlapping causal events do not count in
    const herrings = events.filter((x) => x.redHerring)
    expect(herrings.length).toBeGreaterThan(20)
    for (const e of herrings) {
      for (const a of e.actualImpact) {
        expect(a.actual.change, `${e.id} ${e.templateId} on ${a.stream}`).toBe(0)
        expect(a.actual.matched).toBe(false)
      }
      expect(e.impacted).toBe(false)
    }
  })

  it('the baseline without its red herrings should be byte-identical to the baseline', () => {
    const plan = planBaselineEvents(tutoring(), SEED, book.series.from, START)
    expect(plan.mods).toHaveLength(events.length)
    const causal = plan.mods.filter((_, i) => !events[i]!.redHerring)
    expect(causal.length).toBeLessThan(plan.mods.length)
    const g = book.model.generate(causal).series
    const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    g.streams.forEach((name, s) => {
      expect(bytes(g.count[s]!).equals(bytes(book.series.count[s]!)), name).toBe(true)
      expect(bytes(g.mean[s]!).equals(bytes(book.series.mean[s]!)), name).toBe(true)
    })
  })

  // Regression: a red herring is measured against the baseline without it (the
  // baseline itself), so a causal event overlapping it does not make it impacted.
  it('every red herring should have impacted = false', () => {
    const wrong = events
      .filter((e) => e.redHerring && e.impacted)
      .map((e) => `${e.id} ${e.templateId}`)
    expect(wrong).toEqual([])
  })

  it('most causal events should have moved their streams the expected way', () => {
    const causal = events.filter((e) => !e.redHerring)
    const share = causal.filter((e) => e.impacted).length / causal.length
    // seed 42: 64 of 65
    expect(share).toBeGreaterThanOrEqual(0.8)
  })

  it('academic events should fall on Mondays 08:00 UTC, one every Monday', () => {
    const academic = events.filter((e) => e.category === 'academic')
    for (const e of academic) {
      const d = new Date(e.at)
      expect(d.getUTCDay(), e.timestamp).toBe(1)
      expect(e.at % DAY, e.timestamp).toBe(8 * HOUR)
    }
    let mondays = 0
    for (let d = book.series.from; d < START; d += DAY) if (new Date(d).getUTCDay() === 1) mondays++
    expect(academic.length).toBe(mondays)
  })

  it('business-hour categories should fall in 09:00–18:00 UTC, infrastructure at any hour', () => {
    for (const e of events.filter((x) =>
      ['product', 'competitive', 'operational'].includes(x.category),
    )) {
      const h = (e.at % DAY) / HOUR
      expect(h, `${e.id} ${e.timestamp}`).toBeGreaterThanOrEqual(9)
      expect(h, `${e.id} ${e.timestamp}`).toBeLessThan(18)
    }
    const infra = events
      .filter((x) => x.category === 'infrastructure')
      .map((e) => (e.at % DAY) / HOUR)
    expect(infra.some((h) => h < 9 || h >= 18)).toBe(true)
  })

  it('marketing events should cluster', () => {
    // The mean gap between consecutive events is no test of clustering: it is
    // (last − first) / (n − 1) whatever the placement. What clustering changes is
    // how often an event shares its UTC day with another one. For n events placed
    // independently and uniformly over 30 days that share is 1 − (29/30)^(n−1)
    // (about 0.54 for n = 24); the planner's bursts put two on each burst day.
    // Seed 42: 0.92 (seeds 1–7, 99, 123, 2024: 0.80–0.95 against 0.46–0.56).
    const mk = events.filter((e) => e.category === 'marketing').map((e) => Math.floor(e.at / DAY))
    expect(mk.length).toBeGreaterThanOrEqual(10)
    const perDayCount = new Map<number, number>()
    for (const d of mk) perDayCount.set(d, (perDayCount.get(d) ?? 0) + 1)
    const shared = mk.filter((d) => perDayCount.get(d)! > 1).length / mk.length
    const uniform = 1 - (29 / 30) ** (mk.length - 1)
    expect(shared).toBeGreaterThan(uniform + 0.2)
  })

  // Regression: days are UTC days, not counted from the 12 h-aligned baseline start,
  // so an afternoon start keeps Mondays 08:00 UTC and 2–5 events per whole day.
  it('with a start in the afternoon, academic events should still be Mondays 08:00 UTC and days hold 2–5 events', () => {
    const world = tutoring()
    const start = Date.UTC(2026, 2, 2, 18)
    const model = new HistoryModel({ world, seed: SEED, start })
    const plan = planBaselineEvents(world, SEED, model.from, start)
    const cat = new Map(world.scenarioSet.templates.map((t) => [t.id, t.category]))
    const ts = plan.mods.map((m) => new Date(m.event.timestamp).getTime())
    plan.mods.forEach((m, i) => {
      if (cat.get(m.event.templateId!) !== 'academic') return
      expect(ts[i]! % DAY, new Date(ts[i]!).toISOString()).toBe(8 * HOUR)
    })
    // whole UTC days inside the window
    const first = Math.ceil(model.from / DAY) * DAY
    const last = Math.floor(start / DAY) * DAY
    for (const k of perDay(ts, first, last)) {
      expect(k).toBeGreaterThanOrEqual(2)
      expect(k).toBeLessThanOrEqual(5)
    }
  })
})
