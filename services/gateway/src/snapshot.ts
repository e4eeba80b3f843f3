/**
 * The snapshot a fresh subscriber gets instead of a blank screen: the last few
 * events of each stream its topics match, read back from the channel streams
 * (XREVRANGE, newest first, bounded per channel) and returned oldest first.
 */
import type { Redis } from 'ioredis'
import type { MatchableEvent, StreamInfo } from '@verisim/schema'
import { SpecialChannel } from '@verisim/schema'
import { compareIds, entryToRawEvent, type RawEvent, type WorldKeys } from '@verisim/bus'

/** Events per matched stream in a snapshot. */
export const SNAPSHOT_PER_STREAM = 10
/** Most entries read back from one channel for one snapshot (bounds the cost on quiet streams). */
export const SNAPSHOT_MAX_SCAN_PER_CHANNEL = 2000

export interface SnapshotContext {
  redis: Redis
  keys: WorldKeys
  channels: readonly string[]
  catalog: readonly StreamInfo[]
}

export interface SnapshotOptions {
  /** Newest id to include (the frontier live delivery starts after). */
  upTo: string
  perStream?: number
  maxScanPerChannel?: number
}

/**
 * The last `perStream` events of each stream matched by `match`, with
 * `id <= upTo`, oldest first. A channel is read back page by page until every
 * catalog stream of it that `match` takes whole has `perStream` events, the
 * channel is exhausted, or `maxScanPerChannel` entries were read (streams
 * quieter than that, and anomaly-only matches, may then have fewer).
 */
export async function readSnapshot(
  ctx: SnapshotContext,
  match: (e: MatchableEvent) => boolean,
  opts: SnapshotOptions,
): Promise<RawEvent[]> {
  const perStream = opts.perStream ?? SNAPSHOT_PER_STREAM
  const maxScan = opts.maxScanPerChannel ?? SNAPSHOT_MAX_SCAN_PER_CHANNEL
  interface Scan {
    channel: string
    /** Streams taken whole by the topics: the channel is done once each has `perStream`. */
    wanted: Set<string>
    /** Whether only the scan bound can end it (anomaly-only or special channels). */
    open: boolean
    cursor: string
    scanned: number
    done: boolean
  }
  const counts = new Map<string, number>()
  const picked: RawEvent[] = []
  const scans: Scan[] = []
  for (const channel of ctx.channels) {
    const special = channel === SpecialChannel.external || channel === SpecialChannel.control
    const streams = ctx.catalog.filter((s) => s.channel === channel)
    const wanted = new Set(
      streams
        .filter((s) => match({ stream: s.name, channel, anomalyFlag: 'normal' }))
        .map((s) => s.name),
    )
    const partly = special
      ? match({ stream: '', channel, anomalyFlag: 'critical' })
      : streams.some(
          (s) => !wanted.has(s.name) && match({ stream: s.name, channel, anomalyFlag: 'critical' }),
        )
    if (wanted.size === 0 && !partly) continue
    scans.push({ channel, wanted, open: partly, cursor: opts.upTo, scanned: 0, done: false })
  }

  const complete = (s: Scan) =>
    !s.open && [...s.wanted].every((name) => (counts.get(name) ?? 0) >= perStream)

  let first = true
  while (scans.some((s) => !s.done)) {
    const active = scans.filter((s) => !s.done)
    const p = ctx.redis.pipeline()
    const sizes: number[] = []
    for (const s of active) {
      // First page sized for the wanted streams; later pages larger, all within the bound.
      const want = first ? Math.max(50, perStream * Math.max(1, s.wanted.size)) : 500
      const count = Math.min(want, maxScan - s.scanned)
      sizes.push(count)
      const end = first ? s.cursor : `(${s.cursor}`
      p.xrevrange(ctx.keys.channel(s.channel), end, '-', 'COUNT', count)
    }
    first = false
    const results = (await p.exec()) ?? []
    results.forEach(([err, entries], i) => {
      if (err) throw err
      const s = active[i] as Scan
      const list = entries as [string, string[]][]
      s.scanned += list.length
      for (const [id, fields] of list) {
        const e = entryToRawEvent(s.channel, id, fields)
        if (!match(e)) continue
        const n = counts.get(e.stream) ?? 0
        if (n >= perStream) continue
        counts.set(e.stream, n + 1)
        picked.push(e)
      }
      const last = list[list.length - 1]
      if (last) s.cursor = last[0]
      if (list.length < (sizes[i] as number) || s.scanned >= maxScan || complete(s)) s.done = true
    })
  }
  return picked.sort((a, b) => compareIds(a.id, b.id))
}
