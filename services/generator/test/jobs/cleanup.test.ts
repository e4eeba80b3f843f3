import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import {
  compareIds,
  createIdSequence,
  createKeys,
  createStreamWriter,
  groupName,
  listGroups,
  retentionFloor,
  type RawEvent,
  type RedisHandle,
  type WorldKeys,
} from '@verisim/bus'
import {
  CLEANUP_QUEUE,
  CLEANUP_SCHEDULER_ID,
  CleanupJob,
  runCleanup,
} from '../../src/jobs/cleanup.js'
import { createMetrics } from '../../src/metrics.js'
import { KEEP_COMPLETED } from '../../src/jobs/retention.js'
import { openTestRedis, testPrefix } from '@verisim/bus/testing'

const CHANNELS = ['customer', 'session']

let handle: RedisHandle
let redis: Redis
let close: () => Promise<void>
const prefix = testPrefix()

beforeAll(async () => {
  ;({ handle, redis, close } = await openTestRedis(prefix))
})
afterAll(() => close())

async function write(keys: WorldKeys, n: number, at: () => number): Promise<RawEvent[]> {
  const ids = createIdSequence((await redis.get(keys.lastId)) ?? null)
  const events = Array.from({ length: n }, (_, i) => {
    const channel = CHANNELS[i % CHANNELS.length]!
    const id = ids.next(at())
    return { id, channel, stream: `${channel}.x`, anomalyFlag: 'normal', json: `{"id":"${id}"}` }
  })
  await createStreamWriter({ redis, keys, maxLen: 1_000_000 }).write(events)
  return events
}

/** A gateway instance's group on every channel, with `n` entries delivered and never acked. */
async function instanceGroups(keys: WorldKeys, instance: string, heartbeat: boolean) {
  for (const ch of CHANNELS)
    await redis.xgroup('CREATE', keys.channel(ch), groupName(instance), '0-0', 'MKSTREAM')
  await redis.call(
    'XREADGROUP',
    'GROUP',
    groupName(instance),
    instance,
    'COUNT',
    '50',
    'STREAMS',
    ...CHANNELS.map((c) => keys.channel(c)),
    ...CHANNELS.map(() => '>'),
  )
  if (heartbeat) await redis.set(keys.gatewayHeartbeat(instance), '1', 'EX', 15)
}

const groupsOf = async (keys: WorldKeys) =>
  (
    await listGroups(
      redis,
      CHANNELS.map((c) => keys.channel(c)),
    )
  )
    .map((g) => `${g.key.split(':').at(-1)}/${g.name}`)
    .sort()

describe('runCleanup', () => {
  it('should destroy the groups of dead instances, acking their pending entries, and keep live ones', async () => {
    const keys = createKeys(prefix, 'run')
    await write(keys, 200, Date.now)
    await instanceGroups(keys, 'dead', false)
    await instanceGroups(keys, 'live', true)
    await redis.xgroup('CREATE', keys.channel('customer'), 'someone-else', '0-0')
    const report = await runCleanup(redis, {
      keys,
      maxLen: 1_000_000,
      retentionMs: 0,
      minIdleMs: 0,
    })
    expect(report).toEqual({ instances: ['dead'], groups: 2, acked: 100, trimmed: 0, streams: 2 })
    expect(await groupsOf(keys)).toEqual([
      'customer/gw:live',
      'customer/someone-else',
      'session/gw:live',
    ])
    // Idle consumers are required: a just-served consumer of a heartbeat-less instance is left alone.
    await instanceGroups(keys, 'late', false)
    expect(
      (await runCleanup(redis, { keys, maxLen: 1_000_000, retentionMs: 0 })).instances,
    ).toEqual([])
  })

  it('should trim streams to the time window and make older resume points too old', async () => {
    const keys = createKeys(prefix, 'window')
    let t = Date.now() - 3_600_000
    const old = await write(keys, 3000, () => (t += 1))
    const recent = await write(keys, 100, Date.now)
    const report = await runCleanup(redis, { keys, maxLen: 1_000_000, retentionMs: 60_000 })
    expect(report.trimmed).toBeGreaterThan(2000)
    const floor = await retentionFloor(redis, keys, CHANNELS)
    // Resuming from before the floor is refused (too_old); from the recent events it is not.
    expect(compareIds(floor, old[0]!.id)).toBeGreaterThan(0)
    expect(compareIds(floor, recent[0]!.id)).toBeLessThanOrEqual(0)
    const stored = new Set<string>()
    for (const c of CHANNELS)
      for (const [id] of await redis.xrange(keys.channel(c), '-', '+')) stored.add(id)
    for (const e of recent) expect(stored.has(e.id)).toBe(true)
    // By count as well.
    const byCount = await runCleanup(redis, { keys, maxLen: 100, retentionMs: 0 })
    expect(byCount.trimmed).toBeGreaterThanOrEqual(0)
    for (const c of CHANNELS) expect(await redis.xlen(keys.channel(c))).toBeLessThan(1000)
  })
})

describe('CleanupJob', () => {
  it('should run on its BullMQ scheduler, remove a zombie within a period, and reschedule itself after Redis lost it', async () => {
    const keys = createKeys(prefix, 'job')
    await write(keys, 100, Date.now)
    const metrics = createMetrics()
    const job = new CleanupJob({
      redisUrl: handle.url,
      keys,
      everyMs: 300,
      maxLen: 1_000_000,
      retentionMs: 0,
      minIdleMs: 0,
      log: pino({ level: 'silent' }),
      metrics,
    })
    await job.start()
    await expect(job.start()).rejects.toThrow(/already started/)
    const runs = async () =>
      (await metrics.cleanupRuns.get()).values.find((v) => v.labels.outcome === 'ok')?.value ?? 0
    const waitFor = async (pred: () => Promise<boolean>, ms: number, what: string) => {
      const deadline = Date.now() + ms
      while (!(await pred())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 25))
      }
    }
    await waitFor(async () => (await runs()) >= 2, 5000, 'two runs')

    // Keys live under the world's hash-tagged BullMQ prefix, with the fixed scheduler id.
    const queue = new Queue(CLEANUP_QUEUE, { connection: redis, prefix: keys.bullPrefix })
    expect(await queue.getJobScheduler(CLEANUP_SCHEDULER_ID)).toMatchObject({ every: 300 })
    expect((await redis.keys(`${keys.bullPrefix}:${CLEANUP_QUEUE}:*`)).length).toBeGreaterThan(0)

    await instanceGroups(keys, 'gone', false)
    const t0 = Date.now()
    await waitFor(async () => (await groupsOf(keys)).length === 0, 3000, 'zombie removal')
    expect(Date.now() - t0).toBeLessThan(300 + 500)
    expect((await metrics.cleanupZombies.get()).values[0]!.value).toBe(2)
    expect((await metrics.cleanupAcked.get()).values[0]!.value).toBe(100)
    expect(job.lastReport).toMatchObject({ streams: 2 })

    // Redis loses BullMQ's keys (as in a restart without persistence): the watchdog schedules again.
    for (const k of await redis.keys(`${keys.bullPrefix}:*`)) await redis.del(k)
    const before = await runs()
    await waitFor(
      async () => (await runs()) >= before + 2,
      5000,
      'runs after the scheduler was lost',
    )
    expect(await queue.getJobScheduler(CLEANUP_SCHEDULER_ID)).toBeDefined()
    await queue.close()

    const metricsText = await metrics.registry.metrics()
    expect(metricsText).toMatch(/verisim_generator_cleanup_runs_total\{outcome="ok"\} \d+/)
    await Promise.all([job.close(), job.close()])
  }, 30_000)

  it('should keep no more than the last 20 completed jobs (a job hash every period would pile up forever)', async () => {
    const keys = createKeys(prefix, 'kept')
    const metrics = createMetrics()
    const job = new CleanupJob({
      redisUrl: handle.url,
      keys,
      everyMs: 50,
      maxLen: 1_000_000,
      retentionMs: 0,
      minIdleMs: 0,
      log: pino({ level: 'silent' }),
      metrics,
    })
    await job.start()
    const runs = async () =>
      (await metrics.cleanupRuns.get()).values.find((v) => v.labels.outcome === 'ok')?.value ?? 0
    const deadline = Date.now() + 15_000
    while ((await runs()) < 40) {
      if (Date.now() > deadline) throw new Error('timed out waiting for 40 runs')
      await new Promise((r) => setTimeout(r, 50))
    }
    // Stopped first: a run in flight also holds a lock key under the same
    // pattern, and only the job hashes are what could pile up.
    await job.close()
    const queue = new Queue(CLEANUP_QUEUE, { connection: redis, prefix: keys.bullPrefix })
    expect(await queue.getCompletedCount()).toBeLessThanOrEqual(KEEP_COMPLETED.count!)
    const repeatKeys = await redis.keys(`${keys.bullPrefix}:${CLEANUP_QUEUE}:repeat:*:*`)
    const types = await Promise.all(repeatKeys.map((key) => redis.type(key)))
    const jobHashes = types.filter((type) => type === 'hash').length
    // The kept completed jobs, plus the scheduler's next (delayed) job.
    expect(jobHashes).toBeLessThanOrEqual(KEEP_COMPLETED.count! + 1)
    await queue.close()
  }, 30_000)
})
