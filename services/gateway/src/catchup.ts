/**
 * Catch-up for a resuming client: decide whether its resume point can be
 * honoured (same epoch, not trimmed away), then read the missed window
 * `(lastId, frontier]` from Redis page by page, filtered to its topics.
 */
import type { Redis } from 'ioredis'
import type { MatchableEvent } from '@verisim/schema'
import {
  compareIds,
  lastStoredId,
  readEpoch,
  readRange,
  retentionFloor,
  type RawEvent,
  type WorldKeys,
} from '@verisim/bus'

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

/** The simulation timestamp inside an envelope, without parsing all of it. */
export function envelopeTimestamp(json: string): string {
  const at = json.indexOf('"timestamp":"')
  return at === -1 ? '' : json.slice(at + 13, json.indexOf('"', at + 13))
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
    const after = await findIdBefore(ctx, point.lastTimestamp, frontier)
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

/** Id of the last stored event whose simulation time is at or before `iso` (null if none). */
async function findIdBefore(
  ctx: CatchupContext,
  iso: string,
  upTo: string,
): Promise<string | null> {
  const limit = new Date(iso).toISOString()
  let after: string | null = null
  let found: string | null = null
  for (;;) {
    const page = await readRange(ctx.redis, ctx.keys, ctx.channels, after, upTo, 2000)
    for (const e of page.events) {
      if (envelopeTimestamp(e.json) > limit) return found
      found = e.id
    }
    if (!page.more || page.events.length === 0) return found
    after = (page.events[page.events.length - 1] as RawEvent).id
  }
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
