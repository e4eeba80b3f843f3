/**
 * Reading back a window of the total order across all channels: the catch-up
 * path for resuming clients, and what tests compare deliveries against.
 */
import type { Redis } from 'ioredis'
import { compareIds } from './ids.js'
import { entryToRawEvent, type RawEvent } from './entry.js'
import type { WorldKeys } from './keys.js'

export interface RangePage {
  events: RawEvent[]
  /** True when more events exist in the window after the last one returned. */
  more: boolean
}

/**
 * Events with `after < id <= upTo` from every channel, merged in id order, at
 * most `limit` of them. Page on by calling again with the last id returned.
 */
export async function readRange(
  redis: Redis,
  keys: WorldKeys,
  channels: readonly string[],
  after: string | null,
  upTo: string,
  limit = 1000,
): Promise<RangePage> {
  const start = after === null ? '-' : `(${after}`
  const p = redis.pipeline()
  for (const ch of channels) p.xrange(keys.channel(ch), start, upTo, 'COUNT', limit)
  const results = (await p.exec()) ?? []
  const merged: RawEvent[] = []
  let truncated = false
  results.forEach(([err, entries], i) => {
    if (err) throw err
    const list = entries as [string, string[]][]
    if (list.length >= limit) truncated = true
    const ch = channels[i] as string
    for (const [id, fields] of list) merged.push(entryToRawEvent(ch, id, fields))
  })
  merged.sort((a, b) => compareIds(a.id, b.id))
  if (merged.length > limit) {
    return { events: merged.slice(0, limit), more: true }
  }
  // A channel that filled its page may hold more events beyond it.
  return { events: merged, more: truncated }
}

/** The newest id stored in any of the channels, or `null` when all are empty. */
export async function lastStoredId(
  redis: Redis,
  keys: WorldKeys,
  channels: readonly string[],
): Promise<string | null> {
  const p = redis.pipeline()
  for (const ch of channels) p.xrevrange(keys.channel(ch), '+', '-', 'COUNT', 1)
  const results = (await p.exec()) ?? []
  let best: string | null = null
  for (const [err, entries] of results) {
    if (err) throw err
    const first = (entries as [string, string[]][])[0]
    if (first && (best === null || compareIds(first[0], best) > 0)) best = first[0]
  }
  return best
}

/**
 * The retention floor: a resume point below it may have lost events to
 * trimming (`0-0` while nothing was trimmed). A channel has been trimmed when
 * XINFO `entries-added` > `length` (`MAXLEN` by the writer or `MINID`/`MAXLEN`
 * by the cleanup job; Verisim never XDELs). Such a channel contributes its
 * oldest retained id, or, when trimming emptied it, its `last-generated-id`
 * (everything up to it is gone); the floor is the highest contribution. A
 * resume point at or above the floor misses nothing: every channel still holds
 * all its events after it. Conservative: a channel that was trimmed and has been
 * quiet since before the resume point also counts, which only happens to a
 * client that is far behind anyway.
 */
export async function retentionFloor(
  redis: Redis,
  keys: WorldKeys,
  channels: readonly string[],
): Promise<string> {
  const p = redis.pipeline()
  for (const ch of channels) p.call('XINFO', 'STREAM', keys.channel(ch))
  const results = (await p.exec()) ?? []
  let floor = '0-0'
  for (const [err, info] of results) {
    if (err) {
      if (/no such key/i.test(String((err as Error).message))) continue
      throw err
    }
    const arr = info as unknown[]
    const field = (name: string) => arr[arr.indexOf(name) + 1]
    const length = Number(field('length'))
    const added = Number(field('entries-added'))
    if (!(added > length)) continue
    const first = field('first-entry') as [string, string[]] | null
    const candidate = length > 0 && first ? first[0] : String(field('last-generated-id'))
    if (compareIds(candidate, floor) > 0) floor = candidate
  }
  return floor
}
