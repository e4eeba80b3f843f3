/**
 * The history read model: pure functions over what the generator stored (no
 * Redis, no clock). Fixes a request's range against the stored history, rolls
 * buckets up into points of an interval (the served document before the run
 * start, live buckets from it on, the bucket holding the run start being the
 * sum of both, so the two join without a gap), normalizes points against the
 * baseline statistics, selects statistics and diffs a regenerated version
 * against the baseline. Requests arrive parsed (times as epoch ms or `now`,
 * streams as a list); reading them from a query string is the gateway's job.
 */
import { combineZ, normalizeSignal, rateZ, valueZ } from '@verisim/schema'
import { HistoryError, HistoryErrorCode } from './errors.js'
import {
  HISTORY_BUCKET_MS,
  HistoryInterval,
  type HistoryDoc,
  type HistoryDocStream,
  type HistoryExternalEvent,
  type HistoryIntervalName,
  type HistoryJob,
  type HistoryMeasure,
  type HistoryMeta,
  type HistoryStats,
  type HistoryVersion,
  type LiveBucket,
  type StreamBaseline,
  type StreamSignalParams,
} from './stored.js'

// ---------------------------------------------------------------------------
// Requests and ranges
// ---------------------------------------------------------------------------

export const DEFAULT_HISTORY_INTERVAL: HistoryIntervalName = '12h'
/** Diffs default to the finest interval: a regenerated window is usually hours long. */
export const DEFAULT_DIFF_INTERVAL: HistoryIntervalName = '15m'
/** Span of a history request that gives no `start`. */
export const DEFAULT_HISTORY_SPAN_MS = 7 * 86_400_000
/** Most points (streams × intervals) one history response may hold. */
export const MAX_HISTORY_POINTS = 200_000

/** A time a request names: epoch ms, or `now` (the current simulation time, known when reading). */
export type HistoryTime = number | 'now'

export interface HistoryRequest {
  /** Default: `end` − 7 days. */
  start?: HistoryTime
  /** Exclusive; default `now`. */
  end?: HistoryTime
  /** Stream names (repeats ignored); absent or empty: every stream. */
  streams?: readonly string[]
  /** Default `12h`. */
  interval?: HistoryIntervalName
}

/** A history request checked against the stored history. */
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

const badQuery = (param: string, message: string) =>
  new HistoryError(HistoryErrorCode.badQuery, message, { param })

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step
const iso = (ms: number) => new Date(ms).toISOString()

/**
 * The named streams (deduplicated, in the order given), or every stored one
 * when none are named. Throws a `badQuery` HistoryError naming the unknown ones.
 *
 * @example
 * resolveHistoryStreams(meta, ['session.completed', 'session.completed']) // ['session.completed']
 */
export function resolveHistoryStreams(
  meta: HistoryMeta,
  names: readonly string[] | undefined,
): string[] {
  const known = meta.streams.map((s) => s.name)
  const named = [...new Set(names ?? [])]
  if (named.length === 0) return known
  const knownSet = new Set(known)
  const unknown = named.filter((n) => !knownSet.has(n))
  if (unknown.length > 0) {
    throw badQuery(
      'streams',
      `streams: unknown stream${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')} (GET /api/streams lists the ${known.length} known ones)`,
    )
  }
  return named
}

/**
 * Checks a request and fixes its range: `start` floored to the interval (UTC),
 * `end` exclusive, both clipped to [baseline start, now].
 *
 * @example
 * resolveHistoryRange(meta, now, { start: Date.parse('2026-11-20T05:00:00Z'), interval: '12h' })
 * // { startMs: <2026-11-20T00:00Z>, endMs: now, interval: '12h', … }
 */
export function resolveHistoryRange(
  meta: HistoryMeta,
  nowMs: number,
  request: HistoryRequest,
): HistoryRange {
  const at = (t: HistoryTime) => (t === 'now' ? nowMs : t)
  const given = request.start === undefined ? null : at(request.start)
  const end = request.end === undefined ? nowMs : at(request.end)
  const start = given ?? end - DEFAULT_HISTORY_SPAN_MS
  if (start >= end) {
    throw badQuery(
      'start',
      `start (${iso(start)}) must be before end (${iso(end)}; end is exclusive and defaults to now)`,
    )
  }
  const interval = request.interval ?? DEFAULT_HISTORY_INTERVAL
  const intervalMs = HistoryInterval[interval]
  const streams = resolveHistoryStreams(meta, request.streams)
  const floor = historyFloor(meta, nowMs)
  const clip = (ms: number) => Math.min(Math.max(ms, floor), nowMs)
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

/** Maps a z-score to 0–100 (the envelope's scale, `normalizeSignal` of @verisim/schema). */
export const normalizeHistoryZ = normalizeSignal

/**
 * @example
 * normalizeHistoryValue(120, 100, 20) // 70 — one σ above the mean
 */
export function normalizeHistoryValue(value: number, mean: number, sd: number): number {
  return normalizeHistoryZ(sd > 0 ? (value - mean) / sd : 0)
}

const round2 = (x: number) => Math.round(x * 100) / 100

/**
 * The earliest time history serves: the baseline start, or once the run is
 * longer than `meta.maxSpanMs` allows, the 12 h boundary at or after
 * now − `maxSpanMs` (aligned to every interval, so no point is cut).
 *
 * @example
 * historyFloor({ ...meta, from: 0, maxSpanMs: 60 * DAY }, 100 * DAY) // 40 * DAY
 */
export function historyFloor(meta: HistoryMeta, nowMs: number): number {
  if (!meta.maxSpanMs) return meta.from
  const step = HistoryInterval['12h']
  return Math.max(meta.from, Math.ceil((nowMs - meta.maxSpanMs) / step) * step)
}

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

/** Count and count-weighted value sum of one stream over `[t, t + width)`, up to `stopMs`. */
export interface PointTotals {
  count: number
  /** Events whose value is known (the weight of `sum`). */
  valued: number
  sum: number
  /** The baseline's expected count over the same buckets (0 when not stored). */
  expected: number
}

function accumulate(
  acc: PointTotals,
  doc: HistoryDoc,
  series: HistoryDocStream | undefined,
  live: ReadonlyMap<number, LiveBucket> | null,
  liveFrom: number,
  streamIndex: number,
  t: number,
  width: number,
  stopMs: number,
  expected?: { from: number; n: number; values: readonly number[] },
): void {
  acc.count = 0
  acc.valued = 0
  acc.sum = 0
  acc.expected = 0
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
    // a bucket still filling (it holds now) is expected only for its part so far
    const part = b + bucketMs > stopMs ? (stopMs - b) / bucketMs : 1
    if (expected) {
      const j = Math.round((b - expected.from) / bucketMs)
      if (j >= 0 && j < expected.n) acc.expected += (expected.values[j] ?? 0) * part
    }
    if (live !== null && b >= liveFrom) {
      const lb = live.get(b)
      if (lb) {
        const c = lb[3 * streamIndex] ?? 0
        if (c > 0) {
          acc.count += c
          acc.valued += c
          acc.sum += lb[3 * streamIndex + 1] ?? 0
        }
        acc.expected += (lb[3 * streamIndex + 2] ?? 0) * part
      }
    }
  }
}

function valueOf(acc: PointTotals, measure: HistoryMeasure): number | null {
  if (measure === 'count') return acc.count
  return acc.valued > 0 ? round2(acc.sum / acc.valued) : null
}

/**
 * A history response built one stream at a time: the time range and events
 * at once, each stream's points on demand, so a caller can serialize a large
 * response in chunks and give the event loop back between them.
 */
export interface HistoryRollUp {
  timeRange: HistoryTimeRange
  /** The streams of the response, in order (unknown ones left out). */
  streams: readonly string[]
  /** The points of one of `streams`. */
  points(name: string): HistoryPoint[]
  events: HistoryExternalEvent[]
}

/**
 * Like {@link rollUpHistory}, but each stream's points are computed only when
 * asked for (`points(name)`, a few milliseconds for the longest ranges).
 *
 * @example
 * const r = startHistoryRollUp(sources, range, now)
 * for (const name of r.streams) write(name, r.points(name))
 */
export function startHistoryRollUp(
  src: HistorySources,
  range: HistoryRange,
  nowMs: number,
): HistoryRollUp {
  const { meta, doc, live, stats } = src
  const index = new Map(meta.streams.map((s, i) => [s.name, i]))
  const liveFrom = liveFromBucket(meta)
  const baselines = stats?.intervals[range.interval]
  const acc: PointTotals = { count: 0, valued: 0, sum: 0, expected: 0 }
  const signal = stats?.signal
  // Formatting a time costs more than the rest of a point: once per point, not per stream.
  let stamps: string[] | null = null
  const points = (name: string): HistoryPoint[] => {
    const i = index.get(name)
    if (i === undefined) return []
    stamps ??= Array.from({ length: range.points }, (_, k) =>
      iso(range.startMs + k * range.intervalMs),
    )
    const measure = meta.streams[i]!.measure
    const series = doc.streams[name]
    const baseline = baselines?.[name]
    const sig = signal?.streams[name]
    const expected = sig && { from: signal!.from, n: signal!.n, values: sig.expected }
    const out: HistoryPoint[] = new Array(range.points)
    for (let k = 0; k < range.points; k++) {
      const t = range.startMs + k * range.intervalMs
      accumulate(acc, doc, series, live, liveFrom, i, t, range.intervalMs, nowMs, expected)
      const value = valueOf(acc, measure)
      const normalized =
        value === null
          ? null
          : sig
            ? normalizeSignalPoint(acc, sig)
            : baseline === undefined
              ? null
              : normalizePoint(value, baseline, t)
      const p: HistoryPoint = { timestamp: stamps[k]!, value, normalized }
      if (t + range.intervalMs > nowMs) p.partial = true
      out[k] = p
    }
    return out
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
    streams: range.streams.filter((n) => index.has(n)),
    points,
    events: src.events.filter((e) => {
      const at = typeof e.at === 'number' ? e.at : Date.parse(e.timestamp)
      return at >= range.startMs && at < range.endMs
    }),
  }
}

/**
 * Whether a history range's answer can still change (other than
 * `timeRange.now`) without a new history version: true while any of its
 * points covers a live bucket that is still open (ended less than one bucket
 * of simulation time before now) or the future.
 */
export function historyRangeIsOpen(meta: HistoryMeta, range: HistoryRange, nowMs: number): boolean {
  const bucketMs = meta.bucketMs || HISTORY_BUCKET_MS
  return range.startMs + range.points * range.intervalMs > nowMs - bucketMs
}

/**
 * Rolls the stored buckets up into points of `range.interval`: the served
 * document before the run start, live buckets from the bucket that holds it
 * (that bucket is its baseline part plus its live part).
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
  const r = startHistoryRollUp(src, range, nowMs)
  const streams: Record<string, HistoryPoint[]> = {}
  for (const name of r.streams) streams[name] = r.points(name)
  return { timeRange: r.timeRange, streams, events: r.events }
}

/**
 * A point's `normalized` with the stream signal's definition (docs/SIGNAL.md, the
 * same formulas as the live `normalizedValue`): its count against the baseline's
 * expected count for the interval, and its mean value against the stream's value
 * baseline where the stream's signal watches the value.
 *
 * @example
 * normalizeSignalPoint({ count: 130, valued: 130, sum: 0, expected: 100 }, rateParams) // 81.5 (z ≈ 2.8)
 */
export function normalizeSignalPoint(
  acc: Readonly<PointTotals>,
  p: Pick<
    StreamSignalParams,
    'kind' | 'dispersion' | 'tolerance' | 'valueTolerance' | 'mean' | 'sd'
  >,
): number {
  const zr = p.kind === 'value' ? 0 : rateZ(acc.count, acc.expected, p.tolerance, p.dispersion)
  const zv =
    p.kind === 'rate' || acc.valued === 0
      ? 0
      : valueZ(acc.sum / acc.valued, acc.valued, p.mean, p.sd, p.valueTolerance)
  return normalizeSignal(combineZ(zr, zv))
}

/**
 * Documents written before the stream signal: normalizes a point against the seasonal baseline when the statistics carry one
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

export interface HistoryStatisticsRequest {
  /** Absent or empty: every stream. */
  streams?: readonly string[]
  /** Default `12h`. */
  interval?: HistoryIntervalName
}

export interface HistoryStatisticsResponse {
  calculatedFrom: string
  version: number
  interval: HistoryIntervalName
  streams: Record<string, StreamBaseline>
}

/** The baseline statistics of one interval, for the named streams (default all). */
export function selectStatistics(
  meta: HistoryMeta,
  stats: HistoryStats,
  request: HistoryStatisticsRequest,
): HistoryStatisticsResponse {
  const interval = request.interval ?? DEFAULT_HISTORY_INTERVAL
  const names = resolveHistoryStreams(meta, request.streams)
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
 * interval, listing only the points that differ.
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
  const a: PointTotals = { count: 0, valued: 0, sum: 0, expected: 0 }
  const b: PointTotals = { count: 0, valued: 0, sum: 0, expected: 0 }
  const streams: HistoryStreamDiff[] = []
  for (let i = 0; i < meta.streams.length; i++) {
    const { name, measure } = meta.streams[i]!
    const points: HistoryDiffPoint[] = []
    const totA: PointTotals = { count: 0, valued: 0, sum: 0, expected: 0 }
    const totB: PointTotals = { count: 0, valued: 0, sum: 0, expected: 0 }
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
