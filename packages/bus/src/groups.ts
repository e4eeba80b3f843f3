/**
 * Housekeeping of the gateways' consumer groups and of the channel streams:
 * finding the groups of gateway instances that died (zombies), destroying them
 * without discarding pending entries blindly, and trimming streams to the
 * retention window. The cleanup job of the generator drives these; they hold
 * no state of their own.
 */
import type { Redis } from 'ioredis'
import { compareIds } from './ids.js'
import {
  GATEWAY_HEARTBEAT_EVERY_MS,
  GATEWAY_HEARTBEAT_TTL_S,
  instanceOfGroup,
  type WorldKeys,
} from './keys.js'

export interface GroupInfo {
  /** Stream key the group reads. */
  key: string
  name: string
  consumers: number
  /** Entries delivered to the group's consumers and not yet acknowledged. */
  pending: number
  lastDeliveredId: string
}

export interface ConsumerInfo {
  name: string
  pending: number
  /** Milliseconds since the consumer was last served entries (Redis < 7.2) or last interacted. */
  idleMs: number
}

/** A dead gateway instance: its heartbeat key is gone and its consumers are idle. */
export interface ZombieInstance {
  instanceId: string
  group: string
  /** The stream keys holding a group of that name. */
  keys: string[]
  /** Pending entries over all those keys. */
  pending: number
}

export interface DestroyResult {
  /** Pending entries claimed from dead consumers and acknowledged. */
  acked: number
  /** Consumers removed (each with no pending entry left). */
  consumers: number
  /** Whether the group existed and was destroyed. */
  destroyed: boolean
}

/**
 * A live gateway's consumers are served at least as often as its channels have
 * events; after a heartbeat key is gone the instance has been silent for at
 * least TTL − refresh interval, so a consumer served more recently than that
 * belongs to an instance that is still reading (its heartbeat write is late).
 */
export const ZOMBIE_MIN_IDLE_MS = GATEWAY_HEARTBEAT_TTL_S * 1000 - GATEWAY_HEARTBEAT_EVERY_MS

/** Consumer that takes over pending entries of dead consumers while their group is removed. */
export const CLEANUP_CONSUMER = 'verisim-cleanup'

/** Every channel stream key of the world (SCAN, so streams outside the catalog count too). */
export async function listChannelKeys(redis: Redis, keys: WorldKeys): Promise<string[]> {
  const found = new Set<string>()
  let cursor = '0'
  do {
    const [next, batch] = (await redis.call(
      'SCAN',
      cursor,
      'MATCH',
      keys.channelPattern,
      'COUNT',
      '1000',
      'TYPE',
      'stream',
    )) as [string, string[]]
    cursor = next
    for (const k of batch) found.add(k)
  } while (cursor !== '0')
  return [...found].sort()
}

/** Turns a flat `[field, value, field, value…]` reply into a record. */
function record(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (!Array.isArray(reply)) return out
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1]
  return out
}

function isMissing(err: unknown): boolean {
  return /no such key|NOGROUP/i.test(String((err as Error)?.message ?? err))
}

/** The consumer groups on the given stream keys (keys that vanished are skipped). */
export async function listGroups(
  redis: Redis,
  streamKeys: readonly string[],
): Promise<GroupInfo[]> {
  if (streamKeys.length === 0) return []
  const p = redis.pipeline()
  for (const key of streamKeys) p.call('XINFO', 'GROUPS', key)
  const results = (await p.exec()) ?? []
  const out: GroupInfo[] = []
  results.forEach(([err, reply], i) => {
    if (err) {
      if (isMissing(err)) return
      throw err
    }
    for (const g of reply as unknown[]) {
      const r = record(g)
      out.push({
        key: streamKeys[i] as string,
        name: String(r.name),
        consumers: Number(r.consumers),
        pending: Number(r.pending),
        lastDeliveredId: String(r['last-delivered-id']),
      })
    }
  })
  return out
}

/** The consumers of one group (empty when the group or stream is gone). */
export async function listConsumers(
  redis: Redis,
  key: string,
  group: string,
): Promise<ConsumerInfo[]> {
  let reply: unknown
  try {
    reply = await redis.call('XINFO', 'CONSUMERS', key, group)
  } catch (err) {
    if (isMissing(err)) return []
    throw err
  }
  return (reply as unknown[]).map((c) => {
    const r = record(c)
    return { name: String(r.name), pending: Number(r.pending), idleMs: Number(r.idle) }
  })
}

/**
 * Gateway groups (`gw:<instanceId>`) whose instance's heartbeat key is gone and
 * whose consumers have all been idle for at least `minIdleMs` (or that have no
 * consumer at all). Groups that no gateway made are never reported.
 */
export async function findZombieGroups(
  redis: Redis,
  keys: WorldKeys,
  opts: { minIdleMs?: number; streamKeys?: readonly string[] } = {},
): Promise<ZombieInstance[]> {
  const minIdle = opts.minIdleMs ?? ZOMBIE_MIN_IDLE_MS
  const streamKeys = opts.streamKeys ?? (await listChannelKeys(redis, keys))
  const byGroup = new Map<string, { instanceId: string; groups: GroupInfo[] }>()
  for (const g of await listGroups(redis, streamKeys)) {
    const instanceId = instanceOfGroup(g.name)
    if (instanceId === null) continue
    let entry = byGroup.get(g.name)
    if (!entry) byGroup.set(g.name, (entry = { instanceId, groups: [] }))
    entry.groups.push(g)
  }
  if (byGroup.size === 0) return []
  const candidates = [...byGroup.entries()]
  const p = redis.pipeline()
  for (const [, { instanceId }] of candidates) p.exists(keys.gatewayHeartbeat(instanceId))
  const alive = ((await p.exec()) ?? []).map(([err, n]) => {
    if (err) throw err
    return Number(n) > 0
  })
  const zombies: ZombieInstance[] = []
  for (let i = 0; i < candidates.length; i++) {
    if (alive[i]) continue
    const [group, { instanceId, groups }] = candidates[i] as [
      string,
      { instanceId: string; groups: GroupInfo[] },
    ]
    let recent = false
    for (const g of groups) {
      if (g.consumers === 0) continue
      const consumers = await listConsumers(redis, g.key, group)
      if (consumers.some((c) => c.idleMs < minIdle)) {
        recent = true
        break
      }
    }
    if (recent) continue
    zombies.push({
      instanceId,
      group,
      keys: groups.map((g) => g.key),
      pending: groups.reduce((n, g) => n + g.pending, 0),
    })
  }
  return zombies
}

/**
 * Removes one consumer group from one stream without discarding pending
 * entries blindly (`XGROUP DELCONSUMER` would): every pending entry is first
 * claimed by {@link CLEANUP_CONSUMER} with `XAUTOCLAIM … JUSTID` and
 * acknowledged, then each consumer (now with nothing pending) is deleted, then
 * the group is destroyed. A group or stream that is already gone is not an error.
 */
export async function destroyGroup(
  redis: Redis,
  key: string,
  group: string,
  opts: { batch?: number } = {},
): Promise<DestroyResult> {
  const batch = String(opts.batch ?? 1000)
  let acked = 0
  try {
    let cursor = '0-0'
    for (;;) {
      const reply = (await redis.call(
        'XAUTOCLAIM',
        key,
        group,
        CLEANUP_CONSUMER,
        '0',
        cursor,
        'COUNT',
        batch,
        'JUSTID',
      )) as [string, string[], string[]?]
      const [next, ids] = reply
      if (ids.length > 0) acked += await redis.xack(key, group, ...ids)
      if (next === '0-0' || compareIds(next, cursor) <= 0) break
      cursor = next
    }
    let consumers = 0
    for (const c of await listConsumers(redis, key, group)) {
      await redis.call('XGROUP', 'DELCONSUMER', key, group, c.name)
      consumers++
    }
    const destroyed = Number(await redis.call('XGROUP', 'DESTROY', key, group)) > 0
    return { acked, consumers, destroyed }
  } catch (err) {
    if (isMissing(err)) return { acked, consumers: 0, destroyed: false }
    throw err
  }
}

export interface TrimOptions {
  /** `MAXLEN ~ maxLen` per stream (the writer's own bound, applied to streams it has not written lately). */
  maxLen?: number
  /** `MINID ~ minId`: drops entries older than this id (ids carry the write time in ms). */
  minId?: string
}

/**
 * Trims the given streams; returns the number of entries removed. Approximate
 * (`~`) trimming removes whole radix-tree nodes only, so it stays cheap; the
 * gateway's {@link retentionFloor} reads what was actually removed.
 */
export async function trimStreams(
  redis: Redis,
  streamKeys: readonly string[],
  opts: TrimOptions,
): Promise<number> {
  if (streamKeys.length === 0 || (opts.maxLen === undefined && opts.minId === undefined)) return 0
  const p = redis.pipeline()
  for (const key of streamKeys) {
    if (opts.maxLen !== undefined) p.xtrim(key, 'MAXLEN', '~', opts.maxLen)
    if (opts.minId !== undefined) p.xtrim(key, 'MINID', '~', opts.minId)
  }
  let removed = 0
  for (const [err, n] of (await p.exec()) ?? []) {
    if (err) throw err
    removed += Number(n)
  }
  return removed
}
