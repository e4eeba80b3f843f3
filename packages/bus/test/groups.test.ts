import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import {
  CLEANUP_CONSUMER,
  GroupReader,
  compareIds,
  createIdSequence,
  createKeys,
  createStreamWriter,
  destroyGroup,
  findZombieGroups,
  groupName,
  instanceOfGroup,
  listChannelKeys,
  listConsumers,
  listGroups,
  retentionFloor,
  trimStreams,
  type RawEvent,
  type RedisHandle,
} from '../src/index.js'
import { openTestRedis, testPrefix } from '../src/testing.js'

const CHANNELS = ['customer', 'session', 'system']

let handle: RedisHandle
let redis: Redis
let close: () => Promise<void>
const prefix = testPrefix()

beforeAll(async () => {
  ;({ handle, redis, close } = await openTestRedis(prefix))
})
afterAll(() => close())

function events(n: number, ids: ReturnType<typeof createIdSequence>, at: () => number): RawEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const channel = CHANNELS[i % CHANNELS.length]!
    const id = ids.next(at())
    return { id, channel, stream: `${channel}.x`, anomalyFlag: 'normal', json: `{"id":"${id}"}` }
  })
}

/** Makes group `gw:<instance>` on every channel and has consumer `<instance>` read `n` entries without acking. */
async function readWithoutAck(keys: ReturnType<typeof createKeys>, instance: string) {
  for (const ch of CHANNELS)
    await redis.xgroup('CREATE', keys.channel(ch), groupName(instance), '0-0', 'MKSTREAM')
  await redis.call(
    'XREADGROUP',
    'GROUP',
    groupName(instance),
    instance,
    'COUNT',
    '1000',
    'STREAMS',
    ...CHANNELS.map((c) => keys.channel(c)),
    ...CHANNELS.map(() => '>'),
  )
}

describe('consumer group housekeeping', () => {
  it('should name groups after instances and back', () => {
    expect(groupName('a-1')).toBe('gw:a-1')
    expect(instanceOfGroup('gw:a-1')).toBe('a-1')
    expect(instanceOfGroup('other')).toBeNull()
    expect(instanceOfGroup('gw:')).toBeNull()
  })

  it('should find only groups of instances whose heartbeat is gone and whose consumers are idle', async () => {
    const keys = createKeys(prefix, 'zombies')
    const writer = createStreamWriter({ redis, keys, maxLen: 10_000 })
    await writer.write(events(30, createIdSequence(), Date.now))
    await readWithoutAck(keys, 'dead')
    await readWithoutAck(keys, 'alive')
    await readWithoutAck(keys, 'late') // no heartbeat, but served just now
    await redis.xgroup('CREATE', keys.channel('customer'), 'not-a-gateway', '0-0')
    await redis.set(keys.gatewayHeartbeat('alive'), '1', 'EX', 15)

    expect(await listChannelKeys(redis, keys)).toEqual(CHANNELS.map((c) => keys.channel(c)).sort())
    const groups = await listGroups(redis, [keys.channel('customer')])
    expect(groups.map((g) => g.name).sort()).toEqual([
      'gw:alive',
      'gw:dead',
      'gw:late',
      'not-a-gateway',
    ])
    expect(groups.find((g) => g.name === 'gw:dead')).toMatchObject({ consumers: 1, pending: 10 })

    // With a 0 ms idle bound every silent instance counts; with a long one none does yet.
    const all = await findZombieGroups(redis, keys, { minIdleMs: 0 })
    expect(all.map((z) => z.instanceId).sort()).toEqual(['dead', 'late'])
    expect(all.find((z) => z.instanceId === 'dead')).toMatchObject({
      group: 'gw:dead',
      pending: 30,
    })
    expect(all.find((z) => z.instanceId === 'dead')!.keys.sort()).toEqual(
      CHANNELS.map((c) => keys.channel(c)).sort(),
    )
    expect(await findZombieGroups(redis, keys, { minIdleMs: 60_000 })).toEqual([])
  })

  it('should claim and ack pending entries before removing consumers and the group', async () => {
    const keys = createKeys(prefix, 'destroy')
    const writer = createStreamWriter({ redis, keys, maxLen: 10_000 })
    await writer.write(events(3000, createIdSequence(), Date.now))
    await readWithoutAck(keys, 'dead')
    const key = keys.channel('customer')
    expect((await listConsumers(redis, key, 'gw:dead'))[0]).toMatchObject({
      name: 'dead',
      pending: 1000,
    })
    // Batches smaller than the pending list make it page through XAUTOCLAIM.
    const result = await destroyGroup(redis, key, 'gw:dead', { batch: 64 })
    expect(result).toEqual({ acked: 1000, consumers: 2, destroyed: true }) // `dead` and the claimer
    expect((await listGroups(redis, [key])).map((g) => g.name)).toEqual([])
    expect(await destroyGroup(redis, key, 'gw:dead')).toEqual({
      acked: 0,
      consumers: 0,
      destroyed: false,
    })
    expect(await destroyGroup(redis, keys.channel('nope'), 'gw:dead')).toEqual({
      acked: 0,
      consumers: 0,
      destroyed: false,
    })
    expect(CLEANUP_CONSUMER).toBe('verisim-cleanup')
  })

  it('should trim by id and keep the retention floor safe when a channel is emptied', async () => {
    const keys = createKeys(prefix, 'trim')
    const writer = createStreamWriter({ redis, keys, maxLen: 1_000_000 })
    const ids = createIdSequence()
    let t = 1000
    const old = events(900, ids, () => (t += 1)) // all three channels, times 1001…1900
    await writer.write(old)
    expect(await retentionFloor(redis, keys, CHANNELS)).toBe('0-0')
    t = 10_000
    const recent = events(20, ids, () => (t += 1)).map((e, i) => ({
      ...e,
      channel: CHANNELS[i % 2]!,
    }))
    await writer.write(recent)
    const removed = await trimStreams(
      redis,
      CHANNELS.map((c) => keys.channel(c)),
      { minId: '5000-0' },
    )
    expect(removed).toBeGreaterThan(0)
    expect(await redis.xlen(keys.channel('system'))).toBe(0) // every entry was older than the cut
    const floor = await retentionFloor(redis, keys, CHANNELS)
    const lastSystem = old.filter((e) => e.channel === 'system').at(-1)!.id
    expect(compareIds(floor, lastSystem)).toBeGreaterThanOrEqual(0) // the emptied channel counts
    // Safe: every event after the floor is still stored, so a resume at or above it loses nothing.
    const stored = new Set<string>()
    for (const c of CHANNELS)
      for (const [id] of await redis.xrange(keys.channel(c), '-', '+')) stored.add(id)
    const all = [...old, ...recent]
    const at = all.findIndex((e) => e.id === floor)
    expect(at).toBeGreaterThanOrEqual(0)
    expect(all.slice(at + 1).filter((e) => !stored.has(e.id))).toEqual([])
    expect(all.slice(0, at + 1).some((e) => !stored.has(e.id))).toBe(true)
  })

  it('should make its groups fresh at start and recreate them where onGroupsLost says', async () => {
    const keys = createKeys(prefix, 'lost')
    const writer = createStreamWriter({ redis, keys, maxLen: 100_000 })
    const ids = createIdSequence()
    await writer.write(events(10, ids, Date.now))
    // A predecessor with the same name left a group behind, positioned at the start with pending entries.
    await readWithoutAck(keys, 'same')
    const released: string[] = []
    const lostAt: (string | null)[] = []
    const readerRedis = new Redis(handle.url, { maxRetriesPerRequest: null })
    const reader = new GroupReader({
      redis: readerRedis,
      keys,
      channels: CHANNELS,
      group: groupName('same'),
      consumer: 'same',
      blockMs: 50,
      onEvents: (list) => void released.push(...list.map((e) => e.id)),
      onGroupsLost: (frontier) => {
        lostAt.push(frontier)
        return frontier ?? '0-0'
      },
    })
    await reader.start()
    // Fresh: nothing pending from the predecessor, and it starts after what is stored.
    expect((await listGroups(redis, [keys.channel('customer')]))[0]).toMatchObject({
      pending: 0,
      consumers: 0,
    })
    const first = events(30, ids, Date.now)
    await writer.write(first)
    const wait = async (n: number) => {
      const deadline = Date.now() + 5000
      while (released.length < n && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20))
    }
    await wait(30)
    expect(released).toEqual(first.map((e) => e.id))
    // The group disappears (as if a cleanup job took the instance for dead).
    await destroyGroup(redis, keys.channel('session'), groupName('same'))
    const second = events(30, ids, Date.now)
    await writer.write(second)
    await wait(60)
    const closed = reader.close()
    readerRedis.disconnect()
    await closed
    expect(lostAt).toEqual([first.at(-1)!.id])
    expect(released).toEqual([...first, ...second].map((e) => e.id))
  })
})
