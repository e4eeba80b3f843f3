import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import type { WorldDescription } from '@verisim/schema'
import { createKeys, createWorldDescriptionReader, writeWorldDescription } from '../src/index.js'
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

const world = (actions: string[]): WorldDescription => ({
  id: 'tutoring',
  model: 'chain',
  description: 'd',
  channels: ['customer'],
  streams: [],
  segments: [],
  actions: actions.map((name) => ({ name, description: name, payload: { type: 'object' } })),
  statsKeys: ['entities'],
  warmupHours: 0,
})

describe('world description', () => {
  it('should read null before the generator wrote it, then what it wrote', async () => {
    const reader = createWorldDescriptionReader(redis, keys)
    expect(await reader.read()).toBeNull()
    const rev = await writeWorldDescription(redis, keys, world(['a']))
    expect(rev).toMatch(/^[0-9a-f]{16}$/)
    expect(await reader.read()).toEqual(world(['a']))
  })

  it('should parse once per rev and load again when the description changes', async () => {
    const reader = createWorldDescriptionReader(redis, keys)
    await writeWorldDescription(redis, keys, world(['a']))
    const first = await reader.read()
    expect(await reader.read()).toBe(first) // the cached object
    // the same content again (a restart with the same world) keeps the rev
    expect(await writeWorldDescription(redis, keys, world(['a']))).toBe(
      await redis.hget(keys.worldDescription, 'rev'),
    )
    expect(await reader.read()).toBe(first)
    await writeWorldDescription(redis, keys, world(['a', 'b']))
    expect((await reader.read())?.actions.map((a) => a.name)).toEqual(['a', 'b'])
    await redis.del(keys.worldDescription) // Redis lost its data
    expect(await reader.read()).toBeNull()
  })
})
