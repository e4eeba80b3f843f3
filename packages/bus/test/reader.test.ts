import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import {
  GroupReader,
  compareIds,
  createIdSequence,
  createKeys,
  createStreamWriter,
  ensureEpoch,
  lastStoredId,
  readEpoch,
  readRange,
  retentionFloor,
  type RawEvent,
  type RedisHandle,
} from '../src/index.js'
import { openTestRedis, testPrefix } from '../src/testing.js'

const CHANNELS = ['customer', 'tutor', 'session', 'support', 'marketing', 'system']

let handle: RedisHandle
let redis: Redis
let close: () => Promise<void>
const prefix = testPrefix()
const keys = createKeys(prefix, 'tutoring')

beforeAll(async () => {
  ;({ handle, redis, close } = await openTestRedis(prefix))
})
afterAll(() => close())

/** Deterministic pseudo-random events spread over the channels, in id order. */
function makeEvents(n: number, ids: ReturnType<typeof createIdSequence>, seed: number): RawEvent[] {
  let x = seed
  const out: RawEvent[] = []
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    const channel = CHANNELS[x % CHANNELS.length]!
    const id = ids.next(1_700_000_000_000 + Math.floor(i / 7))
    out.push({ id, channel, stream: `${channel}.x`, anomalyFlag: 'normal', json: `{"id":"${id}"}` })
  }
  return out
}

describe('GroupReader', () => {
  it('should release every event exactly once in strictly increasing id order while the writer runs', async () => {
    const writer = createStreamWriter({ redis, keys, maxLen: 1_000_000 })
    const ids = createIdSequence()
    const released: string[] = []
    const readerRedis = new Redis(handle.url, { maxRetriesPerRequest: null })
    const reader = new GroupReader({
      redis: readerRedis,
      keys,
      channels: CHANNELS,
      group: 'gw:test',
      consumer: 'c1',
      count: 37, // small, so channels fill their COUNT and the frontier rule matters
      blockMs: 50,
      onEvents: (events) => {
        for (const e of events) released.push(e.id)
      },
    })
    await reader.start()
    const written: string[] = []
    for (let batch = 0; batch < 60; batch++) {
      const events = makeEvents(1 + ((batch * 37) % 250), ids, batch + 1)
      await writer.write(events)
      for (const e of events) written.push(e.id)
      if (batch % 5 === 0) await new Promise((r) => setTimeout(r, 5))
    }
    const deadline = Date.now() + 10_000
    while (released.length < written.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    const closed = reader.close()
    readerRedis.disconnect()
    await closed
    for (let i = 1; i < released.length; i++) {
      expect(compareIds(released[i]!, released[i - 1]!), `at ${i}`).toBeGreaterThan(0)
    }
    expect(released).toEqual(written)
    expect(reader.frontier).toBe(written[written.length - 1])
    // Everything delivered was acknowledged.
    const pending = await Promise.all(
      CHANNELS.map((c) => redis.xpending(keys.channel(c), 'gw:test')),
    )
    expect(pending.map((p) => (p as [number])[0])).toEqual(CHANNELS.map(() => 0))
  })
})

describe('range reads', () => {
  it('should merge channels in id order and page without gaps or repeats', async () => {
    const k = createKeys(prefix, 'range')
    const writer = createStreamWriter({ redis, keys: k, maxLen: 1_000_000 })
    const events = makeEvents(500, createIdSequence(), 7)
    await writer.write(events)
    const last = events[events.length - 1]!.id
    expect(await lastStoredId(redis, k, CHANNELS)).toBe(last)
    const seen: string[] = []
    let after: string | null = null
    for (;;) {
      const page = await readRange(redis, k, CHANNELS, after, last, 64)
      seen.push(...page.events.map((e) => e.id))
      if (!page.more) break
      after = page.events[page.events.length - 1]!.id
    }
    expect(seen).toEqual(events.map((e) => e.id))
    const from = events[100]!.id
    const upTo = events[200]!.id
    const window = await readRange(redis, k, CHANNELS, from, upTo, 1000)
    expect(window.events.map((e) => e.id)).toEqual(events.slice(101, 201).map((e) => e.id))
  })

  it('should report the oldest retained id as the floor once MAXLEN removed entries', async () => {
    const k = createKeys(prefix, 'trim')
    expect(await retentionFloor(redis, k, CHANNELS)).toBe('0-0')
    const writer = createStreamWriter({ redis, keys: k, maxLen: 100 })
    const ids = createIdSequence()
    const events: RawEvent[] = []
    for (let i = 0; i < 2000; i++) {
      const id = ids.next(1000 + i)
      events.push({
        id,
        channel: 'customer',
        stream: 'customer.x',
        anomalyFlag: 'normal',
        json: '{}',
      })
    }
    await writer.write(events)
    const trimmed = await retentionFloor(redis, k, CHANNELS)
    expect(compareIds(trimmed, '0-0')).toBeGreaterThan(0)
    const first = (await redis.xrange(k.channel('customer'), '-', '+', 'COUNT', 1))[0]![0]
    expect(trimmed).toBe(first)
    expect(compareIds(trimmed, events[0]!.id)).toBeGreaterThan(0)
  })
})

describe('epoch', () => {
  it('should create an epoch once and keep it until the key is lost', async () => {
    const k = createKeys(prefix, 'epoch')
    const a = await ensureEpoch(redis, k, '0-0')
    const b = await ensureEpoch(redis, k, '5-0')
    expect(b).toEqual(a)
    expect(await readEpoch(redis, k)).toEqual(a)
    await redis.del(k.epoch)
    const c = await ensureEpoch(redis, k, '9-0')
    expect(c.epoch).not.toBe(a.epoch)
    expect(c.floorId).toBe('9-0')
  })
})
