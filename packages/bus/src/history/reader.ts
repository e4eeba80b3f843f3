/**
 * Reading the stored history back from Redis: the live bucket hashes the
 * generator increments, and a reader that answers history, statistics,
 * versions and diff requests through the read model (`./model.ts`), keeping
 * parsed documents and sealed live buckets in memory.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { historyKeys, type WorldKeys } from '../keys.js'
import { HistoryError, HistoryErrorCode } from './errors.js'
import {
  DEFAULT_DIFF_INTERVAL,
  diffHistory,
  historyRangeIsOpen,
  liveBucketStarts,
  resolveHistoryRange,
  rollUpHistory,
  selectStatistics,
  startHistoryRollUp,
  type HistoryDiff,
  type HistoryRange,
  type HistoryRollUp,
  type HistoryRequest,
  type HistoryResponse,
  type HistoryStatisticsRequest,
  type HistoryStatisticsResponse,
  type HistoryVersionsResponse,
} from './model.js'
import {
  HISTORY_BUCKET_MS,
  type HistoryDoc,
  type HistoryExternalEvent,
  type HistoryIntervalName,
  type HistoryMeta,
  type HistoryStats,
  type LiveBucket,
} from './stored.js'

/** Parses a live bucket hash; null when it holds nothing for these streams. */
export function parseLiveBucket(
  hash: Record<string, string>,
  streams: readonly string[],
): LiveBucket | null {
  let any = false
  const out = new Float64Array(streams.length * 3)
  for (let i = 0; i < streams.length; i++) {
    const name = streams[i]!
    const count = hash[name]
    const sum = hash[`${name}:v`]
    const expected = hash[`${name}:e`]
    out[3 * i] = count === undefined ? 0 : Number(count)
    // The generator skips HINCRBYFLOAT of a zero sum: absent is 0.
    out[3 * i + 1] = sum === undefined ? 0 : Number(sum)
    out[3 * i + 2] = expected === undefined ? 0 : Number(expected)
    if (count !== undefined || expected !== undefined) any = true
  }
  return any ? out : null
}

export interface HistoryReaderOptions {
  redis: Redis
  keys: WorldKeys
  /** Parsed documents kept in memory (default 4: the served one, the baseline, two more). */
  maxDocs?: number
}

export interface HistoryDiffRequest {
  /** Default: the served version. */
  version?: number
  /** Default `15m`. */
  interval?: HistoryIntervalName
}

/**
 * A history request fixed against the stored history, before anything large
 * is read: what it will answer and an identity of that answer.
 */
export interface HistoryPlan {
  range: HistoryRange
  nowMs: number
  /**
   * Equal identities, equal answers (but `timeRange.now`): the run, the served
   * version and its baseline, the external events, the range, and — while the
   * range still covers open live buckets (`open`) — the current simulation time.
   */
  identity: string
  /** The answer can still change without a new version (it reaches open live buckets). */
  open: boolean
  /** Reads the document and live buckets; the points are computed per stream on demand. */
  load(): Promise<HistoryRollUp>
}

export interface HistoryReader {
  history(request: HistoryRequest): Promise<HistoryResponse>
  /** Fixes a request (errors as {@link HistoryReader.history}) without reading the document yet. */
  plan(request: HistoryRequest): Promise<HistoryPlan>
  statistics(request: HistoryStatisticsRequest): Promise<HistoryStatisticsResponse>
  versions(): Promise<HistoryVersionsResponse>
  diff(request: HistoryDiffRequest): Promise<HistoryDiff>
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
/** Diffs kept (each a few hundred kB at most: only changed points). */
const MAX_DIFFS = 8

/**
 * Reads the stored history per request: meta, state (for now), statistics
 * and events each time (re-parsed only when they changed), the served
 * document once per (run, version), live buckets once they are sealed (ended
 * at least 15 minutes of simulation time ago); still-open buckets in one
 * pipeline.
 *
 * @example
 * const reader = createHistoryReader({ redis, keys })
 * const res = await reader.history({ start: Date.parse('2026-11-16T00:00:00Z'), interval: '1h' })
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
  /** Digest of the stored external events, recomputed only when their text changes. */
  let eventsDigest = { raw: '', digest: '-' }
  const digestEvents = (raw: string | null) => {
    if (raw === null) return '-'
    if (raw !== eventsDigest.raw) {
      eventsDigest = { raw, digest: createHash('sha1').update(raw).digest('base64url') }
    }
    return eventsDigest.digest
  }
  const docs = new Map<string, Promise<HistoryDoc | null>>()
  const diffs = new Map<string, HistoryDiff>()
  let live: { id: string; sealed: Map<number, LiveBucket | null> } = { id: '', sealed: new Map() }

  interface Snapshot {
    meta: HistoryMeta
    nowMs: number
    stats: HistoryStats | null
    events: HistoryExternalEvent[]
    eventsDigest: string
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
      eventsDigest: digestEvents(rawEvents ?? null),
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

  async function plan(request: HistoryRequest): Promise<HistoryPlan> {
    const snap = await snapshot({ stats: true, events: true })
    const { meta, nowMs } = snap
    const range = resolveHistoryRange(meta, nowMs, request)
    const open = historyRangeIsOpen(meta, range, nowMs)
    const served = meta.versions.find((v) => v.version === meta.current)
    const identity = [
      meta.world,
      meta.runStartedAt,
      meta.from,
      meta.current,
      meta.timeline ?? '',
      served?.createdAt ?? '',
      meta.versions[0]?.createdAt ?? '',
      snap.eventsDigest,
      range.startMs,
      range.endMs,
      range.interval,
      range.streams.join(','),
      open ? nowMs : 'sealed',
    ].join('|')
    return {
      range,
      nowMs,
      identity,
      open,
      async load() {
        const [doc, liveBuckets] = await Promise.all([
          requireDoc(meta, meta.current),
          loadLive(meta, liveBucketStarts(meta, range, nowMs), nowMs),
        ])
        return startHistoryRollUp(
          { meta, doc, live: liveBuckets, stats: snap.stats, events: snap.events },
          range,
          nowMs,
        )
      },
    }
  }

  return {
    plan,

    async history(request) {
      const snap = await snapshot({ stats: true, events: true })
      const range = resolveHistoryRange(snap.meta, snap.nowMs, request)
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

    async statistics(request) {
      const snap = await snapshot({ stats: true })
      if (snap.stats === null) {
        throw new HistoryError(
          HistoryErrorCode.notReady,
          `no baseline statistics yet: the generator writes ${hk.stats} after the baseline`,
        )
      }
      return selectStatistics(snap.meta, snap.stats, request)
    },

    async versions() {
      const { meta } = await snapshot({})
      return { current: meta.current, mode: meta.mode, versions: meta.versions, job: meta.job }
    },

    async diff(request) {
      const { meta } = await snapshot({})
      const interval = request.interval ?? DEFAULT_DIFF_INTERVAL
      const version = request.version ?? meta.current
      if (!meta.versions.some((v) => v.version === version)) {
        throw new HistoryError(
          HistoryErrorCode.unknownVersion,
          `no history version ${version}; known: ${meta.versions.map((v) => v.version).join(', ') || 'none'}`,
          { param: 'version' },
        )
      }
      // A diff reads two whole documents: computed once per (run, version, interval).
      const entry = (v: number) => meta.versions.find((x) => x.version === v)?.createdAt ?? ''
      const id = `${meta.runStartedAt}:${meta.from}:${entry(0)}:${version}:${entry(version)}:${interval}`
      const cached = diffs.get(id)
      if (cached) return cached
      const [base, modified] = await Promise.all([
        requireDoc(meta, 0),
        version === 0 ? null : requireDoc(meta, version),
      ])
      const diff = diffHistory(meta, base, modified ?? base, interval)
      diffs.set(id, diff)
      while (diffs.size > MAX_DIFFS) diffs.delete(diffs.keys().next().value as string)
      return diff
    },

    clear() {
      docs.clear()
      diffs.clear()
      live = { id: '', sealed: new Map() }
    },
  }
}
