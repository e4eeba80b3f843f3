/**
 * For tests (`@verisim/bus/testing`): a Redis found as DESIGN.md "Running" says
 * (Testcontainers allowed), and a random key prefix removed afterwards.
 *
 * @example
 * const prefix = testPrefix()
 * let t: TestRedis
 * beforeAll(async () => { t = await openTestRedis(prefix) })
 * afterAll(() => t.close())
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { deletePrefix } from './admin.js'
import { discoverRedis, type RedisHandle } from './discovery.js'

export interface TestRedis {
  handle: RedisHandle
  redis: Redis
  /** Deletes every key under the prefix, disconnects, stops a Redis discovery started. */
  close(): Promise<void>
}

/** A fresh key prefix (`t<8 hex>`), so runs sharing a Redis never touch each other's keys. */
export function testPrefix(): string {
  return `t${randomBytes(4).toString('hex')}`
}

export async function openTestRedis(prefix: string): Promise<TestRedis> {
  const handle = await discoverRedis({ allowContainer: true })
  const redis = new Redis(handle.url)
  return {
    handle,
    redis,
    async close() {
      await deletePrefix(redis, prefix)
      redis.disconnect()
      await handle.stop()
    },
  }
}
