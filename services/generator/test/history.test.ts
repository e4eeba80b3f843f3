/**
 * The generator's history service against Redis: what it stores for the gateway,
 * live buckets counted from published events, a new run clearing the previous
 * run's history, a continued run keeping its versions, validation of a
 * retroactive scenario, and reset. (Regeneration jobs run in a worker thread of
 * the built service: tests/integration/test/history.test.ts.)
 */
import { worldModule } from '@verisim/worlds'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { pino } from 'pino'
import { createKeys, historyKeys, type HistoryMeta } from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import { loadWorld, type SimEvent } from '@verisim/sim'
import { HistoryService } from '../src/history/service.js'

const worldDir = fileURLToPath(new URL('../../../config/worlds/tutoring', import.meta.url))
const world = loadWorld(worldDir, worldModule('tutoring'))
const START = Date.UTC(2026, 2, 2, 9, 10)
const prefix = testPrefix()
const keys = createKeys(prefix, 'tutoring')
const hk = historyKeys(keys)
let t: TestRedis
let redis: Redis

function service(startedAt = START, maxSpanDays?: number): HistoryService {
  return new HistoryService({
    redis,
    redisUrl: t.handle.url,
    keys,
    world,
    worldDir,
    seed: 42,
    startedAt,
    origin: startedAt,
    log: pino({ level: 'silent' }),
    announce: () => undefined,
    maxSpanDays,
  })
}

const meta = async () => JSON.parse((await redis.get(hk.meta))!) as HistoryMeta

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

describe('HistoryService', () => {
  it('should store the baseline, its statistics and its events', async () => {
    const h = service()
    await h.init(false)
    const m = await meta()
    expect(m).toMatchObject({ runStartedAt: START, current: 0, mode: 'baseline', job: null })
    expect(m.streams).toHaveLength(50)
    expect(m.from % (12 * 3_600_000)).toBe(0)
    const doc = JSON.parse((await redis.get(hk.doc(0)))!)
    expect(doc.n).toBe(Math.ceil((START - m.from) / 900_000))
    expect(doc.streams['session.booking.requested'].count).toHaveLength(doc.n)
    const stats = JSON.parse((await redis.get(hk.stats))!)
    expect(Object.keys(stats.intervals)).toEqual(['15m', '1h', '12h'])
    // the signal's expectations over the baseline span, with each stream's parameters
    expect(stats.signal.n).toBe(doc.n)
    const requested = stats.signal.streams['session.booking.requested']
    expect(requested.expected).toHaveLength(doc.n)
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
    const seen = sum(doc.streams['session.booking.requested'].count)
    expect(Math.abs(sum(requested.expected) / seen - 1)).toBeLessThan(0.05)
    expect(requested.kind).toBe('rate')
    const events = JSON.parse((await redis.get(hk.events))!) as { source: string }[]
    expect(events.length).toBeGreaterThanOrEqual(60)
    expect(events.every((e) => e.source === 'baseline')).toBe(true)
    expect(h.mode).toBe('baseline')
  })

  it('should count published events into 15-minute live buckets, additively', async () => {
    const h = service()
    await h.init(true)
    const ev = (ts: number, stream: string, data: Record<string, unknown>): SimEvent => ({
      ts,
      stream,
      channel: stream.split('.')[0]!,
      data,
      normalizedValue: 50,
      anomalyFlag: 'normal',
      causes: [],
    })
    h.record([
      ev(START + 1000, 'session.booking.requested', { leadTimeHours: 30 }),
      ev(START + 2000, 'session.booking.requested', { leadTimeHours: 50 }),
      ev(START + 20 * 60_000, 'system.heartbeat', { cpuPct: 40 }),
      ev(START + 3000, 'simulation.ack', {}), // not a world stream: ignored
    ])
    await h.flush()
    h.record([ev(START + 4000, 'session.booking.requested', { leadTimeHours: 20 })])
    await h.flush()
    const b0 = Math.floor(START / 900_000) * 900_000
    const counts = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => !k.endsWith(':e')))
    const first = await redis.hgetall(hk.live(b0))
    expect(counts(first)).toEqual({
      'session.booking.requested': '3',
      'session.booking.requested:v': '100',
    })
    expect(counts(await redis.hgetall(hk.live(b0 + 2 * 900_000)))).toEqual({
      'system.heartbeat': '1',
      'system.heartbeat:v': '40',
    })
    // and each bucket's expected counts (docs/SIGNAL.md), for every stream, once
    const expected = Object.keys(first).filter((k) => k.endsWith(':e'))
    expect(expected).toHaveLength(world.streams.length)
    expect(Number(first['session.booking.requested:e'])).toBeGreaterThan(0)
    expect(Number(first['system.heartbeat:e'])).toBeGreaterThan(0)
  })

  it('should rewind to a new timeline: buckets from the switch on deleted, the bucket of the switch recounted', async () => {
    const h = service()
    await h.init(true)
    const ev = (ts: number): SimEvent => ({
      ts,
      stream: 'session.booking.requested',
      channel: 'session',
      data: { leadTimeHours: 10 },
      normalizedValue: 50,
      anomalyFlag: 'normal',
      causes: [],
    })
    const b0 = Math.floor(START / 900_000) * 900_000 + 4 * 900_000
    const at = (m: number) => b0 + m * 60_000
    h.record([ev(at(1)), ev(at(5)), ev(at(20)), ev(at(35)), ev(at(40))])
    await h.flush()
    const count = async (b: number) =>
      (await redis.hget(hk.live(b), 'session.booking.requested')) ?? null
    expect([await count(b0), await count(b0 + 900_000), await count(b0 + 2 * 900_000)]).toEqual([
      '2',
      '1',
      '2',
    ])
    // back to minute 3 of the first bucket: its events before then recorded again, the rest gone
    await h.rewind(at(3), [ev(at(1))], 'tl_2')
    expect((await meta()).timeline).toBe('tl_2')
    expect([await count(b0), await count(b0 + 900_000), await count(b0 + 2 * 900_000)]).toEqual([
      '1',
      null,
      null,
    ])
    // the bucket keeps its expected counts, and the next ones get theirs again
    expect(Number(await redis.hget(hk.live(b0), 'session.booking.requested:e'))).toBeGreaterThan(0)
    h.record([ev(at(20))])
    await h.flush()
    expect(
      Number(await redis.hget(hk.live(b0 + 900_000), 'session.booking.requested:e')),
    ).toBeGreaterThan(0)
  })

  it('should refuse a retroactive scenario outside the baseline or unknown, naming the field', async () => {
    const h = service()
    await h.init(true)
    await expect(
      h.applyScenario({ scenarioId: 'no-such', start: new Date(START - 86_400_000).toISOString() }),
    ).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/scenarioId/) })
    await expect(
      h.applyScenario({
        scenarioId: 'payment-outage',
        start: new Date(START + 3_600_000).toISOString(),
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^start: /) })
    await expect(
      h.applyScenario({
        scenarioId: 'payment-outage',
        start: new Date(START - 86_400_000).toISOString(),
        stop: new Date(START - 2 * 86_400_000).toISOString(),
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^stop: /) })
    // valid, but the job queue is not started here: a clear error instead of a silent no-op
    await expect(
      h.applyScenario({
        scenarioId: 'payment-outage',
        start: new Date(START - 86_400_000).toISOString(),
      }),
    ).rejects.toThrow(/not running/)
  })

  it('should leave history alone for a red herring or an event after the run start', async () => {
    const h = service()
    await h.init(true)
    const base = {
      id: 'evt_1',
      title: 'x',
      timestamp: new Date(START - 86_400_000).toISOString(),
      window: { start: START - 86_400_000, end: START - 80_000_000 },
    }
    expect(await h.afterInject({ ...base, redHerring: true } as never, {})).toMatchObject({
      regenerated: false,
    })
    expect(
      await h.afterInject(
        { ...base, redHerring: false, window: { start: START + 1, end: START + 2 } } as never,
        {},
      ),
    ).toMatchObject({ regenerated: false, reason: expect.stringMatching(/after the run start/) })
  })

  it('should keep a continued run and clear a new one', async () => {
    await redis.set(hk.meta, JSON.stringify({ ...(await meta()), current: 3, mode: 'modified' }))
    const same = service()
    await same.init(true)
    expect((await meta()).current).toBe(3)
    expect(same.mode).toBe('modified')
    expect(await same.reset()).toEqual({ historicalMode: 'baseline', version: 0 })
    expect((await meta()).mode).toBe('baseline')

    const b0 = Math.floor(START / 900_000) * 900_000
    expect(await redis.exists(hk.live(b0))).toBe(1)
    const next = service(START + 86_400_000)
    await next.init(false)
    expect(await redis.exists(hk.live(b0))).toBe(0)
    expect((await meta()).runStartedAt).toBe(START + 86_400_000)
  })

  it('should delete the live buckets behind the served span (VERISIM_HISTORY_DAYS), once each', async () => {
    const DAY = 86_400_000
    const h = service(START, 2)
    await h.init(false)
    expect((await meta()).maxSpanMs).toBe(2 * DAY)
    const b0 = Math.floor(START / 900_000) * 900_000
    const ev = (ts: number): SimEvent => ({
      ts,
      stream: 'session.booking.requested',
      channel: 'session',
      data: { leadTimeHours: 1 },
      normalizedValue: 50,
      anomalyFlag: 'normal',
      causes: [],
    })
    // a bucket every simulated hour for 4 days
    for (let t = START; t < START + 4 * DAY; t += 3_600_000) {
      h.record([ev(t)])
      await h.flush()
    }
    const newest = Math.floor((START + 4 * DAY - 3_600_000) / 900_000) * 900_000
    const line = newest - 3 * DAY // the span and a day of slack
    const kept = (await scanLive()).sort((a, b) => a - b)
    expect(kept[0]).toBeGreaterThanOrEqual(line - 900_000)
    expect(kept[0]).toBeLessThan(line + 3_600_000)
    expect(kept.at(-1)).toBe(newest)
    expect(kept.every((b) => b >= b0)).toBe(true)
    // a restarted service deletes what a longer setting had kept
    const again = service(START, 1)
    await again.init(true)
    expect((await meta()).maxSpanMs).toBe(DAY)
    again.record([ev(START + 4 * DAY)])
    await again.flush()
    const after = (await scanLive()).sort((a, b) => a - b)
    expect(after[0]).toBeGreaterThanOrEqual(START + 4 * DAY - 2 * DAY - 2 * 900_000)
  })
})

async function scanLive(): Promise<number[]> {
  const out: number[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', hk.livePattern, 'COUNT', 1000)
    cursor = next
    for (const k of batch) out.push(Number(k.split(':').at(-1)))
  } while (cursor !== '0')
  return out
}
