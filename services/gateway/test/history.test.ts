/**
 * History routes against a Redis holding a small synthetic history (what the
 * generator writes: meta, versioned documents, statistics, events, live bucket
 * hashes) under a random prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { historyKeys, type HistoryDoc, type HistoryMeta, type HistoryKeys } from '@verisim/bus'
import { startHarness, type Harness } from './helpers.js'

const H = 3_600_000
const B = 900_000
const DAY = 24 * H
const F = Date.UTC(2026, 10, 1)
const RUN = F + DAY + 10 * 60_000
const NOW = F + DAY + 2 * H + 5 * 60_000
const n = 97

const version = (v: number, description: string, window: HistoryMeta['versions'][0]['window']) => ({
  version: v,
  createdAt: `2026-11-02T0${v}:00:00.000Z`,
  simTime: new Date(RUN).toISOString(),
  description,
  window,
  modifications: [],
})

const META: HistoryMeta = {
  world: 'tutoring',
  seed: 42,
  runStartedAt: RUN,
  from: F,
  bucketMs: B,
  streams: [
    { name: 'session.completed', measure: 'count' },
    { name: 'system.api.request.log', measure: 'mean' },
  ],
  current: 1,
  mode: 'modified',
  versions: [
    version(0, 'baseline', null),
    version(1, 'past campaign', { start: F + 12 * H, end: F + 13 * H }),
  ],
  job: { id: 'regen-1', version: 1, state: 'completed', progress: 100 },
}

function doc(v: number, sessions: (j: number) => number): HistoryDoc {
  return {
    version: v,
    from: F,
    bucketMs: B,
    n,
    streams: {
      'session.completed': {
        count: Array.from({ length: n }, (_, j) => sessions(j)),
        mean: new Array<null>(n).fill(null),
      },
      'system.api.request.log': {
        count: new Array<number>(n).fill(4),
        mean: new Array<number>(n).fill(120),
      },
    },
  }
}

const baseline = (name: string, mean: number, stdDev: number) => ({
  name,
  measure: 'count',
  mean,
  median: mean,
  stdDev,
  min: 0,
  max: 2 * mean,
  percentiles: { p25: mean, p50: mean, p75: mean, p90: mean, p95: mean },
  patterns: { weekdayAvg: mean, weekendAvg: mean, trend: 'flat', seasonality: 'none' },
})

const STATS = {
  calculatedFrom: '2026-11-02T00:10:00.000Z',
  version: 0,
  intervals: {
    '15m': {
      'session.completed': baseline('session.completed', 2, 1),
      'system.api.request.log': baseline('system.api.request.log', 120, 10),
    },
    '1h': {
      'session.completed': baseline('session.completed', 8, 2),
      'system.api.request.log': baseline('system.api.request.log', 120, 10),
    },
    '12h': {
      'session.completed': baseline('session.completed', 96, 8),
      'system.api.request.log': baseline('system.api.request.log', 120, 10),
    },
  },
}

let h: Harness
let hk: HistoryKeys

beforeAll(async () => {
  h = await startHarness()
  hk = historyKeys(h.keys)
})
afterAll(async () => {
  await h?.close()
})

async function get(url: string) {
  const res = await h.app.inject({ method: 'GET', url })
  return { status: res.statusCode, body: res.json() as Record<string, any> }
}

async function expectError(url: string, status: number, message: RegExp | string) {
  const { status: s, body } = await get(url)
  expect(s, JSON.stringify(body)).toBe(status)
  expect(Object.keys(body)).toEqual(['error'])
  expect(body.error.code).toMatch(/^VS_GW_/)
  if (typeof message === 'string') expect(body.error.message).toContain(message)
  else expect(body.error.message).toMatch(message)
  return body.error as { code: string; message: string }
}

describe('history routes', () => {
  it('should answer 503 while the generator has not stored any history', async () => {
    for (const path of [
      '/api/simulation/history',
      '/api/simulation/statistics',
      '/api/simulation/history/versions',
      '/api/simulation/history/diff',
    ]) {
      const e = await expectError(path, 503, /no history yet: the generator writes .*hist:meta/)
      expect(e.code).toBe('VS_GW_NOT_READY')
    }
  })

  it('should serve the baseline joined with live buckets', async () => {
    await h.redis.set(hk.meta, JSON.stringify(META))
    await h.redis.set(hk.doc(0), JSON.stringify(doc(0, () => 2)))
    // Version 1: sessions doubled 12:00–13:00 on the first day.
    await h.redis.set(hk.doc(1), JSON.stringify(doc(1, (j) => (j >= 48 && j < 52 ? 4 : 2))))
    await h.redis.set(hk.stats, JSON.stringify(STATS))
    await h.redis.set(
      hk.events,
      JSON.stringify([
        {
          id: 'evt_1',
          timestamp: new Date(F + 12 * H).toISOString(),
          at: F + 12 * H,
          title: 'Campaign',
          category: 'marketing',
          severity: 'info',
          redHerring: false,
          expectedImpact: { streams: ['session.completed'] },
          window: null,
        },
      ]),
    )
    await h.redis.hset(hk.live(F + DAY), {
      'session.completed': 3,
      'session.completed:v': 0,
      'system.api.request.log': 2,
      'system.api.request.log:v': 300,
    })
    await h.redis.hset(hk.live(F + DAY + 2 * H), { 'session.completed': 5 })
    await h.redis.set(
      h.keys.state,
      JSON.stringify({ currentSimulationTime: new Date(NOW).toISOString() }),
    )

    const { status, body } = await get('/api/simulation/history')
    expect(status).toBe(200)
    expect(body.timeRange).toEqual({
      start: '2026-11-01T00:00:00.000Z',
      end: new Date(NOW).toISOString(),
      interval: '12h',
      baselineFrom: '2026-11-01T00:00:00.000Z',
      liveFrom: new Date(RUN).toISOString(),
      now: new Date(NOW).toISOString(),
      version: 1,
      mode: 'modified',
    })
    expect(body.streams['session.completed']).toEqual([
      { timestamp: '2026-11-01T00:00:00.000Z', value: 96, normalized: 50 },
      { timestamp: '2026-11-01T12:00:00.000Z', value: 104, normalized: 62.2 },
      // 2 (baseline part of the run-start bucket) + 3 (its live part) + 5
      { timestamp: '2026-11-02T00:00:00.000Z', value: 10, normalized: 0.5, partial: true },
    ])
    expect(body.streams['system.api.request.log'].map((p: { value: number }) => p.value)).toEqual(
      // (4×120 + 300) / 6 = 130
      [120, 120, 130],
    )
    expect(body.events.map((e: { id: string }) => e.id)).toEqual(['evt_1'])
  })

  it('should roll up at 15 minutes and filter streams', async () => {
    const { status, body } = await get(
      '/api/simulation/history?start=2026-11-01T23:45:00Z&end=2026-11-02T00:30:00Z&interval=15m&streams=session.completed',
    )
    expect(status).toBe(200)
    expect(Object.keys(body.streams)).toEqual(['session.completed'])
    expect(body.streams['session.completed']).toEqual([
      { timestamp: '2026-11-01T23:45:00.000Z', value: 2, normalized: 50 },
      { timestamp: '2026-11-02T00:00:00.000Z', value: 5, normalized: 81.8 },
      { timestamp: '2026-11-02T00:15:00.000Z', value: 0, normalized: 26.9 },
    ])
    expect(body.events).toEqual([])
  })

  it('should answer 400 naming the parameter and what was expected', async () => {
    const base = '/api/simulation/history'
    await expectError(`${base}?start=yesterday`, 400, 'start must be an ISO 8601 time')
    await expectError(`${base}?end=2026-02-31T99:00:00Z`, 400, 'end must be an ISO 8601 time')
    await expectError(
      `${base}?start=2026-11-02T00:00:00Z&end=2026-11-01T00:00:00Z`,
      400,
      /start \(.*\) must be before end/,
    )
    await expectError(
      `${base}?streams=session.completed,nope.one,nope.two`,
      400,
      'unknown streams "nope.one", "nope.two"',
    )
    await expectError(`${base}?interval=5m`, 400, 'interval must be one of 15m, 1h, 12h')
    await expectError(`${base}?bogus=1`, 400, /querystring: unexpected field "bogus"/)
    await expectError('/api/simulation/statistics?interval=1d', 400, 'interval must be one of')
    await expectError('/api/simulation/statistics?streams=x', 400, 'unknown stream "x"')
    await expectError('/api/simulation/history/diff?interval=2h', 400, 'interval must be one of')
    await expectError('/api/simulation/history/diff?version=abc', 400, /version/)
  })

  it('should answer 400 when the query would return too many points', async () => {
    // A run long enough for 15-minute points of both streams to pass the cap.
    const long = { ...META, from: F - 2200 * DAY }
    await h.redis.set(hk.meta, JSON.stringify(long))
    try {
      const e = await expectError(
        '/api/simulation/history?start=2020-01-01T00:00:00Z&interval=15m',
        400,
        /more than 200000: narrow start\/end, pick fewer streams or a coarser interval/,
      )
      expect(e.code).toBe('VS_GW_BAD_REQUEST')
    } finally {
      await h.redis.set(hk.meta, JSON.stringify(META))
    }
  })

  it('should serve the baseline statistics of one interval', async () => {
    let { status, body } = await get('/api/simulation/statistics')
    expect(status).toBe(200)
    expect(body).toEqual({
      calculatedFrom: STATS.calculatedFrom,
      version: 0,
      interval: '12h',
      streams: STATS.intervals['12h'],
    })
    ;({ status, body } = await get(
      '/api/simulation/statistics?streams=system.api.request.log&interval=1h',
    ))
    expect(status).toBe(200)
    expect(Object.keys(body.streams)).toEqual(['system.api.request.log'])
    expect(body.streams['system.api.request.log'].stdDev).toBe(10)
  })

  it('should list the versions and the job', async () => {
    const { status, body } = await get('/api/simulation/history/versions')
    expect(status).toBe(200)
    expect(body).toEqual({
      current: 1,
      mode: 'modified',
      versions: META.versions,
      job: META.job,
    })
  })

  it('should diff a version against the baseline', async () => {
    let { status, body } = await get('/api/simulation/history/diff')
    expect(status).toBe(200)
    expect(body.baseVersion).toBe(0)
    expect(body.version).toBe(1)
    expect(body.interval).toBe('15m')
    expect(body.window).toEqual({ start: F + 12 * H, end: F + 13 * H })
    expect(body.streams).toHaveLength(1)
    expect(body.streams[0]).toMatchObject({
      name: 'session.completed',
      changedPoints: 4,
      baselineTotal: 8,
      modifiedTotal: 16,
      change: 1,
    })
    expect(body.streams[0].points[0]).toEqual({
      timestamp: '2026-11-01T12:00:00.000Z',
      baseline: 2,
      modified: 4,
      delta: 2,
    })
    ;({ status, body } = await get('/api/simulation/history/diff?version=1&interval=1h'))
    expect(status).toBe(200)
    expect(body.streams[0].points).toEqual([
      { timestamp: '2026-11-01T12:00:00.000Z', baseline: 8, modified: 16, delta: 8 },
    ])
    ;({ status, body } = await get('/api/simulation/history/diff?version=0'))
    expect(status).toBe(200)
    expect(body.streams).toEqual([])
    const e = await expectError(
      '/api/simulation/history/diff?version=9',
      404,
      'no history version 9; known: 0, 1',
    )
    expect(e.code).toBe('VS_GW_NOT_FOUND')
  })

  it('should describe the history routes in the OpenAPI document', async () => {
    const { body } = await get('/docs/json')
    for (const path of [
      '/api/simulation/history',
      '/api/simulation/statistics',
      '/api/simulation/history/versions',
      '/api/simulation/history/diff',
    ]) {
      expect(Object.keys(body.paths)).toContain(path)
    }
    const params = body.paths['/api/simulation/history'].get.parameters as { name: string }[]
    expect(params.map((p) => p.name).sort()).toEqual(['end', 'interval', 'start', 'streams'])
  })
})
