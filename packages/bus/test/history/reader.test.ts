import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import {
  HistoryErrorCode,
  createHistoryReader,
  createKeys,
  historyKeys,
  parseLiveBucket,
  resolveHistoryRange,
  rollUpHistory,
} from '../../src/index.js'
import { openTestRedis, testPrefix } from '../../src/testing.js'
import { B, DAY, EVENTS, F, H, NOW, STATS, STREAMS, makeDoc, makeMeta } from './fixtures.js'

const at = (iso: string) => Date.parse(iso)

describe('live buckets', () => {
  it('should read counts, value sums and expected counts per stream in the given order', () => {
    const lb = parseLiveBucket({ m: '1', 'm:v': '40', a: '3', 'a:v': '0', 'a:e': '2.5' }, STREAMS)
    expect(Array.from(lb!)).toEqual([3, 0, 2.5, 1, 40, 0])
  })

  it('should take a live count without a value sum as a sum of 0', () => {
    const hash = { a: '2', m: '2' } // the generator skips HINCRBYFLOAT by 0
    const l = new Map([[F + DAY + B, parseLiveBucket(hash, STREAMS)!]])
    const meta = makeMeta()
    const range = resolveHistoryRange(meta, NOW, {
      start: at('2026-11-02T00:15:00Z'),
      end: at('2026-11-02T00:30:00Z'),
      interval: '15m',
    })
    const res = rollUpHistory(
      { meta, doc: makeDoc(), live: l, stats: STATS, events: EVENTS },
      range,
      NOW,
    )
    expect(res.streams.a![0]!.value).toBe(2)
    expect(res.streams.m![0]!.value).toBe(0)
    expect(parseLiveBucket({ other: '1' }, STREAMS)).toBeNull()
  })
})

describe('history reader', () => {
  const prefix = testPrefix()
  const keys = createKeys(prefix, 'tutoring')
  const hk = historyKeys(keys)
  let redis: Redis
  let close: () => Promise<void>

  beforeAll(async () => {
    ;({ redis, close } = await openTestRedis(prefix))
  })
  afterAll(() => close())

  const setNow = (ms: number) =>
    redis.set(keys.state, JSON.stringify({ currentSimulationTime: new Date(ms).toISOString() }))

  it('should say history is not ready while there is no meta', async () => {
    const reader = createHistoryReader({ redis, keys })
    await expect(reader.history({})).rejects.toMatchObject({
      code: HistoryErrorCode.notReady,
      canRetry: true,
    })
    await expect(reader.versions()).rejects.toMatchObject({ code: HistoryErrorCode.notReady })
  })

  it('should join the stored baseline and live hashes, caching sealed buckets', async () => {
    await redis.set(hk.meta, JSON.stringify(makeMeta()))
    await redis.set(hk.doc(0), JSON.stringify(makeDoc()))
    await redis.set(hk.stats, JSON.stringify(STATS))
    await redis.set(hk.events, JSON.stringify(EVENTS))
    await redis.hset(hk.live(F + DAY), { a: 3, 'a:v': 0, m: 1, 'm:v': 40 })
    await redis.hset(hk.live(F + DAY + H), { a: 7 })
    await setNow(F + DAY + H + 20 * 60_000)
    const reader = createHistoryReader({ redis, keys })
    const q = { start: at('2026-11-01T23:00:00Z'), interval: '1h' } as const
    let res = await reader.history(q)
    expect(res.streams.a!.map((p) => p.value)).toEqual([4, 4, 7])
    expect(res.streams.a!.at(-1)!.partial).toBe(true)
    expect(res.streams.m!.map((p) => p.value)).toEqual([10, 20, null])
    expect(res.events.map((e) => e.id)).toEqual(['evt_2'])

    // The run-start bucket is sealed (ended > 15 min before now): a change is not re-read.
    // The open one is read again each time.
    await redis.hset(hk.live(F + DAY), { a: 50 })
    await redis.hincrby(hk.live(F + DAY + H), 'a', 1)
    res = await reader.history(q)
    expect(res.streams.a!.map((p) => p.value)).toEqual([4, 4, 8])

    // The document is parsed once per version.
    await redis.set(hk.doc(0), JSON.stringify(makeDoc(0, (d) => d.streams.a!.count.fill(0))))
    res = await reader.history(q)
    expect(res.streams.a![0]!.value).toBe(4)

    // A new served version is read.
    const v1 = makeDoc(1, (d) => d.streams.a!.count.fill(2))
    await redis.set(hk.doc(1), JSON.stringify(v1))
    await redis.set(
      hk.meta,
      JSON.stringify(
        makeMeta({
          current: 1,
          mode: 'modified',
          versions: [
            ...makeMeta().versions,
            {
              version: 1,
              createdAt: '2026-11-02T01:00:00.000Z',
              simTime: '2026-11-02T01:00:00.000Z',
              description: 'injected',
              window: { start: F, end: F + DAY },
              modifications: [{ templateId: 'x' }],
            },
          ],
        }),
      ),
    )
    res = await reader.history(q)
    expect(res.timeRange.version).toBe(1)
    expect(res.timeRange.mode).toBe('modified')
    expect(res.streams.a![0]!.value).toBe(8)

    const versions = await reader.versions()
    expect(versions.current).toBe(1)
    expect(versions.versions.map((v) => v.version)).toEqual([0, 1])

    // Version 0 in Redis was overwritten with zeros above; the reader has v0 cached only
    // as long as the meta names the same createdAt, which it does.
    const diff = await reader.diff({ interval: '12h' })
    expect(diff.version).toBe(1)
    expect(diff.streams.map((s) => s.name)).toEqual(['a'])
    await expect(reader.diff({ version: 7 })).rejects.toMatchObject({
      code: HistoryErrorCode.unknownVersion,
      param: 'version',
      message: 'no history version 7; known: 0, 1',
    })

    const stats = await reader.statistics({ streams: ['a'], interval: '15m' })
    expect(stats.streams).toEqual({ a: STATS.intervals['15m']!.a })
  })

  it('should say a listed version whose document is missing is not ready', async () => {
    const meta = makeMeta({
      current: 0,
      versions: [
        ...makeMeta().versions,
        {
          version: 2,
          createdAt: 'x',
          simTime: 'x',
          description: 'pending',
          window: null,
          modifications: [],
        },
      ],
      job: { id: 'j2', version: 2, state: 'running', progress: 40 },
    })
    await redis.set(hk.meta, JSON.stringify(meta))
    const reader = createHistoryReader({ redis, keys })
    await expect(reader.diff({ version: 2 })).rejects.toMatchObject({
      code: HistoryErrorCode.notReady,
      message: expect.stringContaining('job j2 running'),
    })
  })
})
