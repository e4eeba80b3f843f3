/**
 * The running world's description in Redis (`keys.worldDescription`): the generator
 * writes it at start, gateways read it for `GET /api/world`. A hash of the
 * JSON and a digest of it (`rev`), so a reader keeps the parsed description
 * and only asks for the small `rev` on each read: a generator that restarts
 * with another world config, or rewrites it after Redis lost its data, changes
 * the digest and the reader loads it again.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { WorldDescription } from '@verisim/schema'
import type { WorldKeys } from './keys.js'

const FIELD_JSON = 'json'
const FIELD_REV = 'rev'

/** Stores the description; returns its `rev` (a digest of the JSON). */
export async function writeWorldDescription(
  redis: Redis,
  keys: WorldKeys,
  description: WorldDescription,
): Promise<string> {
  const json = JSON.stringify(description)
  const rev = createHash('sha256').update(json).digest('hex').slice(0, 16)
  await redis.hset(keys.worldDescription, FIELD_REV, rev, FIELD_JSON, json)
  return rev
}

export interface WorldDescriptionReader {
  /** The stored description, or null when the generator has not written one (yet). */
  read(): Promise<WorldDescription | null>
}

/**
 * A reader that parses the description once per `rev`.
 *
 * @example
 * const world = createWorldDescriptionReader(redis, keys)
 * const d = await world.read() // null until the generator has started
 */
export function createWorldDescriptionReader(
  redis: Redis,
  keys: WorldKeys,
): WorldDescriptionReader {
  let cached: { rev: string; description: WorldDescription } | null = null
  return {
    async read() {
      const rev = await redis.hget(keys.worldDescription, FIELD_REV)
      if (rev === null) return null
      if (cached?.rev === rev) return cached.description
      const [now, json] = await redis.hmget(keys.worldDescription, FIELD_REV, FIELD_JSON)
      if (!now || !json) return null
      const description = JSON.parse(json) as WorldDescription
      cached = { rev: now, description }
      return description
    },
  }
}
