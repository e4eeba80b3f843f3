/**
 * The stream epoch: a random token stored in Redis beside the streams. When
 * Redis loses the streams (restarted empty), the token is gone too and a new
 * one is made, so clients can tell a real gap from a quiet period.
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { WorldKeys } from './keys.js'

export interface Epoch {
  epoch: string
  /** Ids at or below this belong to an earlier epoch. */
  floorId: string
}

/**
 * Returns the current epoch, creating one atomically when none exists.
 * `floorId` is the last id issued before this epoch began (`0-0` at first start).
 */
export async function ensureEpoch(redis: Redis, keys: WorldKeys, floorId: string): Promise<Epoch> {
  const fresh: Epoch = { epoch: randomBytes(8).toString('hex'), floorId }
  const prev = (await redis.call('SET', keys.epoch, JSON.stringify(fresh), 'NX', 'GET')) as
    string | null
  return prev === null ? fresh : (JSON.parse(prev) as Epoch)
}

export async function readEpoch(redis: Redis, keys: WorldKeys): Promise<Epoch | null> {
  const raw = await redis.get(keys.epoch)
  return raw === null ? null : (JSON.parse(raw) as Epoch)
}

/**
 * Begins a new epoch on purpose (a restore or a travel: a new timeline): in one
 * transaction, a new token with `floorId` (the last id issued before it) and the
 * channel streams deleted, so no reader sees an event of the old timeline after
 * the new token. Gateways find their consumer groups gone with the streams,
 * read the new token and close their clients to resume (`epoch_changed`).
 */
export async function replaceEpoch(
  redis: Redis,
  keys: WorldKeys,
  floorId: string,
  channels: readonly string[],
): Promise<Epoch> {
  const fresh: Epoch = { epoch: randomBytes(8).toString('hex'), floorId }
  const m = redis.multi().set(keys.epoch, JSON.stringify(fresh))
  if (channels.length > 0) m.del(...channels.map((c) => keys.channel(c)))
  await m.exec()
  return fresh
}
