/**
 * History and live data join without a seam (docs/SIGNAL.md): a history point's
 * `normalized`, from the live bucket counts and the expected counts the generator
 * stores with them, equals the `normalizedValue` the engine gave the stream's
 * events once that bucket completed (for a stream whose window is one bucket).
 */
import { describe, expect, it } from 'vitest'
import {
  parseLiveBucket,
  resolveHistoryRange,
  rollUpHistory,
  type HistoryMeta,
  type HistoryStats,
  type LiveBucket,
} from '@verisim/bus'
import { BUCKET_MS, DAY, ExpectedRates, HOUR, createEngine, type SimEvent } from '@verisim/sim'
import { loadWorldById } from '@verisim/worlds'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24)
const ORIGIN = START - 48 * HOUR

describe('history and live normalized', () => {
  it('should agree on the same bucket', () => {
    const engine = createEngine({ world, seed: 42, start: ORIGIN })
    while (engine.now < START) engine.advance(Math.min(START, engine.now + DAY))
    const events: SimEvent[] = []
    while (engine.now < START + 6 * HOUR) events.push(...engine.advance(engine.now + HOUR))
    const windows = new Map(engine.signals().map((s) => [s.stream, s.window]))
    const rates = new ExpectedRates(world, 42, ORIGIN)
    // the live buckets as the generator stores them: counts, value sums, expected counts
    const names = world.streams.map((s) => s.name)
    const hashes = new Map<number, Record<string, string>>()
    for (const e of events) {
      const b = Math.floor(e.ts / BUCKET_MS) * BUCKET_MS
      let h = hashes.get(b)
      if (!h) {
        h = {}
        const exp = rates.bucket(b / BUCKET_MS)
        names.forEach((n, i) => (h![`${n}:e`] = String(Math.round(exp[i]! * 1000) / 1000)))
        hashes.set(b, h)
      }
      h[e.stream] = String(Number(h[e.stream] ?? 0) + 1)
      const v = e.data[world.streams[world.streamIndex.get(e.stream)!]!.valueField]
      if (typeof v === 'number') h[`${e.stream}:v`] = String(Number(h[`${e.stream}:v`] ?? 0) + v)
    }
    const live = new Map<number, LiveBucket>()
    for (const [b, h] of hashes) live.set(b, parseLiveBucket(h, names)!)
    const meta: HistoryMeta = {
      world: 'tutoring',
      seed: 42,
      runStartedAt: START,
      from: START,
      bucketMs: BUCKET_MS,
      streams: names.map((name) => ({ name, measure: 'count' })),
      current: 0,
      mode: 'baseline',
      versions: [],
      job: null,
    }
    const signal: NonNullable<HistoryStats['signal']> = {
      from: START,
      bucketMs: BUCKET_MS,
      n: 0,
      streams: {},
    }
    world.streams.forEach((st, i) => {
      signal.streams[st.name] = {
        kind: st.signalKind,
        dispersion: rates.dispersion(i),
        tolerance: st.anomaly.tolerance,
        valueTolerance: st.anomaly.valueTolerance,
        mean: st.baseline.mean,
        sd: st.baseline.sd,
        expected: [],
      }
    })
    const stats: HistoryStats = { calculatedFrom: '', version: 0, intervals: {}, signal }
    const now = START + 6 * HOUR
    const streams = [
      'customer.tutor.search',
      'customer.tutor.profile.view',
      'session.booking.requested',
    ]
    for (const s of streams) expect(windows.get(s)).toBe(1)
    const range = resolveHistoryRange(meta, now, {
      start: START,
      end: now,
      interval: '15m',
      streams,
    })
    const res = rollUpHistory(
      {
        meta,
        doc: { version: 0, from: START, bucketMs: BUCKET_MS, n: 0, streams: {} },
        live,
        stats,
        events: [],
      },
      range,
      now,
    )
    let compared = 0
    for (const s of streams) {
      const points = res.streams[s]!
      for (let k = 0; k + 1 < points.length; k++) {
        // the first event of the next bucket carries the signal of this one
        const next = Date.parse(points[k]!.timestamp) + BUCKET_MS
        const e = events.find((x) => x.stream === s && x.ts >= next && x.ts < next + BUCKET_MS)
        if (!e) continue
        expect({ s, at: points[k]!.timestamp, normalized: e.normalizedValue }).toEqual({
          s,
          at: points[k]!.timestamp,
          normalized: points[k]!.normalized,
        })
        compared++
      }
    }
    expect(compared).toBeGreaterThan(60)
  }, 120_000)
})
