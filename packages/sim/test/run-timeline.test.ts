/**
 * The run timeline's bookkeeping: when it takes a snapshot, and which it keeps
 * as they age. (Travel itself is checked per world by the conformance suite.)
 */
import { describe, expect, it } from 'vitest'
import { DAY, HOUR, RunTimeline, type Engine, type World } from '../src/index.js'

/** An engine that only has a time, a journal and snapshots (what the timeline's bookkeeping reads). */
function fakeEngine(start: number) {
  const e = {
    now: start,
    snapshot: () => new Uint8Array(8),
    journal: () => [],
  }
  return e as typeof e & Engine
}

const world = {} as World
const START = Date.UTC(2025, 1, 24)

describe('RunTimeline', () => {
  it('should take a snapshot once everyMs of simulation time passed', () => {
    const engine = fakeEngine(START)
    const timeline = new RunTimeline(world, engine, { everyMs: 3 * HOUR })
    expect(timeline.entries.map((e) => e.at)).toEqual([START])
    engine.now = START + 2 * HOUR
    expect(timeline.checkpoint()).toBe(false)
    engine.now = START + 3 * HOUR
    expect(timeline.checkpoint()).toBe(true)
    expect(timeline.entries.map((e) => e.at)).toEqual([START, START + 3 * HOUR])
    expect(timeline.byteLength).toBe(16)
  })

  it('should thin old snapshots: all of the last day, one per 12 h for a week, one a day beyond, and the first', () => {
    const engine = fakeEngine(START)
    const timeline = new RunTimeline(world, engine, { everyMs: 3 * HOUR })
    const keptBefore: number[][] = []
    for (let h = 3; h <= 30 * 24; h += 3) {
      engine.now = START + h * HOUR
      timeline.checkpoint()
      keptBefore.push(timeline.entries.map((e) => e.at))
    }
    const at = timeline.entries.map((e) => e.at)
    const newest = at.at(-1)!
    expect(at[0]).toBe(START)
    // gaps between kept snapshots (the run's first, kept whatever its span, left out)
    const gaps = (from: number, to: number) =>
      at
        .slice(2)
        .map((t, i) => [at[i + 1]!, t] as const)
        .filter(([a, b]) => newest - b >= from && newest - a <= to)
        .map(([a, b]) => (b - a) / HOUR)
    // the last day: every snapshot
    expect(at.filter((t) => newest - t <= DAY)).toHaveLength(9)
    // one to seven days old: 12 h apart
    for (const g of gaps(DAY + 12 * HOUR, 7 * DAY)) expect(g).toBe(12)
    // older: a day apart
    for (const g of gaps(8 * DAY, 30 * DAY)) expect(g).toBe(24)
    // bounded: 30 days of 3-hour snapshots (241) become about 9 + 12 + 23 + 1
    expect(at.length).toBeLessThanOrEqual(48)
    // what is kept in a band stays kept until it ages into a sparser one
    const last = keptBefore.at(-1)!
    const before = keptBefore.at(-2)!
    const dropped = before.filter((t) => !last.includes(t))
    for (const t of dropped) expect(newest - t).toBeGreaterThan(DAY)
  })

  it('should refuse a target before its first snapshot, and a bad interval', () => {
    const engine = fakeEngine(START)
    const timeline = new RunTimeline(world, engine)
    expect(() => timeline.travel(START - 1)).toThrow(
      /travel: target must be a time from 2025-02-24T00:00:00\.000Z \(the first snapshot\) on/,
    )
    expect(() => timeline.travel(NaN)).toThrow(/got NaN/)
    expect(() => new RunTimeline(world, engine, { everyMs: 0 })).toThrow(
      /everyMs must be a positive number of milliseconds, got 0/,
    )
  })
})
