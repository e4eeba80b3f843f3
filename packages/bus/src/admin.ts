/**
 * Housekeeping over a whole key prefix (tests use a random prefix per run and
 * remove it afterwards; operators can wipe a world's keys).
 */
import type { Redis } from 'ioredis'

/** Deletes every key under `<prefix>:` with SCAN + UNLINK; returns how many. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix))
    throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`)
  let cursor = '0'
  let n = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) n += await redis.unlink(...keys)
  } while (cursor !== '0')
  return n
}
