import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import {
  HistoryError,
  HistoryErrorCode,
  MAX_HISTORY_POINTS,
  createHistoryReader,
  createKeys,
  diffHistory,
  historyKeys,
  liveBucketStarts,
  normalizeHistoryValue,
  normalizeHistoryZ,
  normalizePoint,
  parseHistoryTime,
  parseLiveBucket,
  resolveHistoryRange,
  rollUpHistory,
  selectStatistics,
  type HistoryDoc,
  type HistoryMeta,
  type HistoryQuery,
  type HistoryStats,
  type LiveBucket,
  type StreamBaseline,
} from '../src/index.js'
import { openTestRedis, testPrefix } from '../src/testing.js'

const H = 3_600_000
const B = 900_000
const DAY = 24 * H
/** Baseline start: 2026-11-01T00:00Z. */
const F = Date.UTC(2026, 10, 1)
/** The run starts 10 minutes into the first bucket of the second day. */
const RUN = F + DAY + 10 * 60_000
/** Current simulation time: 13 h 20 min after the second day began. */
const NOW = F + DAY + 13 * H + 20 * 60_000
const STREAMS = ['a', 'm'] as const

function makeMeta(over: Partial<HistoryMeta> = {}): HistoryMeta {
  return {
    world: 'tutoring',
    seed: 42,
    runStartedAt: RUN,
    from: F,
    bucketMs: B,
    streams: [
      { name: 'a', measure: 'count' },
      { name: 'm', measure: 'mean' },
    ],
    current: 0,
    mode: 'baseline',
    versions: [
      {
        version: 0,
        createdAt: '2026-11-02T00:10:00.000Z',
        simTime: '2026-11-02T00:10:00.000Z',
        description: 'baseline',
        window: null,
        modifications: [],
      },
    ],
    job: null,
    ...over,
  }
}

/** 97 buckets (the last partial, ending at RUN): `a` 1 event each, `m` 2 events of mean 10 each. */
function makeDoc(version = 0, edit?: (d: HistoryDoc) => void): HistoryDoc {
  const n = 97
  const doc: HistoryDoc = {
    version,
    from: F,
    bucketMs: B,
    n,
    streams: {
      a: { count: new Array<number>(n).fill(1), mean: new Array<number | null>(n).fill(null) },
      m: { count: new Array<number>(n).fill(2), mean: new Array<number | null>(n).fill(10) },
    },
  }
  edit?.(doc)
  return doc
}

function baseline(name: string, mean: number, stdDev: number): StreamBaseline {
  return {
    name,
    measure: name === 'a' ? 'count' : 'mean',
    mean,
    median: mean,
    stdDev,
    min: 0,
    max: 2 * mean,
    percentiles: { p25: mean, p50: mean, p75: mean, p90: mean, p95: mean },
    patterns: { weekdayAvg: mean, weekendAvg: mean, trend: 'flat', seasonality: 'none' },
  }
}

const STATS: HistoryStats = {
  calculatedFrom: '2026-11-02T00:10:00.000Z',
  version: 0,
  intervals: {
    '15m': { a: baseline('a', 1, 0.5), m: baseline('m', 10, 5) },
    '1h': { a: baseline('a', 4, 2), m: baseline('m', 10, 5) },
    '12h': { a: baseline('a', 48, 4), m: baseline('m', 10, 5) },
  },
}

/** A live bucket from `{stream: [count, sum]}`. */
function bucket(values: Record<string, [number, number]>): LiveBucket {
  const hash: Record<string, string> = {}
  for (const [name, [count, sum]] of Object.entries(values)) {
    hash[name] = String(count)
    hash[`${name}:v`] = String(sum)
  }
  return parseLiveBucket(hash, STREAMS)!
}

const EVENTS = [
  { id: 'evt_1', timestamp: new Date(F + 2 * H).toISOString(), at: F + 2 * H, title: 'early' },
  { id: 'evt_2', timestamp: new Date(F + DAY + H).toISOString(), at: F + DAY + H, title: 'late' },
]

function rollUp(query: HistoryQuery, live = new Map<number, LiveBucket>(), doc = makeDoc()) {
  const meta = makeMeta()
  const range = resolveHistoryRange(meta, NOW, query)
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

describe('history keys', () => {
  it('should hash-tag every history key by world', () => {
    const hk = historyKeys(createKeys('vs', 'tutoring'))
    expect(hk.meta).toBe('vs:{tutoring}:hist:meta')
    expect(hk.doc(3)).toBe('vs:{tutoring}:hist:v:3')
    expect(hk.stats).toBe('vs:{tutoring}:hist:stats')
    expect(hk.events).toBe('vs:{tutoring}:hist:events')
    expect(hk.live(F)).toBe(`vs:{tutoring}:hist:live:${F}`)
    expect(hk.livePattern).toBe('vs:{tutoring}:hist:live:*')
  })
})

describe('history query', () => {
  it('should floor start to the interval in UTC and keep end exclusive', () => {
    const meta = makeMeta()
    const q = { start: '2026-11-01T05:17:00Z', end: '2026-11-01T09:00:00Z' }
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

  it('should clip end to now and start to the baseline start', () => {
    const r = resolveHistoryRange(makeMeta(), NOW, {
      start: '2020-01-01',
      end: '2030-01-01T00:00:00Z',
      interval: '1h',
    })
    expect(r.startMs).toBe(F)
    expect(r.endMs).toBe(NOW)
    expect(r.points).toBe(38) // 37 h 20 min
  })

  it('should give no points for a range wholly after now', () => {
    const r = resolveHistoryRange(makeMeta(), NOW, {
      start: '2027-01-01T00:00:00Z',
      end: '2027-01-02T00:00:00Z',
    })
    expect(r.points).toBe(0)
  })

  it('should read "now", a time without an offset as UTC, and an unencoded + offset', () => {
    expect(parseHistoryTime('end', 'now', NOW)).toBe(NOW)
    expect(parseHistoryTime('end', '2026-11-01T06:00', NOW)).toBe(F + 6 * H)
    expect(parseHistoryTime('end', '2026-11-01', NOW)).toBe(F)
    expect(parseHistoryTime('end', '2026-11-01T07:00:00 01:00', NOW)).toBe(F + 6 * H)
  })

  it('should name the parameter and what was expected', () => {
    const meta = makeMeta()
    let e = badQuery(() => resolveHistoryRange(meta, NOW, { start: 'yesterday' }))
    expect(e.param).toBe('start')
    expect(e.message).toMatch(/start must be an ISO 8601 time .* or "now"/)
    e = badQuery(() => resolveHistoryRange(meta, NOW, { end: '2026-13-45T00:00:00Z' }))
    expect(e.param).toBe('end')
    e = badQuery(() =>
      resolveHistoryRange(meta, NOW, {
        start: '2026-11-02T00:00:00Z',
        end: '2026-11-01T00:00:00Z',
      }),
    )
    expect(e.message).toMatch(/start .* must be before end/)
    e = badQuery(() => resolveHistoryRange(meta, NOW, { interval: '5m' }))
    expect(e.param).toBe('interval')
    expect(e.message).toContain('15m, 1h, 12h')
    e = badQuery(() => resolveHistoryRange(meta, NOW, { streams: 'a,nope,zip' }))
    expect(e.param).toBe('streams')
    expect(e.message).toContain('"nope", "zip"')
  })

  it('should refuse more than the point cap and say how to narrow', () => {
    const from = F - 3000 * DAY
    const meta = makeMeta({ from })
    const e = badQuery(() =>
      resolveHistoryRange(meta, NOW, { start: '2018-01-01', interval: '15m' }),
    )
    expect(e.message).toContain(`more than ${MAX_HISTORY_POINTS}`)
    expect(e.message).toMatch(/narrow start\/end, pick fewer streams or a coarser interval/)
    // The same span at 12 h is fine.
    expect(resolveHistoryRange(meta, NOW, { start: '2018-01-01' }).points).toBeGreaterThan(1000)
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
      { start: '2026-11-01T23:30:00Z', end: '2026-11-02T00:45:00Z', interval: '15m' },
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
      { start: '2026-11-02T00:00:00Z', end: '2026-11-02T01:00:00Z', interval: '1h' },
      live,
    )
    expect(res.streams.a![0]!.value).toBe(6)
    // (2×10 + 40 + 20) / (3 + 2) = 16
    expect(res.streams.m![0]!.value).toBe(16)
  })

  it('should round means to 2 decimals', () => {
    const l = new Map([[F + DAY + B, bucket({ a: [0, 0], m: [3, 10] })]])
    const res = rollUp(
      { start: '2026-11-02T00:15:00Z', end: '2026-11-02T00:30:00Z', interval: '15m' },
      l,
    )
    expect(res.streams.m![0]!.value).toBe(3.33)
  })

  it('should take a live count without a value sum as a sum of 0', () => {
    const hash = { a: '2', m: '2' } // the generator skips HINCRBYFLOAT by 0
    const l = new Map([[F + DAY + B, parseLiveBucket(hash, STREAMS)!]])
    const res = rollUp(
      { start: '2026-11-02T00:15:00Z', end: '2026-11-02T00:30:00Z', interval: '15m' },
      l,
    )
    expect(res.streams.a![0]!.value).toBe(2)
    expect(res.streams.m![0]!.value).toBe(0)
    expect(parseLiveBucket({ other: '1' }, STREAMS)).toBeNull()
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

  it('should normalize against the baseline of the same interval', () => {
    const res = rollUp({}, live)
    // 12h baseline of a: mean 48, σ 4. 48 → 50; 6 → far below → 0.
    expect(res.streams.a!.map((p) => p.normalized)).toEqual([50, 50, 0, 0])
    // m: mean 10, σ 5; 16 → z 1.2 → 73; null stays null.
    expect(res.streams.m!.map((p) => p.normalized)).toEqual([50, 50, 73, null])
    expect(res.streams.m![3]!.value).toBeNull()
    const h = rollUp(
      { start: '2026-11-02T00:00:00Z', end: '2026-11-02T01:00:00Z', interval: '1h' },
      live,
    )
    // 1h baseline of a: mean 4, σ 2; 6 → 70.
    expect(h.streams.a![0]!.normalized).toBe(70)
  })

  it('should give null normalized values without statistics', () => {
    const meta = makeMeta()
    const range = resolveHistoryRange(meta, NOW, {})
    const res = rollUpHistory({ meta, doc: makeDoc(), live, stats: null, events: [] }, range, NOW)
    expect(res.streams.a!.every((p) => p.normalized === null)).toBe(true)
  })

  it('should return the requested streams and only the events in range', () => {
    const res = rollUp({ streams: 'm', start: '2026-11-02T00:00:00Z' })
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
  it('should map σ to the 0–100 scale, piecewise linear and clamped', () => {
    expect([-4, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4].map(normalizeHistoryZ)).toEqual([
      0, 0, 15, 30, 40, 50, 60, 70, 85, 100, 100,
    ])
    expect(normalizeHistoryZ(0.123)).toBe(52.5)
    expect(normalizeHistoryValue(120, 100, 20)).toBe(70)
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
    expect(normalizePoint(160, b, monday + 13 * 3_600_000)).toBe(70)
    expect(normalizePoint(170, b, saturday + 12 * 3_600_000)).toBe(0)
    // without a seasonal baseline: plain mean and standard deviation
    expect(normalizePoint(180, { ...b, seasonal: undefined }, monday)).toBe(70)
  })
})

describe('history statistics', () => {
  it('should pass one interval through, filtered by streams', () => {
    const s = selectStatistics(makeMeta(), STATS, { streams: 'm', interval: '1h' })
    expect(s).toEqual({
      calculatedFrom: STATS.calculatedFrom,
      version: 0,
      interval: '1h',
      streams: { m: STATS.intervals['1h']!.m },
    })
    expect(Object.keys(selectStatistics(makeMeta(), STATS, {}).streams)).toEqual(['a', 'm'])
    expect(selectStatistics(makeMeta(), STATS, {}).interval).toBe('12h')
    badQuery(() => selectStatistics(makeMeta(), STATS, { streams: 'x' }))
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

describe('history reader', () => {
  const prefix = testPrefix()
  const keys = createKeys(prefix, 'tutoring')
  const hk = historyKeys(keys)
  let redis: Redis
  let close: () => Promise<void>

  beforeAll(async () => {
    ;({ redis, close } = await openTestRedis(prefix))
  })
  afterAll(() => close())

  const setNow = (ms: number) =>
    redis.set(keys.state, JSON.stringify({ currentSimulationTime: new Date(ms).toISOString() }))

  it('should say history is not ready while there is no meta', async () => {
    const reader = createHistoryReader({ redis, keys })
    await expect(reader.history({})).rejects.toMatchObject({
      code: HistoryErrorCode.notReady,
      canRetry: true,
    })
    await expect(reader.versions()).rejects.toMatchObject({ code: HistoryErrorCode.notReady })
  })

  it('should join the stored baseline and live hashes, caching sealed buckets', async () => {
    await redis.set(hk.meta, JSON.stringify(makeMeta()))
    await redis.set(hk.doc(0), JSON.stringify(makeDoc()))
    await redis.set(hk.stats, JSON.stringify(STATS))
    await redis.set(hk.events, JSON.stringify(EVENTS))
    await redis.hset(hk.live(F + DAY), { a: 3, 'a:v': 0, m: 1, 'm:v': 40 })
    await redis.hset(hk.live(F + DAY + H), { a: 7 })
    await setNow(F + DAY + H + 20 * 60_000)
    const reader = createHistoryReader({ redis, keys })
    const q = { start: '2026-11-01T23:00:00Z', interval: '1h' }
    let res = await reader.history(q)
    expect(res.streams.a!.map((p) => p.value)).toEqual([4, 4, 7])
    expect(res.streams.a!.at(-1)!.partial).toBe(true)
    expect(res.streams.m!.map((p) => p.value)).toEqual([10, 20, null])
    expect(res.events.map((e) => e.id)).toEqual(['evt_2'])

    // The run-start bucket is sealed (ended > 15 min before now): a change is not re-read.
    // The open one is read again each time.
    await redis.hset(hk.live(F + DAY), { a: 50 })
    await redis.hincrby(hk.live(F + DAY + H), 'a', 1)
    res = await reader.history(q)
    expect(res.streams.a!.map((p) => p.value)).toEqual([4, 4, 8])

    // The document is parsed once per version.
    await redis.set(hk.doc(0), JSON.stringify(makeDoc(0, (d) => d.streams.a!.count.fill(0))))
    res = await reader.history(q)
    expect(res.streams.a![0]!.value).toBe(4)

    // A new served version is read.
    const v1 = makeDoc(1, (d) => d.streams.a!.count.fill(2))
    await redis.set(hk.doc(1), JSON.stringify(v1))
    await redis.set(
      hk.meta,
      JSON.stringify(
        makeMeta({
          current: 1,
          mode: 'modified',
          versions: [
            ...makeMeta().versions,
            {
              version: 1,
              createdAt: '2026-11-02T01:00:00.000Z',
              simTime: '2026-11-02T01:00:00.000Z',
              description: 'injected',
              window: { start: F, end: F + DAY },
              modifications: [{ templateId: 'x' }],
            },
          ],
        }),
      ),
    )
    res = await reader.history(q)
    expect(res.timeRange.version).toBe(1)
    expect(res.timeRange.mode).toBe('modified')
    expect(res.streams.a![0]!.value).toBe(8)

    const versions = await reader.versions()
    expect(versions.current).toBe(1)
    expect(versions.versions.map((v) => v.version)).toEqual([0, 1])

    // Version 0 in Redis was overwritten with zeros above; the reader has v0 cached only
    // as long as the meta names the same createdAt, which it does.
    const diff = await reader.diff({ interval: '12h' })
    expect(diff.version).toBe(1)
    expect(diff.streams.map((s) => s.name)).toEqual(['a'])
    await expect(reader.diff({ version: 7 })).rejects.toMatchObject({
      code: HistoryErrorCode.unknownVersion,
      message: 'no history version 7; known: 0, 1',
    })

    const stats = await reader.statistics({ streams: 'a', interval: '15m' })
    expect(stats.streams).toEqual({ a: STATS.intervals['15m']!.a })
  })

  it('should say a listed version whose document is missing is not ready', async () => {
    const meta = makeMeta({
      current: 0,
      versions: [
        ...makeMeta().versions,
        {
          version: 2,
          createdAt: 'x',
          simTime: 'x',
          description: 'pending',
          window: null,
          modifications: [],
        },
      ],
      job: { id: 'j2', version: 2, state: 'running', progress: 40 },
    })
    await redis.set(hk.meta, JSON.stringify(meta))
    const reader = createHistoryReader({ redis, keys })
    await expect(reader.diff({ version: 2 })).rejects.toMatchObject({
      code: HistoryErrorCode.notReady,
      message: expect.stringContaining('job j2 running'),
    })
  })
})
