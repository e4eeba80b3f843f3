import { describe, expect, it } from 'vitest'
import { align, BucketSeries, historyPoints, joinHistory } from '../src/lib/series.js'

const T0 = Date.parse('2026-11-23T10:00:00Z')

describe('BucketSeries', () => {
  it('should average normalizedValue per minute of simulation time', () => {
    const s = new BucketSeries()
    s.add('a', T0 + 1_000, 40)
    s.add('a', T0 + 59_000, 60)
    s.add('a', T0 + 61_000, 80)
    expect(s.points('a')).toEqual({ t: [T0 / 1000, T0 / 1000 + 60], v: [50, 80] })
    expect(s.count('a')).toBe(3)
  })

  it('should place a late event in its own bucket, keeping times increasing', () => {
    const s = new BucketSeries()
    s.add('a', T0 + 120_000, 10)
    s.add('a', T0, 20)
    s.add('a', T0 + 60_000, 30)
    s.add('a', T0 + 1_000, 40)
    expect(s.points('a')).toEqual({
      t: [T0 / 1000, T0 / 1000 + 60, T0 / 1000 + 120],
      v: [30, 30, 10],
    })
  })

  it('should keep only the window behind the newest event', () => {
    const s = new BucketSeries(60_000, 10 * 60_000)
    for (let i = 0; i < 2000; i++) s.add('a', T0 + i * 60_000, i % 100)
    const p = s.points('a')
    expect(p.t.length).toBeLessThanOrEqual(11)
    expect(p.t.at(-1)).toBe((T0 + 1999 * 60_000) / 1000)
    s.clear()
    expect(s.points('a').t).toEqual([])
  })

  it('should ignore non-finite input', () => {
    const s = new BucketSeries()
    s.add('a', Number.NaN, 1)
    s.add('a', T0, Number.NaN)
    expect(s.points('a').t).toEqual([])
  })
})

describe('history and alignment', () => {
  it('should read /history rows sorted and skip malformed ones', () => {
    const p = historyPoints([
      { timestamp: '2026-11-23T11:00:00Z', value: 3, normalized: 55 },
      { timestamp: '2026-11-23T10:00:00Z', value: 2, normalized: 45 },
      { timestamp: 'nope', normalized: 1 },
      { timestamp: '2026-11-23T12:00:00Z', value: 2 },
      null,
    ])
    expect(p).toEqual({ t: [T0 / 1000, T0 / 1000 + 3600], v: [45, 55] })
    expect(historyPoints(undefined)).toEqual({ t: [], v: [] })
  })

  it('should join history before the live tail, the live buckets winning where both exist', () => {
    const hist = { t: [0, 3600, 7200], v: [1, 2, 3] }
    const live = { t: [3600, 3660], v: [9, 8] }
    expect(joinHistory(hist, live)).toEqual({ t: [0, 3600, 3660], v: [1, 9, 8] })
    expect(joinHistory(hist, { t: [], v: [] })).toBe(hist)
  })

  it('should align series on the union of their times with nulls for gaps', () => {
    expect(
      align([
        { t: [1, 3], v: [10, 30] },
        { t: [2, 3], v: [20, 31] },
      ]),
    ).toEqual([
      [1, 2, 3],
      [10, null, 30],
      [null, 20, 31],
    ])
  })
})
