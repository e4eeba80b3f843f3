/**
 * A small stored history shared by the read-model and reader tests: two
 * streams (`a` counted, `m` averaged), a baseline of one day and 10 minutes
 * from 2026-11-01, the run starting 10 minutes into the second day.
 */
import type {
  HistoryDoc,
  HistoryExternalEvent,
  HistoryMeta,
  HistoryStats,
  StreamBaseline,
} from '../../src/index.js'

export const H = 3_600_000
export const B = 900_000
export const DAY = 24 * H
/** Baseline start: 2026-11-01T00:00Z. */
export const F = Date.UTC(2026, 10, 1)
/** The run starts 10 minutes into the first bucket of the second day. */
export const RUN = F + DAY + 10 * 60_000
/** Current simulation time: 13 h 20 min after the second day began. */
export const NOW = F + DAY + 13 * H + 20 * 60_000
export const STREAMS = ['a', 'm'] as const

export function makeMeta(over: Partial<HistoryMeta> = {}): HistoryMeta {
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
export function makeDoc(version = 0, edit?: (d: HistoryDoc) => void): HistoryDoc {
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

export const STATS: HistoryStats = {
  calculatedFrom: '2026-11-02T00:10:00.000Z',
  version: 0,
  intervals: {
    '15m': { a: baseline('a', 1, 0.5), m: baseline('m', 10, 5) },
    '1h': { a: baseline('a', 4, 2), m: baseline('m', 10, 5) },
    '12h': { a: baseline('a', 48, 4), m: baseline('m', 10, 5) },
  },
}

export const EVENTS: HistoryExternalEvent[] = [
  { id: 'evt_1', timestamp: new Date(F + 2 * H).toISOString(), at: F + 2 * H, title: 'early' },
  { id: 'evt_2', timestamp: new Date(F + DAY + H).toISOString(), at: F + DAY + H, title: 'late' },
]
