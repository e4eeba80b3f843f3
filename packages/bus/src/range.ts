/**
 * Reading back a window of the total order across all channels: the catch-up
 * path for resuming clients, and what tests compare deliveries against.
 */
import type { Redis } from 'ioredis'
import { compareIds, formatId, parseId } from './ids.js'
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

/** The simulation timestamp inside an envelope, without parsing all of it ('' when absent). */
export function envelopeTimestamp(json: string): string {
  const at = json.indexOf('"timestamp":"')
  return at === -1 ? '' : json.slice(at + 13, json.indexOf('"', at + 13))
}

type Entry = [id: string, fields: string[]]

/** The simulation timestamp of a stream entry (its envelope field `e`). */
function entryTimestamp(entry: Entry): string {
  const fields = entry[1]
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'e') return envelopeTimestamp(fields[i + 1] as string)
  }
  return ''
}

/**
 * The last entry of one channel with `id <= upTo` whose simulation time is at
 * or before `limit` (an ISO string as `toISOString` writes it), found by
 * binary search with `XRANGE … COUNT 1` probes; O(log(ms span) + log(seq
 * span)) round trips, never a scan. Relies on simulation time being monotone
 * in id order.
 *
 * Invariant: `lo` is an entry at or before `limit`; every entry with
 * `id >= hi` (exclusive bound) is after it. Each probe reads the first entry
 * in `[mid, hi)`: none or after `limit` moves `hi` to `mid`; at or before it
 * moves `lo` to that entry. `mid` halves the millisecond gap first, then the
 * sequence gap within one millisecond; when `lo` and `hi` sit in adjacent
 * milliseconds with `hi` at `<ms>-0`, one reverse probe reads the last entry
 * of `lo`'s millisecond, which bounds its sequence numbers.
 */
async function lastAtOrBeforeInChannel(
  redis: Redis,
  key: string,
  limit: string,
  upTo: string,
): Promise<string | null> {
  const first = (await redis.xrange(key, '-', upTo, 'COUNT', 1))[0] as Entry | undefined
  if (!first || entryTimestamp(first) > limit) return null
  const last = (await redis.xrevrange(key, upTo, '-', 'COUNT', 1))[0] as Entry
  if (entryTimestamp(last) <= limit) return last[0]
  let lo = parseId(first[0])
  let hi = parseId(last[0])
  for (;;) {
    let mid: string
    if (lo.ms === hi.ms) {
      if (hi.seq - lo.seq <= 1) return formatId(lo)
      mid = `${lo.ms}-${Math.floor((lo.seq + hi.seq) / 2)}`
    } else if (hi.ms - lo.ms >= 2) {
      mid = `${Math.floor((lo.ms + hi.ms) / 2)}-0`
    } else if (hi.seq > 0) {
      mid = `${hi.ms}-0`
    } else {
      // hi = (lo.ms + 1)-0: what lies between is the rest of lo's millisecond.
      const tail = (
        await redis.xrevrange(key, `(${formatId(hi)}`, `(${formatId(lo)}`, 'COUNT', 1)
      )[0] as Entry | undefined
      if (!tail) return formatId(lo)
      if (entryTimestamp(tail) <= limit) return tail[0]
      hi = parseId(tail[0])
      continue
    }
    const probe = (await redis.xrange(key, mid, `(${formatId(hi)}`, 'COUNT', 1))[0] as
      Entry | undefined
    if (probe && entryTimestamp(probe) <= limit) lo = parseId(probe[0])
    else hi = parseId(mid)
  }
}

/**
 * Id of the last stored event (over every channel, `id <= upTo`) whose
 * simulation time is at or before `iso`, or `null` when there is none. Each
 * channel is binary-searched on its own (simulation time is monotone in id
 * order, so the answer is the highest of the channels' answers): a few dozen
 * `XRANGE … COUNT 1` probes per channel, whatever the number of stored events.
 *
 * @example
 * await findIdAtOrBefore(redis, keys, channels, '2026-11-23T10:15:00.000Z', frontier)
 * // '1764000000000-12' (or null when every stored event is later)
 */
export async function findIdAtOrBefore(
  redis: Redis,
  keys: WorldKeys,
  channels: readonly string[],
  iso: string,
  upTo: string,
): Promise<string | null> {
  const limit = new Date(iso).toISOString()
  const found = await Promise.all(
    channels.map((ch) => lastAtOrBeforeInChannel(redis, keys.channel(ch), limit, upTo)),
  )
  let best: string | null = null
  for (const id of found) if (id !== null && (best === null || compareIds(id, best) > 0)) best = id
  return best
}
