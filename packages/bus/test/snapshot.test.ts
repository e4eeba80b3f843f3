import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { createKeys, readSnapshot, writeSnapshot, type StoredSnapshot } from '../src/index.js'
import { openTestRedis, testPrefix, type TestRedis } from '../src/testing.js'

const prefix = testPrefix()
const keys = createKeys(prefix, 'tutoring')
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

describe('engine snapshot', () => {
  it('should read null before one is written, then the latest written', async () => {
    expect(await readSnapshot(redis, keys)).toBeNull()
    const s: StoredSnapshot = {
      engine: new TextEncoder().encode(JSON.stringify({ v: 1, text: 'é ✓' })),
      logId: '1700000000000-3',
      worldHash: 'ab'.repeat(32),
      world: 'tutoring',
      seed: 42,
      warmupHours: 240,
      startedAt: Date.UTC(2025, 1, 24),
      simTime: Date.UTC(2025, 1, 24, 2),
      takenAt: 1_700_000_000_123,
    }
    await writeSnapshot(redis, keys, s)
    expect(await readSnapshot(redis, keys)).toEqual(s)
    await writeSnapshot(redis, keys, { ...s, logId: '1700000000001-0', seed: 7 })
    expect(await readSnapshot(redis, keys)).toMatchObject({ logId: '1700000000001-0', seed: 7 })
  })

  it('should read null for an incomplete one', async () => {
    const k = createKeys(prefix, 'partial')
    await redis.hset(k.snapshot, { logId: '1-0', world: 'tutoring' })
    expect(await readSnapshot(redis, k)).toBeNull()
  })
})
