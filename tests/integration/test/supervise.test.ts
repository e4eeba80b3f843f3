/**
 * `npm start` supervises its services: the generator or the gateway killed with
 * SIGKILL is restarted (with a log line) while the others keep serving, back
 * within 5 s, and an SDK client resumes with no event missing or repeated. It
 * also finds a PostgreSQL and runs the archiver (in a schema of this test's own).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, type StreamEvent, type VerisimClient } from '@verisim/client'
import { discoverRedis, type RedisHandle } from '@verisim/bus'
import { ArchiveStore, discoverPostgres, type PostgresHandle } from '@verisim/archive'
import pg from 'pg'
import { compare, freePort, storedEvents } from './harness.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
let redisHandle: RedisHandle
let redis: Redis
let start: ChildProcess
let log = ''
let port = 0
const prefix = `t${randomBytes(4).toString('hex')}`
let client: VerisimClient
const delivered: StreamEvent[] = []
const schema = `t_${randomBytes(4).toString('hex')}`
let pgHandle: PostgresHandle

const pids = (name: string) =>
  [...log.matchAll(new RegExp(`${name} started \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]))

async function until(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<number> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > ms)
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${log.slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return Date.now() - t0
}

const ready = async () => {
  try {
    return (
      await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(500) })
    ).ok
  } catch {
    return false
  }
}

beforeAll(async () => {
  redisHandle = await discoverRedis({ allowContainer: true })
  redis = new Redis(redisHandle.url)
  pgHandle = await discoverPostgres({ allowContainer: true })
  port = await freePort()
  start = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    env: {
      ...process.env,
      REDIS_URL: redisHandle.url,
      VERISIM_PREFIX: prefix,
      PORT: String(port),
      GENERATOR_PORT: String(await freePort()),
      HOST: '127.0.0.1',
      VERISIM_SPEED: '60',
      VERISIM_WARMUP_HOURS: '0',
      NO_COLOR: '1',
      DATABASE_URL: pgHandle.url,
      ARCHIVE_SCHEMA: schema,
      ARCHIVER_PORT: String(await freePort()),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  start.stdout!.on('data', (d) => (log += d))
  start.stderr!.on('data', (d) => (log += d))
  // npm start builds first when a source is newer than its build
  await until(ready, 170_000, 'the stack to be ready')
  client = createClient({
    url: `ws://127.0.0.1:${port}/ws`,
    topics: ['*'],
    WebSocket: WebSocket as never,
    reconnect: { initialMs: 50, maxMs: 500 },
  })
  client.on('batch', (events) => void delivered.push(...events))
  await new Promise<void>((resolve) => client.once('subscribed', () => resolve()))
  await until(() => delivered.length > 20, 15_000, 'live events')
}, 200_000)

afterAll(async () => {
  client?.close()
  if (start && start.exitCode === null) {
    start.kill('SIGTERM')
    await new Promise((r) => start.once('exit', r))
  }
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
  await redisHandle?.stop()
  if (pgHandle) {
    const c = new pg.Client({ connectionString: pgHandle.url })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await c.end()
    await pgHandle.stop()
  }
}, 30_000)

describe('npm start supervision', () => {
  it('should run the archiver: events reach PostgreSQL, and a killed archiver is restarted and catches up', async () => {
    expect(log).toMatch(/Archive {4}postgres:\/\/.* schema t_/)
    const store = new ArchiveStore({ url: pgHandle.url, schema })
    try {
      const archived = async () => {
        try {
          return await store.count()
        } catch {
          return 0 // the archiver has not made its tables yet
        }
      }
      await until(async () => (await archived()) > 0, 30_000, 'events in the archive')
      const [pid] = pids('archiver')
      process.kill(pid!, 'SIGKILL')
      await until(() => pids('archiver').length === 2, 5000, 'the archiver to be restarted')
      const n = await archived()
      await until(async () => (await archived()) > n, 30_000, 'archiving after the restart')
      expect(start.exitCode).toBeNull()
    } finally {
      await store.close()
    }
  }, 80_000)

  it('should restart a generator killed with SIGKILL within 5 s; it publishes again and the gateway keeps serving', async () => {
    const [pid] = pids('generator')
    expect(pid).toBeGreaterThan(0)
    process.kill(pid!, 'SIGKILL')
    const t0 = Date.now()
    const restartMs = await until(
      () => pids('generator').length === 2,
      5000,
      'the generator to be restarted',
    )
    expect(log).toMatch(/generator was killed by SIGKILL; restarting it in 0\.5 s/)
    // the gateway answered all along
    expect(await ready()).toBe(true)
    // ids follow the wall clock: an id after the kill is the new generator's
    const publishedMs = await until(
      () => delivered.some((e) => Number(e.id.split('-')[0]) > t0),
      15_000,
      'events from the new generator',
    )
    // the figures the issue asks to measure (target: publishing within 3 s; see the note)
    console.log(
      `generator killed: restarted after ${restartMs} ms, publishing again after ${publishedMs} ms`,
    )
    expect(restartMs).toBeLessThanOrEqual(5000)
    expect(start.exitCode).toBeNull()
  }, 30_000)

  it('should restart a gateway killed with SIGKILL within 5 s, and the SDK client resumes with no gap', async () => {
    const [pid] = pids('gateway')
    process.kill(pid!, 'SIGKILL')
    const back = await until(
      async () => pids('gateway').length === 2 && (await ready()),
      5000,
      'the gateway to be back',
    )
    expect(back).toBeLessThanOrEqual(5000)
    expect(log).toMatch(/gateway was killed by SIGKILL; restarting it/)
    const n = delivered.length
    await until(() => delivered.length > n + 20, 15_000, 'events after the gateway restart')
    // every stored event between the first and the last delivered, delivered exactly once
    const ids = delivered.map((e) => e.id)
    for (let i = 1; i < ids.length; i++) expect(compare(ids[i]!, ids[i - 1]!)).toBeGreaterThan(0)
    const first = ids[0]!
    const stored = await storedEvents(redis, prefix, 'tutoring', null, ids.at(-1)!)
    const expected = stored.filter((e) => compare(e.id, first) >= 0).map((e) => e.id)
    expect(ids).toEqual(expected)
  }, 40_000)
})
