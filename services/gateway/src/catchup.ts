/**
 * Catch-up for a resuming client: decide whether its resume point can be
 * honoured (same epoch, not trimmed away), then read the missed window
 * `(lastId, frontier]` from Redis page by page, filtered to its topics.
 */
import type { Redis } from 'ioredis'
import type { MatchableEvent } from '@verisim/schema'
import {
  compareIds,
  findIdAtOrBefore,
  lastStoredId,
  readEpoch,
  readRange,
  retentionFloor,
  type RawEvent,
  type WorldKeys,
} from '@verisim/bus'

export { envelopeTimestamp } from '@verisim/bus'

export type ResumePoint = { lastId: string } | { lastTimestamp: string }

export type CatchupPlan =
  | { kind: 'replay'; after: string | null; upTo: string }
  /** The client is at or past the frontier: nothing to send, live starts after `after`. */
  | { kind: 'current'; after: string }
  | { kind: 'lost'; reason: 'too_old' | 'epoch_changed' }

export interface CatchupContext {
  redis: Redis
  keys: WorldKeys
  channels: readonly string[]
  pageSize?: number
}

export async function planCatchup(
  ctx: CatchupContext,
  point: ResumePoint,
  frontier: string,
): Promise<CatchupPlan> {
  const epoch = await readEpoch(ctx.redis, ctx.keys)
  if (epoch === null) return { kind: 'lost', reason: 'epoch_changed' }
  const trimmed = await retentionFloor(ctx.redis, ctx.keys, ctx.channels)

  if ('lastTimestamp' in point) {
    // Binary search over the channel streams (O(log n) probes), never a scan.
    const after = await findIdAtOrBefore(
      ctx.redis,
      ctx.keys,
      ctx.channels,
      point.lastTimestamp,
      frontier,
    )
    if (after === null && compareIds(trimmed, '0-0') > 0) return { kind: 'lost', reason: 'too_old' }
    return { kind: 'replay', after, upTo: frontier }
  }

  const { lastId } = point
  if (compareIds(lastId, epoch.floorId) <= 0) return { kind: 'lost', reason: 'epoch_changed' }
  if (compareIds(lastId, trimmed) < 0) return { kind: 'lost', reason: 'too_old' }
  if (compareIds(lastId, frontier) >= 0) {
    // Ahead of this gateway (seen through a faster instance) is fine; ahead of
    // everything stored means the id comes from streams that no longer exist.
    const stored = await lastStoredId(ctx.redis, ctx.keys, ctx.channels)
    if (stored === null || compareIds(lastId, stored) > 0) {
      return { kind: 'lost', reason: 'epoch_changed' }
    }
    return { kind: 'current', after: lastId }
  }
  return { kind: 'replay', after: lastId, upTo: frontier }
}

/** Pages of missed events matching the client's topics, in id order. */
export async function* replay(
  ctx: CatchupContext,
  after: string | null,
  upTo: string,
  match: (e: MatchableEvent) => boolean,
): AsyncGenerator<{ events: RawEvent[]; lastId: string | null; done: boolean }> {
  const pageSize = ctx.pageSize ?? 1000
  let cursor = after
  for (;;) {
    const page = await readRange(ctx.redis, ctx.keys, ctx.channels, cursor, upTo, pageSize)
    const last = page.events[page.events.length - 1]
    if (last) cursor = last.id
    const done = !page.more || page.events.length === 0
    yield { events: page.events.filter(match), lastId: cursor, done }
    if (done) return
  }
}
