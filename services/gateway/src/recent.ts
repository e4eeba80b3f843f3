/**
 * Recent events for clients that poll instead of stream
 * (`GET /api/simulation/events`): read from the channel streams with a bounded
 * number of entries per request, whatever the filter.
 */
import type { Redis } from 'ioredis'
import type { MatchableEvent } from '@verisim/schema'
import {
  compareIds,
  entryToRawEvent,
  findIdAtOrBefore,
  readRange,
  type RawEvent,
  type WorldKeys,
} from '@verisim/bus'

/** Most entries one request reads (per channel going back; in all going forward). */
export const RECENT_MAX_SCAN = 5000

export interface RecentContext {
  redis: Redis
  keys: WorldKeys
  channels: readonly string[]
}

export type Since = { id: string } | { time: string } | null

export interface RecentResult {
  /** Oldest first. */
  events: RawEvent[]
  /** Pass as `since` next time: events after it were not returned yet. */
  lastId: string
}

/**
 * Going back from `upTo`, each channel until it has `keep` matching events,
 * it is exhausted, or `maxScan` entries were read. Returns every match found,
 * in id order.
 */
async function readBack(
  ctx: RecentContext,
  match: (e: MatchableEvent) => boolean,
  upTo: string,
  keep: number,
  maxScan: number,
): Promise<RawEvent[]> {
  const found: RawEvent[] = []
  const scans = ctx.channels.map((channel) => ({
    channel,
    cursor: upTo,
    scanned: 0,
    kept: 0,
    done: false,
  }))
  let first = true
  while (scans.some((s) => !s.done)) {
    const active = scans.filter((s) => !s.done)
    const p = ctx.redis.pipeline()
    const sizes = active.map((s) => Math.min(Math.max(keep, 200), 1000, maxScan - s.scanned))
    active.forEach((s, i) =>
      p.xrevrange(
        ctx.keys.channel(s.channel),
        first ? s.cursor : `(${s.cursor}`,
        '-',
        'COUNT',
        sizes[i] as number,
      ),
    )
    first = false
    const results = (await p.exec()) ?? []
    results.forEach(([err, entries], i) => {
      if (err) throw err
      const s = active[i] as (typeof scans)[number]
      const list = entries as [string, string[]][]
      s.scanned += list.length
      for (const [id, fields] of list) {
        const e = entryToRawEvent(s.channel, id, fields)
        if (!match(e)) continue
        found.push(e)
        if (++s.kept >= keep) {
          s.done = true
          break
        }
      }
      const last = list[list.length - 1]
      if (last) s.cursor = last[0]
      if (list.length < (sizes[i] as number) || s.scanned >= maxScan) s.done = true
    })
  }
  return found.sort((a, b) => compareIds(a.id, b.id))
}

/**
 * Up to `limit` events matching `match`, oldest first, with `id <= upTo`:
 * - no `since`: the newest `limit`;
 * - `since` an id: the first `limit` after it (reads forward at most `maxScan` entries);
 * - `since` a time: the first `limit` whose simulation time is after it
 *   (found by binary search, then read forward like an id).
 */
export async function readRecent(
  ctx: RecentContext,
  match: (e: MatchableEvent) => boolean,
  opts: { since: Since; limit: number; upTo: string; maxScan?: number },
): Promise<RecentResult> {
  const { since, limit, upTo } = opts
  const maxScan = opts.maxScan ?? RECENT_MAX_SCAN
  if (since === null) {
    const found = await readBack(ctx, match, upTo, limit, maxScan)
    return { events: found.slice(-limit), lastId: upTo }
  }
  if ('time' in since) {
    // Where the time falls in the total order, by binary search (no scan back).
    const after = await findIdAtOrBefore(ctx.redis, ctx.keys, ctx.channels, since.time, upTo)
    return readForward(ctx, match, after, upTo, limit, maxScan)
  }
  if (compareIds(since.id, upTo) >= 0) return { events: [], lastId: since.id }
  return readForward(ctx, match, since.id, upTo, limit, maxScan)
}

/** The first `limit` matches after `after` (null: from the oldest stored), reading at most `maxScan` entries. */
async function readForward(
  ctx: RecentContext,
  match: (e: MatchableEvent) => boolean,
  after: string | null,
  upTo: string,
  limit: number,
  maxScan: number,
): Promise<RecentResult> {
  const events: RawEvent[] = []
  let cursor = after
  let scanned = 0
  for (;;) {
    const page = await readRange(ctx.redis, ctx.keys, ctx.channels, cursor, upTo, 1000)
    for (const e of page.events) {
      scanned++
      cursor = e.id
      if (!match(e)) continue
      events.push(e)
      if (events.length >= limit) return { events, lastId: e.id }
    }
    if (!page.more || page.events.length === 0) return { events, lastId: upTo }
    // Bounded: what was read is skipped past, the caller goes on from `lastId`.
    if (scanned >= maxScan) return { events, lastId: cursor ?? upTo }
  }
}
