import { describe, expect, it } from 'vitest'
import {
  HistoryError,
  HistoryErrorCode,
  MAX_HISTORY_POINTS,
  diffHistory,
  historyFloor,
  liveBucketStarts,
  normalizeHistoryValue,
  normalizeHistoryZ,
  normalizePoint,
  resolveHistoryRange,
  resolveHistoryStreams,
  rollUpHistory,
  selectStatistics,
  type HistoryRequest,
  type LiveBucket,
} from '../../src/index.js'
import { B, DAY, EVENTS, F, H, NOW, RUN, STATS, STREAMS, makeDoc, makeMeta } from './fixtures.js'

const at = (iso: string) => Date.parse(iso)

/** A live bucket from `{stream: [count, sum, expected?]}` (absent streams: no events). */
function bucket(
  values: Partial<Record<(typeof STREAMS)[number], [number, number] | [number, number, number]>>,
): LiveBucket {
  return Float64Array.from(STREAMS.flatMap((s) => [...(values[s] ?? [0, 0]), 0].slice(0, 3)))
}

function rollUp(request: HistoryRequest, live = new Map<number, LiveBucket>(), doc = makeDoc()) {
  const meta = makeMeta()
  const range = resolveHistoryRange(meta, NOW, request)
  return rollUpHistory({ meta, doc, live, stats: STATS, events: EVENTS }, range, NOW)
}

function badQuery(fn: () => unknown): HistoryError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(HistoryError)
    expect((err as HistoryError).code).toBe(HistoryErrorCode.badQuery)
    return err as HistoryError
  }
  throw new Error('expected a HistoryError')
}

describe('history range', () => {
  it('should floor start to the interval in UTC and keep end exclusive', () => {
    const meta = makeMeta()
    const q = { start: at('2026-11-01T05:17:00Z'), end: at('2026-11-01T09:00:00Z') }
    const h1 = resolveHistoryRange(meta, NOW, { ...q, interval: '1h' })
    expect(new Date(h1.startMs).toISOString()).toBe('2026-11-01T05:00:00.000Z')
    expect(h1.points).toBe(4) // 05, 06, 07, 08 — 09:00 is excluded
    const h12 = resolveHistoryRange(meta, NOW, { ...q, interval: '12h' })
    expect(new Date(h12.startMs).toISOString()).toBe('2026-11-01T00:00:00.000Z')
    expect(h12.points).toBe(1)
    const m15 = resolveHistoryRange(meta, NOW, { ...q, interval: '15m' })
    expect(new Date(m15.startMs).toISOString()).toBe('2026-11-01T05:15:00.000Z')
    expect(m15.points).toBe(15)
  })

  it('should default to the last 7 days up to now, clipped to the baseline start', () => {
    const r = resolveHistoryRange(makeMeta(), NOW, {})
    expect(r.interval).toBe('12h')
    expect(r.startMs).toBe(F)
    expect(r.endMs).toBe(NOW)
    expect(r.points).toBe(4) // 1 Nov 00/12, 2 Nov 00/12 (partial)
    expect(r.streams).toEqual(['a', 'm'])
  })

  it('should serve back from now only as far as maxSpanMs, from a 12 h boundary every interval keeps', () => {
    const meta = makeMeta({ maxSpanMs: DAY })
    // NOW − 1 day is 1 Nov 13:20: the floor is the 12 h boundary after it
    expect(historyFloor(meta, NOW)).toBe(F + DAY)
    for (const interval of ['15m', '1h', '12h'] as const) {
      const r = resolveHistoryRange(meta, NOW, { start: F, interval })
      expect(r.startMs, interval).toBe(F + DAY)
    }
    // a span longer than the run so far leaves the baseline start
    expect(historyFloor(makeMeta({ maxSpanMs: 30 * DAY }), NOW)).toBe(F)
    expect(historyFloor(makeMeta(), NOW)).toBe(F)
    // a range wholly behind the floor has no points
    expect(resolveHistoryRange(meta, NOW, { start: F, end: F + H }).points).toBe(0)
  })

  it('should read "now" as the current simulation time', () => {
    const meta = makeMeta()
    expect(resolveHistoryRange(meta, NOW, { end: 'now' })).toEqual(
      resolveHistoryRange(meta, NOW, {}),
    )
    const r = resolveHistoryRange(meta, NOW, {
      start: at('2026-11-02T12:00:00Z'),
      end: 'now',
      interval: '1h',
    })
    expect(r.endMs).toBe(NOW)
    expect(r.points).toBe(2) // 12:00, 13:00 (partial)
    expect(badQuery(() => resolveHistoryRange(meta, NOW, { start: 'now' })).param).toBe('start')
  })

  it('should clip end to now and start to the baseline start', () => {
    const r = resolveHistoryRange(makeMeta(), NOW, {
      start: at('2020-01-01'),
      end: at('2030-01-01T00:00:00Z'),
      interval: '1h',
    })
    expect(r.startMs).toBe(F)
    expect(r.endMs).toBe(NOW)
    expect(r.points).toBe(38) // 37 h 20 min
  })

  it('should give no points for a range wholly after now', () => {
    const r = resolveHistoryRange(makeMeta(), NOW, {
      start: at('2027-01-01T00:00:00Z'),
      end: at('2027-01-02T00:00:00Z'),
    })
    expect(r.points).toBe(0)
  })

  it('should name the parameter and what was expected', () => {
    const meta = makeMeta()
    let e = badQuery(() =>
      resolveHistoryRange(meta, NOW, {
        start: at('2026-11-02T00:00:00Z'),
        end: at('2026-11-01T00:00:00Z'),
      }),
    )
    expect(e.param).toBe('start')
    expect(e.message).toMatch(/start .* must be before end/)
    e = badQuery(() => resolveHistoryRange(meta, NOW, { streams: ['a', 'nope', 'zip'] }))
    expect(e.param).toBe('streams')
    expect(e.message).toContain('"nope", "zip"')
  })

  it('should refuse more than the point cap and say how to narrow', () => {
    const from = F - 3000 * DAY
    const meta = makeMeta({ from })
    const e = badQuery(() =>
      resolveHistoryRange(meta, NOW, { start: at('2018-01-01'), interval: '15m' }),
    )
    expect(e.param).toBe('interval')
    expect(e.message).toContain(`more than ${MAX_HISTORY_POINTS}`)
    expect(e.message).toMatch(/narrow start\/end, pick fewer streams or a coarser interval/)
    // The same span at 12 h is fine.
    expect(resolveHistoryRange(meta, NOW, { start: at('2018-01-01') }).points).toBeGreaterThan(1000)
  })

  it('should take the named streams once each, in the order given, or every stream', () => {
    const meta = makeMeta()
    expect(resolveHistoryStreams(meta, ['m', 'a', 'm'])).toEqual(['m', 'a'])
    expect(resolveHistoryStreams(meta, [])).toEqual(['a', 'm'])
    expect(resolveHistoryStreams(meta, undefined)).toEqual(['a', 'm'])
    expect(badQuery(() => resolveHistoryStreams(meta, ['x'])).message).toContain(
      'unknown stream "x" (GET /api/streams lists the 2 known ones)',
    )
  })
})

describe('history roll-up', () => {
  const live = new Map<number, LiveBucket>([
    // The bucket holding the run start: its live part.
    [F + DAY, bucket({ a: [3, 0], m: [1, 40] })],
    [F + DAY + B, bucket({ a: [2, 0], m: [2, 20] })],
    // After now: not counted.
    [F + DAY + 14 * H, bucket({ a: [100, 0], m: [1, 1000] })],
  ])

  it('should sum the baseline part and the live part of the run-start bucket', () => {
    const res = rollUp(
      { start: at('2026-11-01T23:30:00Z'), end: at('2026-11-02T00:45:00Z'), interval: '15m' },
      live,
    )
    const a = res.streams.a!.map((p) => [p.timestamp, p.value])
    expect(a).toEqual([
      ['2026-11-01T23:30:00.000Z', 1],
      ['2026-11-01T23:45:00.000Z', 1],
      ['2026-11-02T00:00:00.000Z', 4], // 1 baseline + 3 live
      ['2026-11-02T00:15:00.000Z', 2], // live only
      ['2026-11-02T00:30:00.000Z', 0], // no live hash: no events
    ])
    const m = res.streams.m!.map((p) => p.value)
    // (2×10 + 40) / 3 = 20; then 20 / 2 = 10; then no events.
    expect(m).toEqual([10, 10, 20, 10, null])
  })

  it('should weight means by counts across buckets of a point', () => {
    const res = rollUp(
      { start: at('2026-11-02T00:00:00Z'), end: at('2026-11-02T01:00:00Z'), interval: '1h' },
      live,
    )
    expect(res.streams.a![0]!.value).toBe(6)
    // (2×10 + 40 + 20) / (3 + 2) = 16
    expect(res.streams.m![0]!.value).toBe(16)
  })

  it('should round means to 2 decimals', () => {
    const l = new Map([[F + DAY + B, bucket({ a: [0, 0], m: [3, 10] })]])
    const res = rollUp(
      { start: at('2026-11-02T00:15:00Z'), end: at('2026-11-02T00:30:00Z'), interval: '15m' },
      l,
    )
    expect(res.streams.m![0]!.value).toBe(3.33)
  })

  it('should align 12 h points to 00:00/12:00 and mark the last one partial', () => {
    const res = rollUp({}, live)
    expect(res.streams.a!.map((p) => p.timestamp)).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-11-01T12:00:00.000Z',
      '2026-11-02T00:00:00.000Z',
      '2026-11-02T12:00:00.000Z',
    ])
    expect(res.streams.a!.map((p) => p.value)).toEqual([48, 48, 6, 0])
    expect(res.streams.a!.map((p) => p.partial ?? false)).toEqual([false, false, false, true])
    expect(res.timeRange).toEqual({
      start: '2026-11-01T00:00:00.000Z',
      end: new Date(NOW).toISOString(),
      interval: '12h',
      baselineFrom: '2026-11-01T00:00:00.000Z',
      liveFrom: new Date(RUN).toISOString(),
      now: new Date(NOW).toISOString(),
      version: 0,
      mode: 'baseline',
    })
  })

  it('should normalize against the baseline of the same interval (statistics without a signal)', () => {
    const res = rollUp({}, live)
    // 12h baseline of a: mean 48, σ 4. 48 → 50; 6 → z −10.5 → 0.5; 0 → z −12 → 0.2.
    expect(res.streams.a!.map((p) => p.normalized)).toEqual([50, 50, 0.5, 0.2])
    // m: mean 10, σ 5; 16 → z 1.2 → 64.6; null stays null.
    expect(res.streams.m!.map((p) => p.normalized)).toEqual([50, 50, 64.6, null])
    expect(res.streams.m![3]!.value).toBeNull()
    const h = rollUp(
      { start: at('2026-11-02T00:00:00Z'), end: at('2026-11-02T01:00:00Z'), interval: '1h' },
      live,
    )
    // 1h baseline of a: mean 4, σ 2; 6 → z 1 → 62.2.
    expect(h.streams.a![0]!.normalized).toBe(62.2)
  })

  it('should normalize with the stream signal when the statistics carry one', () => {
    // a: 4 expected per 15 min over the baseline, 2 per live bucket; m watches its value
    const params = { dispersion: 1, tolerance: 0, valueTolerance: 0, mean: 10, sd: 5 }
    const meta = makeMeta()
    const doc = makeDoc()
    const stats = {
      ...STATS,
      signal: {
        from: doc.from,
        bucketMs: B,
        n: doc.n,
        streams: {
          a: { ...params, kind: 'rate' as const, expected: new Array<number>(doc.n).fill(4) },
          m: { ...params, kind: 'value' as const, expected: new Array<number>(doc.n).fill(1) },
        },
      },
    }
    const l = new Map([
      [F + DAY + B, bucket({ a: [8, 0, 2], m: [8, 160, 1] })],
      [F + DAY + 2 * B, bucket({ a: [2, 0, 2], m: [3, 300, 1] })],
    ])
    const range = resolveHistoryRange(meta, NOW, {
      start: at('2026-11-02T00:15:00Z'),
      end: at('2026-11-02T00:45:00Z'),
      interval: '15m',
    })
    const res = rollUpHistory({ meta, doc, live: l, stats, events: EVENTS }, range, NOW)
    // a: 8 where 2 were expected → rateZ ≈ 2.71 → 79.5; 2 of 2 → 50
    expect(res.streams.a!.map((p) => p.normalized)).toEqual([79.5, 50])
    // m: mean 20 of 8 values against 10 ± 5 → z 5.66 → 94.4; a mean of 3 values is
    // not judged (fewer than 8): 50
    expect(res.streams.m!.map((p) => p.normalized)).toEqual([94.4, 50])
    // the bucket holding now is expected only for its part so far: 1 event in its first
    // third, where a whole bucket expects 3, reads as usual
    const partial = rollUpHistory(
      {
        meta,
        doc,
        live: new Map([[F + DAY + 3 * B, bucket({ a: [1, 0, 3] })]]),
        stats,
        events: EVENTS,
      },
      resolveHistoryRange(meta, F + DAY + 3 * B + B / 3, {
        start: F + DAY + 3 * B,
        interval: '15m',
      }),
      F + DAY + 3 * B + B / 3,
    )
    expect(partial.streams.a!.map((p) => [p.value, p.normalized, p.partial])).toEqual([
      [1, 50, true],
    ])
  })

  it('should give null normalized values without statistics', () => {
    const meta = makeMeta()
    const range = resolveHistoryRange(meta, NOW, {})
    const res = rollUpHistory({ meta, doc: makeDoc(), live, stats: null, events: [] }, range, NOW)
    expect(res.streams.a!.every((p) => p.normalized === null)).toBe(true)
  })

  it('should return the requested streams and only the events in range', () => {
    const res = rollUp({ streams: ['m'], start: at('2026-11-02T00:00:00Z') })
    expect(Object.keys(res.streams)).toEqual(['m'])
    expect(res.events.map((e) => e.id)).toEqual(['evt_2'])
    expect(rollUp({}).events.map((e) => e.id)).toEqual(['evt_1', 'evt_2'])
  })

  it('should ask for live buckets from the run-start bucket up to now only', () => {
    const meta = makeMeta()
    const starts = liveBucketStarts(meta, resolveHistoryRange(meta, NOW, {}), NOW)
    expect(starts[0]).toBe(F + DAY)
    expect(starts.at(-1)).toBe(F + DAY + 13 * H + 15 * 60_000)
    expect(starts).toHaveLength(13 * 4 + 2)
  })
})

describe('history normalization', () => {
  it('should map σ to the 0–100 scale of the signal: 50 + 50·tanh(z/4)', () => {
    expect([-4, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4].map(normalizeHistoryZ)).toEqual([
      11.9, 18.2, 26.9, 37.8, 43.8, 50, 56.2, 62.2, 73.1, 81.8, 88.1,
    ])
    expect(normalizeHistoryZ(0.123)).toBe(51.5)
    expect(normalizeHistoryValue(120, 100, 20)).toBe(62.2)
    expect(normalizeHistoryValue(5, 5, 0)).toBe(50)
  })

  it('should normalize against the seasonal baseline when the statistics carry one', () => {
    const b = {
      name: 's',
      measure: 'count' as const,
      mean: 100,
      median: 100,
      stdDev: 80,
      min: 0,
      max: 300,
      percentiles: { p25: 0, p50: 0, p75: 0, p90: 0, p95: 0 },
      patterns: { weekdayAvg: 0, weekendAvg: 0, trend: '', seasonality: '' },
      seasonal: { slotsPerDay: 2, weekday: [0.5, 1.5], weekend: [1, 2], residualStdDev: 10 },
    }
    const monday = Date.UTC(2026, 2, 2)
    const saturday = Date.UTC(2026, 2, 7)
    // Monday night expects 50, Monday afternoon 150, Saturday afternoon 200
    expect(normalizePoint(50, b, monday)).toBe(50)
    expect(normalizePoint(160, b, monday + 13 * 3_600_000)).toBe(62.2)
    expect(normalizePoint(170, b, saturday + 12 * 3_600_000)).toBe(18.2)
    // without a seasonal baseline: plain mean and standard deviation
    expect(normalizePoint(180, { ...b, seasonal: undefined }, monday)).toBe(62.2)
  })
})

describe('history statistics', () => {
  it('should pass one interval through, filtered by streams', () => {
    const s = selectStatistics(makeMeta(), STATS, { streams: ['m'], interval: '1h' })
    expect(s).toEqual({
      calculatedFrom: STATS.calculatedFrom,
      version: 0,
      interval: '1h',
      streams: { m: STATS.intervals['1h']!.m },
    })
    expect(Object.keys(selectStatistics(makeMeta(), STATS, {}).streams)).toEqual(['a', 'm'])
    expect(selectStatistics(makeMeta(), STATS, {}).interval).toBe('12h')
    badQuery(() => selectStatistics(makeMeta(), STATS, { streams: ['x'] }))
  })
})

describe('history diff', () => {
  it('should list only the streams and points that differ', () => {
    const meta = makeMeta({
      current: 1,
      mode: 'modified',
      versions: [
        ...makeMeta().versions,
        {
          version: 1,
          createdAt: '2026-11-02T05:00:00.000Z',
          simTime: '2026-11-02T05:00:00.000Z',
          description: 'past outage',
          window: { start: F + 2 * H, end: F + 3 * H },
          modifications: [],
        },
      ],
    })
    const modified = makeDoc(1, (d) => {
      // Two buckets of 02:00–03:00 get 4 more events each; m untouched.
      d.streams.a!.count[8] = 5
      d.streams.a!.count[9] = 5
    })
    const d = diffHistory(meta, makeDoc(), modified, '1h')
    expect(d.baseVersion).toBe(0)
    expect(d.version).toBe(1)
    expect(d.window).toEqual({ start: F + 2 * H, end: F + 3 * H })
    expect(d.description).toBe('past outage')
    expect(d.streams).toEqual([
      {
        name: 'a',
        measure: 'count',
        changedPoints: 1,
        baselineTotal: 4,
        modifiedTotal: 12,
        change: 2,
        points: [{ timestamp: '2026-11-01T02:00:00.000Z', baseline: 4, modified: 12, delta: 8 }],
      },
    ])
    const fine = diffHistory(meta, makeDoc(), modified, '15m')
    expect(fine.streams[0]!.points.map((p) => p.timestamp)).toEqual([
      '2026-11-01T02:00:00.000Z',
      '2026-11-01T02:15:00.000Z',
    ])
  })

  it('should compare mean streams by their weighted means', () => {
    const modified = makeDoc(1, (d) => {
      d.streams.m!.mean[0] = 16
    })
    const d = diffHistory(makeMeta(), makeDoc(), modified, '1h')
    expect(d.streams).toHaveLength(1)
    expect(d.streams[0]).toMatchObject({
      name: 'm',
      changedPoints: 1,
      baselineTotal: 10,
      modifiedTotal: 11.5, // (16×2 + 10×6) / 8
      change: 0.15,
      points: [{ baseline: 10, modified: 11.5, delta: 1.5 }],
    })
  })

  it('should find nothing between a version and itself', () => {
    expect(diffHistory(makeMeta(), makeDoc(), makeDoc(), '15m').streams).toEqual([])
  })
})
