/**
 * What the generator stores beside the streams for the history (keys in
 * `../keys.ts`, `historyKeys`): the meta, versioned documents of 15-minute
 * buckets, baseline statistics, external events and live bucket hashes. Shapes
 * only; the generator writes them, `./reader.ts` reads them back.
 */

/** Width of a stored bucket. */
export const HISTORY_BUCKET_MS = 900_000

/** Point widths a history may be rolled up into (and statistics are kept for), in ms. */
export const HistoryInterval = {
  '15m': 900_000,
  '1h': 3_600_000,
  '12h': 43_200_000,
} as const
export type HistoryIntervalName = keyof typeof HistoryInterval
export const HISTORY_INTERVALS = Object.keys(HistoryInterval) as HistoryIntervalName[]

/** `count`: a point's value is the number of events; `mean`: the mean primary value. */
export type HistoryMeasure = 'count' | 'mean'

export interface HistoryVersion {
  version: number
  createdAt: string
  simTime: string
  description: string
  /** Regenerated span (epoch ms); null for the baseline. */
  window: { start: number; end: number } | null
  modifications: unknown[]
}

export interface HistoryJob {
  id: string
  version: number
  state: 'queued' | 'running' | 'completed' | 'failed'
  progress: number
  error?: string
}

export interface HistoryMeta {
  world: string
  seed: number
  /** Simulation start of the run (epoch ms); live buckets begin here. */
  runStartedAt: number
  /** Baseline start (epoch ms, a multiple of 12 h). */
  from: number
  bucketMs: number
  /**
   * How far back from now history is served (ms; `VERISIM_HISTORY_DAYS`): the
   * range starts no earlier than the 12 h boundary at or after now − this, and
   * the generator deletes the live buckets behind it. Absent: the whole run.
   */
  maxSpanMs?: number
  /** In world order. */
  streams: { name: string; measure: HistoryMeasure }[]
  /** Version served (0 = baseline). */
  current: number
  mode: 'baseline' | 'modified'
  versions: HistoryVersion[]
  job: HistoryJob | null
  /**
   * The timeline the live buckets belong to (`tl_<n>`), set when a restore or a
   * travel rewound them: cached answers of another timeline are not reused.
   * Absent: the run's first.
   */
  timeline?: string
}

export interface HistoryDocStream {
  /** Events per bucket. */
  count: number[]
  /** Mean primary value per bucket; null when the bucket has no events. */
  mean: (number | null)[]
}

/**
 * `n` buckets of `bucketMs` from `from`; the last one may be partial: it ends
 * at the run start (the baseline part of the bucket holding it).
 */
export interface HistoryDoc {
  version: number
  from: number
  bucketMs: number
  n: number
  streams: Record<string, HistoryDocStream>
}

export interface StreamBaseline {
  name: string
  measure: HistoryMeasure
  mean: number
  median: number
  stdDev: number
  min: number
  max: number
  percentiles: { p25: number; p50: number; p75: number; p90: number; p95: number }
  patterns: { weekdayAvg: number; weekendAvg: number; trend: string; seasonality: string } & Record<
    string,
    unknown
  >
  /** Seasonal baseline (expected = mean × weekday/weekend[slot of the UTC day]); absent in older documents. */
  seasonal?: { slotsPerDay: number; weekday: number[]; weekend: number[]; residualStdDev: number }
}

/** A stream's signal parameters (docs/SIGNAL.md): what its `normalized` is computed with. */
export interface StreamSignalParams {
  kind: 'rate' | 'value' | 'both'
  /** Variance-to-mean ratio of its counts. */
  dispersion: number
  tolerance: number
  valueTolerance: number
  /** Baseline mean and σ of its primary value (single events). */
  mean: number
  sd: number
}

/**
 * The baseline's expected count per stream and 15-minute bucket over the stored
 * baseline span (`n` buckets from `from`; the last one only up to the run start),
 * and each stream's signal parameters. Live buckets carry their own expected counts.
 */
export interface HistorySignal {
  from: number
  bucketMs: number
  n: number
  streams: Record<string, StreamSignalParams & { expected: number[] }>
}

export interface HistoryStats {
  calculatedFrom: string
  version: number
  intervals: Partial<Record<HistoryIntervalName, Record<string, StreamBaseline>>>
  /** Absent in documents written before the stream signal: points are then normalized against `intervals`. */
  signal?: HistorySignal
}

/** An external event as stored with the history (more fields pass through). */
export interface HistoryExternalEvent {
  id: string
  timestamp: string
  /** `timestamp` in epoch ms. */
  at: number
  [field: string]: unknown
}

/** One live bucket, parsed: `[count, sum, expected]` per stream in `meta.streams` order. */
export type LiveBucket = Float64Array
