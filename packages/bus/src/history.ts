/**
 * The history the generator stores beside the streams, and reading it back.
 *
 * Owns: the `hist:*` key names, the stored shapes (meta, versioned documents of
 * 15-minute buckets, baseline statistics, external events, live bucket
 * hashes), the pure roll-up of buckets into points of an interval (the baseline
 * document before the run start, live buckets from it on, the bucket holding
 * the run start being the sum of both, so the two join without a gap), the
 * diff of a regenerated version against the baseline, and a reader that keeps
 * parsed documents and sealed live buckets in memory.
 */
import type { Redis } from 'ioredis'
import { normalizeZ } from '@verisim/schema'
import type { WorldKeys } from './keys.js'

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

export interface HistoryKeys {
  /** JSON `HistoryMeta`: what is stored and which version is served. */
  readonly meta: string
  /** JSON `HistoryDoc` of one version (0 = baseline). */
  doc(version: number): string
  /** JSON `HistoryStats`: baseline statistics per interval and stream. */
  readonly stats: string
  /** JSON array of `HistoryExternalEvent`. */
  readonly events: string
  /** Hash of one live 15-minute bucket: `<stream>` = count, `<stream>:v` = sum of primary values. */
  live(bucketStartMs: number): string
  /** SCAN pattern matching every live bucket hash. */
  readonly livePattern: string
}

/**
 * @example
 * const hk = historyKeys(createKeys('vs', 'tutoring'))
 * hk.doc(0) // 'vs:{tutoring}:hist:v:0'
 * hk.live(1732348800000) // 'vs:{tutoring}:hist:live:1732348800000'
 */
export function historyKeys(keys: WorldKeys): HistoryKeys {
  const base = `${keys.prefix}:{${keys.world}}:hist`
  return {
    meta: `${base}:meta`,
    doc: (version) => `${base}:v:${version}`,
    stats: `${base}:stats`,
    events: `${base}:events`,
    live: (bucketStartMs) => `${base}:live:${bucketStartMs}`,
    livePattern: `${base}:live:*`,
  }
}

// ---------------------------------------------------------------------------
// Stored shapes
// ---------------------------------------------------------------------------

/** Width of a stored bucket. */
export const HISTORY_BUCKET_MS = 900_000

/** Point widths a history query may ask for, in ms. */
export const HistoryInterval = {
  '15m': 900_000,
  '1h': 3_600_000,
  '12h': 43_200_000,
} as const
export type HistoryIntervalName = keyof typeof HistoryInterval
export const HISTORY_INTERVALS = Object.keys(HistoryInterval) as HistoryIntervalName[]
export const DEFAULT_HISTORY_INTERVAL: HistoryIntervalName = '12h'
/** Diffs default to the finest interval: a regenerated window is usually hours long. */
export const DEFAULT_DIFF_INTERVAL: HistoryIntervalName = '15m'
/** Span of a history query that gives no `start`. */
export const DEFAULT_HISTORY_SPAN_MS = 7 * 86_400_000
/** Most points (streams × intervals) one history response may hold. */
export const MAX_HISTORY_POINTS = 200_000

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
  /** In world order. */
  streams: { name: string; measure: HistoryMeasure }[]
  /** Version served (0 = baseline). */
  current: number
  mode: 'baseline' | 'modified'
  versions: HistoryVersion[]
  job: HistoryJob | null
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

export interface HistoryStats {
  calculatedFrom: string
  version: number
  intervals: Partial<Record<HistoryIntervalName, Record<string, StreamBaseline>>>
}

/** An external event as stored with the history (more fields pass through). */
export interface HistoryExternalEvent {
  id: string
  timestamp: string
  /** `timestamp` in epoch ms. */
  at: number
  [field: string]: unknown
}

/** One live bucket, parsed: `[count, sum]` per stream in `meta.streams` order. */
export type LiveBucket = Float64Array

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

export const HistoryErrorCode = {
  notReady: 'VS_BUS_HISTORY_NOT_READY',
  badQuery: 'VS_BUS_HISTORY_BAD_QUERY',
  unknownVersion: 'VS_BUS_HISTORY_UNKNOWN_VERSION',
} as const
export type HistoryErrorCode = (typeof HistoryErrorCode)[keyof typeof HistoryErrorCode]

export class HistoryError extends Error {
  readonly code: HistoryErrorCode
  /** The query parameter at fault, for `badQuery`. */
  readonly param: string | null
  /** True when the same request may succeed later (history still being generated). */
  readonly canRetry: boolean

  constructor(
    code: HistoryErrorCode,
    message: string,
    opts: { param?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'HistoryError'
    this.code = code
    this.param = opts.param ?? null
    this.canRetry = code === HistoryErrorCode.notReady
  }
}

const badQuery = (param: string, message: string) =>
  new HistoryError(HistoryErrorCode.badQuery, message, { param })

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

export interface HistoryQuery {
  /** ISO 8601 or `now`; default `end` − 7 days. */
  start?: string
  /** ISO 8601 or `now` (the current simulation time); default `now`. Exclusive. */
  end?: string
  /** Comma list of stream names; default every stream. */
  streams?: string
  /** `12h` (default), `1h` or `15m`. */
  interval?: string
}

/** A history query checked against the stored history. */
export interface HistoryRange {
  /** First point (floored to the interval, not before the baseline start). */
  startMs: number
  /** Exclusive; not after now. */
  endMs: number
  interval: HistoryIntervalName
  intervalMs: number
  streams: string[]
  /** Points per stream. */
  points: number
}

const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/**
 * `now` or an ISO 8601 time (a time without an offset is UTC), as epoch ms.
 *
 * @example
 * parseHistoryTime('start', '2026-11-20T12:00:00Z', now) // 1795176000000
 */
export function parseHistoryTime(param: string, raw: string, nowMs: number): number {
  // An unencoded "+01:00" offset arrives as " 01:00" (a "+" in a query string is a space).
  const s = raw.trim().replace(/(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$/i, '$1+$2')
  if (s.toLowerCase() === 'now') return nowMs
  const m = ISO_TIME.exec(s)
  // Date-only strings are UTC already; date-times without an offset would be local time.
  const ms = m ? Date.parse(s.length > 10 && m[1] === undefined ? `${s}Z` : s) : NaN
  if (!Number.isFinite(ms)) {
    throw badQuery(
      param,
      `${param} must be an ISO 8601 time (e.g. 2026-11-20T12:00:00Z) or "now", got ${JSON.stringify(raw)}`,
    )
  }
  return ms
}

export function parseHistoryInterval(
  raw: string | undefined,
  fallback: HistoryIntervalName = DEFAULT_HISTORY_INTERVAL,
): HistoryIntervalName {
  if (raw === undefined || raw === '') return fallback
  if (Object.hasOwn(HistoryInterval, raw)) return raw as HistoryIntervalName
  throw badQuery(
    'interval',
    `interval must be one of ${HISTORY_INTERVALS.join(', ')}, got ${JSON.stringify(raw)}`,
  )
}

/** The named streams (deduplicated, in the order given), or every known one when `raw` is empty. */
export function parseHistoryStreams(raw: string | undefined, known: readonly string[]): string[] {
  const names = [
    ...new Set(
      (raw ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ]
  if (names.length === 0) return [...known]
  const knownSet = new Set(known)
  const unknown = names.filter((n) => !knownSet.has(n))
  if (unknown.length > 0) {
    throw badQuery(
      'streams',
      `streams: unknown stream${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')} (GET /api/streams lists the ${known.length} known ones)`,
    )
  }
  return names
}

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step
const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Checks a query and fixes its range: `start` floored to the interval (UTC),
 * `end` exclusive, both clipped to [baseline start, now].
 *
 * @example
 * resolveHistoryRange(meta, now, { start: '2026-11-20T05:00:00Z', interval: '12h' })
 * // { startMs: <2026-11-20T00:00Z>, endMs: now, interval: '12h', … }
 */
export function resolveHistoryRange(
  meta: HistoryMeta,
  nowMs: number,
  query: HistoryQuery,
): HistoryRange {
  const given = query.start === undefined ? null : parseHistoryTime('start', query.start, nowMs)
  const end = query.end === undefined ? nowMs : parseHistoryTime('end', query.end, nowMs)
  const start = given ?? end - DEFAULT_HISTORY_SPAN_MS
  if (start >= end) {
    throw badQuery(
      'start',
      `start (${iso(start)}) must be before end (${iso(end)}; end is exclusive and defaults to now)`,
    )
  }
  const interval = parseHistoryInterval(query.interval)
  const intervalMs = HistoryInterval[interval]
  const streams = parseHistoryStreams(
    query.streams,
    meta.streams.map((s) => s.name),
  )
  const clip = (ms: number) => Math.min(Math.max(ms, meta.from), nowMs)
  const startMs = floorTo(clip(start), intervalMs)
  // A range wholly after now (or before the baseline) has no points.
  const endMs = start >= nowMs ? startMs : Math.max(clip(end), startMs)
  const points = Math.ceil((endMs - startMs) / intervalMs)
  const total = points * streams.length
  if (total > MAX_HISTORY_POINTS) {
    throw badQuery(
      'interval',
      `the query would return ${total} points (${streams.length} streams × ${points} intervals of ${interval}), more than ${MAX_HISTORY_POINTS}: narrow start/end, pick fewer streams or a coarser interval`,
    )
  }
  return { startMs, endMs, interval, intervalMs, streams, points }
}

// ---------------------------------------------------------------------------
// Roll-up
// ---------------------------------------------------------------------------

export interface HistoryPoint {
  timestamp: string
  /** Events (count streams) or mean primary value (mean streams; null without events). */
  value: number | null
  /** 0–100 against the baseline of the same interval; null when `value` is. */
  normalized: number | null
  /** The point's interval extends past now. */
  partial?: true
}

export interface HistoryTimeRange {
  start: string
  end: string
  interval: HistoryIntervalName
  baselineFrom: string
  liveFrom: string
  now: string
  version: number
  mode: 'baseline' | 'modified'
}

export interface HistoryResponse {
  timeRange: HistoryTimeRange
  streams: Record<string, HistoryPoint[]>
  events: HistoryExternalEvent[]
}

export interface HistorySources {
  meta: HistoryMeta
  /** The served version's document. */
  doc: HistoryDoc
  /** Live buckets by start (epoch ms); an absent bucket has no events. */
  live: ReadonlyMap<number, LiveBucket>
  /** Null when not computed yet: `normalized` is then null. */
  stats: HistoryStats | null
  events: readonly HistoryExternalEvent[]
}

/** Maps a z-score to 0–100 (the envelope's scale, `normalizeZ` of @verisim/schema). */
export const normalizeHistoryZ = normalizeZ

/**
 * @example
 * normalizeHistoryValue(120, 100, 20) // 70 — one σ above the mean
 */
export function normalizeHistoryValue(value: number, mean: number, sd: number): number {
  return normalizeHistoryZ(sd > 0 ? (value - mean) / sd : 0)
}

const round2 = (x: number) => Math.round(x * 100) / 100

/** Start of the bucket that holds the run start: live buckets begin there. */
export function liveFromBucket(meta: HistoryMeta): number {
  const bucketMs = meta.bucketMs || HISTORY_BUCKET_MS
  return meta.from + floorTo(Math.max(0, meta.runStartedAt - meta.from), bucketMs)
}

/** Starts of the live buckets `range` needs (from the run start's bucket up to now). */
export function liveBucketStarts(meta: HistoryMeta, range: HistoryRange, nowMs: number): number[] {
  const bucketMs = meta.bucketMs || HISTORY_BUCKET_MS
  const first = Math.max(liveFromBucket(meta), range.startMs)
  const stop = Math.min(range.startMs + range.points * range.intervalMs, nowMs)
  const out: number[] = []
  for (let b = first; b < stop; b += bucketMs) out.push(b)
  return out
}

/** Parses a live bucket hash; null when it holds nothing for these streams. */
export function parseLiveBucket(
  hash: Record<string, string>,
  streams: readonly string[],
): LiveBucket | null {
  let any = false
  const out = new Float64Array(streams.length * 2)
  for (let i = 0; i < streams.length; i++) {
    const name = streams[i]!
    const count = hash[name]
    const sum = hash[`${name}:v`]
    out[2 * i] = count === undefined ? 0 : Number(count)
    // The generator skips HINCRBYFLOAT of a zero sum: absent is 0.
    out[2 * i + 1] = sum === undefined ? 0 : Number(sum)
    if (count !== undefined) any = true
  }
  return any ? out : null
}

/** Count and count-weighted value sum of one stream over `[t, t + width)`, up to `stopMs`. */
interface Acc {
  count: number
  /** Events whose value is known (the weight of `sum`). */
  valued: number
  sum: number
}

function accumulate(
  acc: Acc,
  doc: HistoryDoc,
  series: HistoryDocStream | undefined,
  live: ReadonlyMap<number, LiveBucket> | null,
  liveFrom: number,
  streamIndex: number,
  t: number,
  width: number,
  stopMs: number,
): void {
  acc.count = 0
  acc.valued = 0
  acc.sum = 0
  const bucketMs = doc.bucketMs || HISTORY_BUCKET_MS
  const end = Math.min(t + width, stopMs)
  for (let b = t; b < end; b += bucketMs) {
    if (series) {
      const j = Math.round((b - doc.from) / bucketMs)
      if (j >= 0 && j < doc.n) {
        const c = series.count[j] ?? 0
        if (c > 0) {
          acc.count += c
          const m = series.mean[j]
          if (m !== null && m !== undefined) {
            acc.valued += c
            acc.sum += m * c
          }
        }
      }
    }
    if (live !== null && b >= liveFrom) {
      const lb = live.get(b)
      if (lb) {
        const c = lb[2 * streamIndex] ?? 0
        if (c > 0) {
          acc.count += c
          acc.valued += c
          acc.sum += lb[2 * streamIndex + 1] ?? 0
        }
      }
    }
  }
}

function valueOf(acc: Acc, measure: HistoryMeasure): number | null {
  if (measure === 'count') return acc.count
  return acc.valued > 0 ? round2(acc.sum / acc.valued) : null
}

/**
 * Rolls the stored buckets up into points of `range.interval`: the served
 * document before the run start, live buckets from the bucket that holds it
 * (that bucket is its baseline part plus its live part). Pure.
 *
 * @example
 * const range = resolveHistoryRange(meta, now, { interval: '1h' })
 * const res = rollUpHistory({ meta, doc, live, stats, events }, range, now)
 * res.streams['session.completed'] // [{ timestamp, value, normalized }, …]
 */
export function rollUpHistory(
  src: HistorySources,
  range: HistoryRange,
  nowMs: number,
): HistoryResponse {
  const { meta, doc, live, stats } = src
  const index = new Map(meta.streams.map((s, i) => [s.name, i]))
  const liveFrom = liveFromBucket(meta)
  const baselines = stats?.intervals[range.interval]
  const streams: Record<string, HistoryPoint[]> = {}
  const acc: Acc = { count: 0, valued: 0, sum: 0 }
  // Formatting a time costs more than the rest of a point: once per point, not per stream.
  const stamps = Array.from({ length: range.points }, (_, k) =>
    iso(range.startMs + k * range.intervalMs),
  )
  for (const name of range.streams) {
    const i = index.get(name)
    if (i === undefined) continue
    const measure = meta.streams[i]!.measure
    const series = doc.streams[name]
    const baseline = baselines?.[name]
    const points: HistoryPoint[] = new Array(range.points)
    for (let k = 0; k < range.points; k++) {
      const t = range.startMs + k * range.intervalMs
      accumulate(acc, doc, series, live, liveFrom, i, t, range.intervalMs, nowMs)
      const value = valueOf(acc, measure)
      const normalized =
        value === null || baseline === undefined ? null : normalizePoint(value, baseline, t)
      const p: HistoryPoint = { timestamp: stamps[k]!, value, normalized }
      if (t + range.intervalMs > nowMs) p.partial = true
      points[k] = p
    }
    streams[name] = points
  }
  return {
    timeRange: {
      start: iso(range.startMs),
      end: iso(range.endMs),
      interval: range.interval,
      baselineFrom: iso(meta.from),
      liveFrom: iso(meta.runStartedAt),
      now: iso(nowMs),
      version: meta.current,
      mode: meta.mode,
    },
    streams,
    events: src.events.filter((e) => {
      const at = typeof e.at === 'number' ? e.at : Date.parse(e.timestamp)
      return at >= range.startMs && at < range.endMs
    }),
  }
}

/**
 * Normalizes a point against the seasonal baseline when the statistics carry one
 * (the baseline's mean for that interval of the day, weekday or weekend, and the
 * spread around it), else against the plain mean and standard deviation.
 */
export function normalizePoint(value: number, b: StreamBaseline, t: number): number {
  const s = b.seasonal
  if (!s || s.slotsPerDay <= 0) return normalizeHistoryValue(value, b.mean, b.stdDev)
  const slot = Math.floor(
    (((t % 86_400_000) + 86_400_000) % 86_400_000) / (86_400_000 / s.slotsPerDay),
  )
  const day = new Date(t).getUTCDay()
  const rel = (day === 0 || day === 6 ? s.weekend : s.weekday)[slot] ?? 1
  return normalizeHistoryValue(value, b.mean * rel, s.residualStdDev)
}

// ---------------------------------------------------------------------------
// Statistics, versions
// ---------------------------------------------------------------------------

export interface HistoryStatisticsQuery {
  streams?: string
  interval?: string
}

export interface HistoryStatisticsResponse {
  calculatedFrom: string
  version: number
  interval: HistoryIntervalName
  streams: Record<string, StreamBaseline>
}

/** The baseline statistics of one interval, for the named streams (default all). Pure. */
export function selectStatistics(
  meta: HistoryMeta,
  stats: HistoryStats,
  query: HistoryStatisticsQuery,
): HistoryStatisticsResponse {
  const interval = parseHistoryInterval(query.interval)
  const names = parseHistoryStreams(
    query.streams,
    meta.streams.map((s) => s.name),
  )
  const all = stats.intervals[interval] ?? {}
  const streams: Record<string, StreamBaseline> = {}
  for (const n of names) {
    const b = all[n]
    if (b !== undefined) streams[n] = b
  }
  return { calculatedFrom: stats.calculatedFrom, version: stats.version, interval, streams }
}

export interface HistoryVersionsResponse {
  current: number
  mode: 'baseline' | 'modified'
  versions: HistoryVersion[]
  job: HistoryJob | null
}

// ---------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------

export interface HistoryDiffPoint {
  timestamp: string
  baseline: number | null
  modified: number | null
  /** modified − baseline; null when either is null. */
  delta: number | null
}

export interface HistoryStreamDiff {
  name: string
  measure: HistoryMeasure
  changedPoints: number
  /** Over the changed points: events (count streams) or count-weighted mean (mean streams). */
  baselineTotal: number | null
  modifiedTotal: number | null
  /** (modifiedTotal − baselineTotal) / baselineTotal, 4 decimals; null when undefined. */
  change: number | null
  points: HistoryDiffPoint[]
}

export interface HistoryDiff {
  baseVersion: 0
  version: number
  interval: HistoryIntervalName
  description: string | null
  window: { start: number; end: number } | null
  /** Only streams with at least one changed point, in world order. */
  streams: HistoryStreamDiff[]
}

/**
 * Compares a regenerated version's document with the baseline's at an
 * interval, listing only the points that differ. Pure.
 *
 * @example
 * diffHistory(meta, await doc(0), await doc(3), '1h').streams[0]
 * // { name: 'session.booked', changedPoints: 6, baselineTotal: 410, modifiedTotal: 552, change: 0.3463, points: […] }
 */
export function diffHistory(
  meta: HistoryMeta,
  base: HistoryDoc,
  modified: HistoryDoc,
  interval: HistoryIntervalName,
): HistoryDiff {
  const intervalMs = HistoryInterval[interval]
  const entry = meta.versions.find((v) => v.version === modified.version)
  const from = Math.min(base.from, modified.from)
  const end = Math.max(
    base.from + base.n * (base.bucketMs || HISTORY_BUCKET_MS),
    modified.from + modified.n * (modified.bucketMs || HISTORY_BUCKET_MS),
  )
  const start = floorTo(from, intervalMs)
  const a: Acc = { count: 0, valued: 0, sum: 0 }
  const b: Acc = { count: 0, valued: 0, sum: 0 }
  const streams: HistoryStreamDiff[] = []
  for (let i = 0; i < meta.streams.length; i++) {
    const { name, measure } = meta.streams[i]!
    const points: HistoryDiffPoint[] = []
    const totA: Acc = { count: 0, valued: 0, sum: 0 }
    const totB: Acc = { count: 0, valued: 0, sum: 0 }
    for (let t = start; t < end; t += intervalMs) {
      accumulate(a, base, base.streams[name], null, 0, i, t, intervalMs, end)
      accumulate(b, modified, modified.streams[name], null, 0, i, t, intervalMs, end)
      const va = valueOf(a, measure)
      const vb = valueOf(b, measure)
      if (va === vb) continue
      points.push({
        timestamp: iso(t),
        baseline: va,
        modified: vb,
        delta: va === null || vb === null ? null : round2(vb - va),
      })
      for (const [tot, x] of [
        [totA, a],
        [totB, b],
      ] as const) {
        tot.count += x.count
        tot.valued += x.valued
        tot.sum += x.sum
      }
    }
    if (points.length === 0) continue
    const baselineTotal = valueOf(totA, measure)
    const modifiedTotal = valueOf(totB, measure)
    streams.push({
      name,
      measure,
      changedPoints: points.length,
      baselineTotal,
      modifiedTotal,
      change:
        baselineTotal === null || modifiedTotal === null || baselineTotal === 0
          ? null
          : Math.round(((modifiedTotal - baselineTotal) / baselineTotal) * 10_000) / 10_000,
      points,
    })
  }
  return {
    baseVersion: 0,
    version: modified.version,
    interval,
    description: entry?.description ?? null,
    window: entry?.window ?? null,
    streams,
  }
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

export interface HistoryReaderOptions {
  redis: Redis
  keys: WorldKeys
  /** Parsed documents kept in memory (default 4: the served one, the baseline, two more). */
  maxDocs?: number
}

export interface HistoryDiffQuery {
  /** Default: the served version. */
  version?: number
  /** Default `15m`. */
  interval?: string
}

export interface HistoryReader {
  history(query: HistoryQuery): Promise<HistoryResponse>
  statistics(query: HistoryStatisticsQuery): Promise<HistoryStatisticsResponse>
  versions(): Promise<HistoryVersionsResponse>
  diff(query: HistoryDiffQuery): Promise<HistoryDiff>
  /** Forgets every cached document and live bucket. */
  clear(): void
}

/** Parses JSON, reusing the last result while the text is unchanged. */
function memoJson<T>(): (raw: string) => T {
  let last: string | null = null
  let value: T
  return (raw) => {
    if (raw !== last) {
      value = JSON.parse(raw) as T
      last = raw
    }
    return value
  }
}

const LIVE_PIPELINE_CHUNK = 1000

/**
 * Reads the stored history per request: meta, state (for now), statistics
 * and events each time (re-parsed only when they changed), the served
 * document once per (run, version), live buckets once they are sealed (ended
 * at least 15 minutes of simulation time ago); still-open buckets in one
 * pipeline.
 *
 * @example
 * const reader = createHistoryReader({ redis, keys })
 * const res = await reader.history({ start: '2026-11-16T00:00:00Z', interval: '1h' })
 */
export function createHistoryReader(opts: HistoryReaderOptions): HistoryReader {
  const { redis, keys } = opts
  const hk = historyKeys(keys)
  const maxDocs = opts.maxDocs ?? 4
  const parseMeta = memoJson<HistoryMeta>()
  // The statistics (hundreds of kB) change only with the baseline: read once per baseline.
  let stats: { id: string; value: HistoryStats } | null = null
  async function loadStats(meta: HistoryMeta): Promise<HistoryStats | null> {
    const id = `${meta.runStartedAt}:${meta.from}:${meta.versions[0]?.createdAt ?? ''}`
    if (stats?.id === id) return stats.value
    const raw = await redis.get(hk.stats)
    if (raw === null) return null
    stats = { id, value: JSON.parse(raw) as HistoryStats }
    return stats.value
  }
  const parseEvents = memoJson<HistoryExternalEvent[]>()
  const docs = new Map<string, Promise<HistoryDoc | null>>()
  let live: { id: string; sealed: Map<number, LiveBucket | null> } = { id: '', sealed: new Map() }

  interface Snapshot {
    meta: HistoryMeta
    nowMs: number
    stats: HistoryStats | null
    events: HistoryExternalEvent[]
  }

  async function snapshot(what: { stats?: boolean; events?: boolean }): Promise<Snapshot> {
    const p = redis.pipeline().get(hk.meta).get(keys.state)
    if (what.events) p.get(hk.events)
    const res = (await p.exec()) ?? []
    const values = res.map(([err, v]) => {
      if (err) throw err
      return v as string | null
    })
    const [rawMeta, rawState] = values
    if (rawMeta === null || rawMeta === undefined) {
      throw new HistoryError(
        HistoryErrorCode.notReady,
        `no history yet: the generator writes ${hk.meta} once the baseline is generated (is it running?)`,
      )
    }
    const meta = parseMeta(rawMeta)
    let stateNow = NaN
    if (rawState) {
      const state = JSON.parse(rawState) as { currentSimulationTime?: unknown }
      if (typeof state.currentSimulationTime === 'string')
        stateNow = Date.parse(state.currentSimulationTime)
    }
    // Without a state (or a stale one from before this run) nothing live can be shown yet.
    const nowMs = Number.isFinite(stateNow)
      ? Math.max(stateNow, meta.runStartedAt)
      : meta.runStartedAt
    const rawEvents = what.events ? values[2] : null
    return {
      meta,
      nowMs,
      stats: what.stats ? await loadStats(meta) : null,
      events: rawEvents ? parseEvents(rawEvents) : [],
    }
  }

  function loadDoc(meta: HistoryMeta, version: number): Promise<HistoryDoc | null> {
    const entry = meta.versions.find((v) => v.version === version)
    const id = `${meta.runStartedAt}:${meta.from}:${version}:${entry?.createdAt ?? ''}`
    const cached = docs.get(id)
    if (cached) {
      docs.delete(id) // most recently used last
      docs.set(id, cached)
      return cached
    }
    const p = redis
      .get(hk.doc(version))
      .then((raw) => (raw === null ? null : (JSON.parse(raw) as HistoryDoc)))
    docs.set(id, p)
    const forget = () => {
      if (docs.get(id) === p) docs.delete(id)
    }
    p.then((d) => d === null && forget(), forget)
    while (docs.size > maxDocs) docs.delete(docs.keys().next().value as string)
    return p
  }

  async function requireDoc(meta: HistoryMeta, version: number): Promise<HistoryDoc> {
    const doc = await loadDoc(meta, version)
    if (doc !== null) return doc
    const job = meta.job
    const running =
      job && job.version === version && (job.state === 'queued' || job.state === 'running')
        ? ` (job ${job.id} ${job.state}, progress ${job.progress})`
        : ''
    throw new HistoryError(
      HistoryErrorCode.notReady,
      `history version ${version} is not stored yet${running}; try again shortly`,
    )
  }

  async function loadLive(
    meta: HistoryMeta,
    starts: readonly number[],
    nowMs: number,
  ): Promise<Map<number, LiveBucket>> {
    const names = meta.streams.map((s) => s.name)
    const id = `${meta.runStartedAt}:${meta.bucketMs}:${names.join(',')}`
    if (live.id !== id) live = { id, sealed: new Map() }
    const { sealed } = live
    const out = new Map<number, LiveBucket>()
    const missing: number[] = []
    for (const b of starts) {
      if (sealed.has(b)) {
        const v = sealed.get(b)
        if (v) out.set(b, v)
      } else missing.push(b)
    }
    const bucketMs = meta.bucketMs || HISTORY_BUCKET_MS
    // A bucket that ended 15 simulated minutes ago gets no more events.
    const sealedBefore = nowMs - bucketMs
    for (let k = 0; k < missing.length; k += LIVE_PIPELINE_CHUNK) {
      const chunk = missing.slice(k, k + LIVE_PIPELINE_CHUNK)
      const p = redis.pipeline()
      for (const b of chunk) p.hgetall(hk.live(b))
      const res = (await p.exec()) ?? []
      chunk.forEach((b, j) => {
        const [err, hash] = res[j] ?? [new Error('no reply'), null]
        if (err) throw err
        const parsed = parseLiveBucket((hash ?? {}) as Record<string, string>, names)
        if (b + bucketMs <= sealedBefore) sealed.set(b, parsed)
        if (parsed) out.set(b, parsed)
      })
    }
    return out
  }

  return {
    async history(query) {
      const snap = await snapshot({ stats: true, events: true })
      const range = resolveHistoryRange(snap.meta, snap.nowMs, query)
      const [doc, liveBuckets] = await Promise.all([
        requireDoc(snap.meta, snap.meta.current),
        loadLive(snap.meta, liveBucketStarts(snap.meta, range, snap.nowMs), snap.nowMs),
      ])
      return rollUpHistory(
        { meta: snap.meta, doc, live: liveBuckets, stats: snap.stats, events: snap.events },
        range,
        snap.nowMs,
      )
    },

    async statistics(query) {
      const snap = await snapshot({ stats: true })
      if (snap.stats === null) {
        throw new HistoryError(
          HistoryErrorCode.notReady,
          `no baseline statistics yet: the generator writes ${hk.stats} after the baseline`,
        )
      }
      return selectStatistics(snap.meta, snap.stats, query)
    },

    async versions() {
      const { meta } = await snapshot({})
      return { current: meta.current, mode: meta.mode, versions: meta.versions, job: meta.job }
    },

    async diff(query) {
      const { meta } = await snapshot({})
      const interval = parseHistoryInterval(query.interval, DEFAULT_DIFF_INTERVAL)
      const version = query.version ?? meta.current
      if (!meta.versions.some((v) => v.version === version)) {
        throw new HistoryError(
          HistoryErrorCode.unknownVersion,
          `no history version ${version}; known: ${meta.versions.map((v) => v.version).join(', ') || 'none'}`,
          { param: 'version' },
        )
      }
      const [base, modified] = await Promise.all([
        requireDoc(meta, 0),
        version === 0 ? null : requireDoc(meta, version),
      ])
      return diffHistory(meta, base, modified ?? base, interval)
    },

    clear() {
      docs.clear()
      live = { id: '', sealed: new Map() }
    },
  }
}
