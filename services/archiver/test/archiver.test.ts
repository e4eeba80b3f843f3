/**
 * The archiver against a real Redis and a PostgreSQL of its own (started from
 * PATH, so the test can crash it): every event archived once, acknowledged only
 * after commit, nothing lost or doubled through SIGKILLs of the archiver and a
 * crash of PostgreSQL, and the streams replaced by a new epoch followed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import {
  ArchiveStore,
  discoverPostgres,
  migrateArchive,
  type PostgresHandle,
} from '@verisim/archive'
import { createKeys, replaceEpoch, type WorldKeys } from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import { Archiver } from '../src/ingest.js'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const CHANNELS = ['customer', 'session', 'simulation_control']
const silent = pino({ level: 'silent' })

let t: TestRedis
let pgh: PostgresHandle
const prefix = testPrefix()
let schemaN = 0

beforeAll(async () => {
  t = await openTestRedis(prefix)
  // A server of this test's own (not the shared one): the fault test crashes it.
  pgh = await discoverPostgres({
    env: { PATH: process.env.PATH },
    defaultUrl: 'postgres://postgres@127.0.0.1:1/postgres',
  })
}, 60_000)
afterAll(async () => {
  await t?.close()
  await pgh?.stop()
})

async function freshArchive(): Promise<{ schema: string; store: ArchiveStore }> {
  const schema = `a${++schemaN}`
  await migrateArchive(pgh.url, { schema })
  return { schema, store: new ArchiveStore({ url: pgh.url, schema }) }
}

/** Publishes `n` events round-robin over the channels, as the generator writes them. */
async function publish(redis: Redis, keys: WorldKeys, n: number, from = 0): Promise<void> {
  const p = redis.pipeline()
  for (let i = from; i < from + n; i++) {
    const channel = CHANNELS[i % CHANNELS.length] as string
    const ts = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()
    const e = JSON.stringify({
      world: 'tutoring',
      stream: `${channel}.x`,
      channel,
      timestamp: ts,
      data: { studentId: `s_${i % 50}`, n: i },
    })
    p.xadd(keys.channel(channel), '*', 's', `${channel}.x`, 'f', 'normal', 'e', e)
  }
  await p.exec()
}

/** Every id the streams hold, per channel. */
async function streamIds(redis: Redis, keys: WorldKeys): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  for (const c of CHANNELS) {
    const entries = (await redis.xrange(keys.channel(c), '-', '+')) as [string, string[]][]
    out.set(
      c,
      entries.map(([id]) => id),
    )
  }
  return out
}

async function until<T>(what: string, f: () => Promise<T | null | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== null && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function startArchiver(keys: WorldKeys, store: ArchiveStore, consumer = 'a1'): Archiver {
  const conn = new Redis(t.handle.url, { maxRetriesPerRequest: null })
  conn.on('error', () => undefined)
  const a = new Archiver({
    redis: conn,
    keys,
    world: 'tutoring',
    channels: CHANNELS,
    store,
    log: silent,
    consumer,
    batchSize: 500,
    flushMs: 50,
    blockMs: 100,
    claimIdleMs: 300,
  })
  const close = a.close.bind(a)
  a.close = async () => {
    await close()
    conn.disconnect()
  }
  return a
}

describe('Archiver', () => {
  it('should archive every event once and acknowledge it after the commit', async () => {
    const keys = createKeys(prefix, 'once')
    await t.redis.set(keys.epoch, JSON.stringify({ epoch: 'ep1', floorId: '0-0' }))
    const { store } = await freshArchive()
    await publish(t.redis, keys, 3000)
    const a = startArchiver(keys, store)
    await a.start()
    try {
      await until('3000 archived', async () => (await store.count()) === 3000)
      await publish(t.redis, keys, 600, 3000)
      await until('3600 archived', async () => (await store.count()) === 3600)
      // acknowledged: nothing pending once written
      await until('no pending', async () => {
        for (const c of CHANNELS) {
          const [n] = (await t.redis.xpending(keys.channel(c), 'archiver')) as [number]
          if (n !== 0) return false
        }
        return true
      })
    } finally {
      await a.close()
    }
    const streams = await streamIds(t.redis, keys)
    for (const c of CHANNELS) expect(await store.ids(c, 'ep1')).toEqual(streams.get(c))
    // the ids each event is about: `…Id` fields when the world declares none
    const { rows } = await store.pool.query(
      `SELECT count(*)::int AS n FROM events WHERE entities @> ARRAY['s_7']`,
    )
    expect(rows[0].n).toBe(3600 / 50)
    expect(a.stats).toMatchObject({ archived: 3600, duplicates: 0, skipped: 0 })
    await store.close()
  }, 60_000)

  it('should take over the pending entries of a consumer that went away, adding nothing twice', async () => {
    const keys = createKeys(prefix, 'claim')
    await t.redis.set(keys.epoch, JSON.stringify({ epoch: 'ep1', floorId: '0-0' }))
    const { store } = await freshArchive()
    await publish(t.redis, keys, 900)
    // Another consumer read 300 entries (some of them archived) and died before acknowledging.
    for (const c of CHANNELS)
      await t.redis.xgroup('CREATE', keys.channel(c), 'archiver', '0', 'MKSTREAM')
    const read = (await t.redis.xreadgroup(
      'GROUP',
      'archiver',
      'dead',
      'COUNT',
      100,
      'STREAMS',
      ...CHANNELS.map((c) => keys.channel(c)),
      ...CHANNELS.map(() => '>'),
    )) as [string, [string, string[]][]][]
    expect(read.flatMap(([, e]) => e).length).toBe(300)
    const a = startArchiver(keys, store, 'alive')
    await a.start()
    try {
      await until('900 archived', async () => (await store.count()) === 900)
      await until('none pending', async () => {
        const [n] = (await t.redis.xpending(keys.channel('customer'), 'archiver')) as [number]
        return n === 0
      })
    } finally {
      await a.close()
    }
    await store.close()
  }, 60_000)

  it('should follow the streams replaced by a new epoch, keeping both timelines apart', async () => {
    const keys = createKeys(prefix, 'epoch')
    await t.redis.set(keys.epoch, JSON.stringify({ epoch: 'ep1', floorId: '0-0' }))
    const { store } = await freshArchive()
    await publish(t.redis, keys, 300)
    const a = startArchiver(keys, store)
    await a.start()
    try {
      await until('ep1 archived', async () => (await store.count('ep1')) === 300)
      const next = await replaceEpoch(t.redis, keys, '0-0', CHANNELS)
      await publish(t.redis, keys, 150, 300)
      await until('new epoch archived', async () => (await store.count(next.epoch)) === 150)
      expect(a.epoch).toBe(next.epoch)
      expect(await store.count('ep1')).toBe(300)
      const streams = await streamIds(t.redis, keys)
      for (const c of CHANNELS) expect(await store.ids(c, next.epoch)).toEqual(streams.get(c))
    } finally {
      await a.close()
    }
    await store.close()
  }, 60_000)

  it('should lose and double nothing when killed with SIGKILL and when PostgreSQL crashes, at high speed', async () => {
    const world = 'tutoring' // its module names the entity fields; the keys are this test's prefix's
    const keys = createKeys(prefix, world)
    await t.redis.set(keys.epoch, JSON.stringify({ epoch: 'ep1', floorId: '0-0' }))
    await t.redis.set(
      keys.catalog,
      JSON.stringify(
        CHANNELS.filter((c) => c !== 'simulation_control').map((channel) => ({ channel })),
      ),
    )
    const { schema, store } = await freshArchive()
    const env = {
      ...process.env,
      REDIS_URL: t.handle.url,
      DATABASE_URL: pgh.url,
      ARCHIVE_SCHEMA: schema,
      VERISIM_PREFIX: prefix,
      VERISIM_WORLD: world,
      ARCHIVER_PORT: '0',
      ARCHIVER_BATCH: '2000',
      ARCHIVER_FLUSH_MS: '50',
      LOG_LEVEL: 'warn',
    }
    const child = (): ChildProcess =>
      spawn(process.execPath, [MAIN], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    let published = 0
    let publishing = true
    // ~20,000 events/s for the whole run
    const publisher = (async () => {
      const pub = new Redis(t.handle.url)
      while (publishing) {
        await publish(pub, keys, 1000, published)
        published += 1000
        await new Promise((r) => setTimeout(r, 50))
      }
      pub.disconnect()
    })()
    let proc = child()
    let stderr = ''
    const collect = (p: ChildProcess): void => {
      p.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
    }
    collect(proc)
    const archived = (): Promise<number> => store.count()
    try {
      for (let kill = 0; kill < 3; kill++) {
        const before = await archived()
        await until(
          `archiving resumed (kill ${kill})`,
          async () => (await archived()) > before + 2000,
          30_000,
        )
        proc.kill('SIGKILL')
        await new Promise((r) => proc.once('exit', r))
        proc = child()
        collect(proc)
      }
      // PostgreSQL crashes (immediate shutdown) under the archiver and comes back.
      const before = await archived()
      await until(
        'archiving before the crash',
        async () => (await archived()) > before + 2000,
        30_000,
      )
      await pgh.restart!({ crash: true })
      const after = await archived()
      await until(
        'archiving after the crash',
        async () => (await archived()) > after + 2000,
        30_000,
      )
    } catch (err) {
      throw new Error(`${(err as Error).message}; archiver stderr: ${stderr}`)
    } finally {
      publishing = false
      await publisher
    }
    try {
      await until(`all ${published} archived`, async () => (await archived()) >= published, 60_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}; archiver stderr: ${stderr}`)
    } finally {
      proc.kill('SIGTERM')
      await new Promise((r) => proc.once('exit', r))
    }
    expect(published).toBeGreaterThan(20_000)
    const streams = await streamIds(t.redis, keys)
    let total = 0
    for (const c of CHANNELS) {
      const want = streams.get(c) as string[]
      total += want.length
      expect(await store.ids(c, 'ep1')).toEqual(want)
    }
    expect(total).toBe(published)
    expect(await archived()).toBe(published)
    // the hourly counts too: each event counted once through every kill and the crash
    const { rows } = await store.pool.query<{ n: number }>(
      'SELECT sum(n)::int AS n FROM events_hourly',
    )
    expect(rows[0]!.n).toBe(published)
    await store.close()
  }, 180_000)
})
