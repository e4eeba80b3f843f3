/**
 * The archive routes against a real PostgreSQL (a schema of this test's own)
 * and Redis: whole-run queries with the Redis tail, journeys with milestones
 * and context, aggregates with the world's key figures, clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toArchiveRow, type ArchiveRow } from '@verisim/archive'
import { openTestArchive, type TestArchive } from '@verisim/archive/testing'
import { readEpoch, writeWorldDescription } from '@verisim/bus'
import type { WorldDescription } from '@verisim/schema'
import { startHarness, type Harness } from './helpers.js'

let db: TestArchive
let h: Harness
let off: Harness
let epoch: string

const T0 = Date.UTC(2026, 2, 2, 8)
const HOUR = 3_600_000

const WORLD: WorldDescription = {
  id: 'tutoring',
  model: 'chain',
  description: 'test',
  channels: ['customer', 'session', 'system'],
  streams: [],
  segments: [],
  actions: [],
  statsKeys: [],
  warmupHours: 0,
  milestones: [
    { name: 'signup', label: 'Signed up', streams: ['customer.signup'], which: 'first' },
    {
      name: 'first_search',
      label: 'First search',
      streams: ['customer.tutor.search'],
      which: 'first',
    },
    {
      name: 'first_booking',
      label: 'First booking',
      streams: ['session.booking.requested'],
      which: 'first',
    },
    {
      name: 'last_booking',
      label: 'Last booking',
      streams: ['session.booking.requested'],
      which: 'last',
    },
    { name: 'churned', label: 'Churned', streams: ['customer.churned'], which: 'first' },
  ],
  kpis: [
    { name: 'requests', label: 'Booking requests', count: ['session.booking.requested'] },
    {
      name: 'confirmation_rate',
      label: 'Confirmations per request',
      ratio: { of: ['session.booking.confirmed'], per: ['session.booking.requested'] },
    },
  ],
}

let seq = 0
function row(
  stream: string,
  at: number,
  data: Record<string, unknown>,
  channel = stream.split('.')[0]!,
  flag = 'normal',
): ArchiveRow {
  const id = `${1000 + seq}-${seq++}`
  return toArchiveRow(
    {
      id,
      channel,
      stream,
      anomalyFlag: flag,
      json: JSON.stringify({
        id,
        world: 'tutoring',
        stream,
        channel,
        timestamp: new Date(at).toISOString(),
        data,
        normalizedValue: 60,
        anomalyFlag: flag,
      }),
    },
    epoch,
    'tutoring',
    undefined,
  )
}

beforeAll(async () => {
  db = await openTestArchive()
  h = await startHarness({ DATABASE_URL: db.url, ARCHIVE_SCHEMA: db.schema })
  off = await startHarness()
  epoch = (await readEpoch(h.redis, h.keys))!.epoch
  await writeWorldDescription(h.redis, h.keys, WORLD)
  // s_1's journey (and another student's noise), a day apart at most
  await db.store.write([
    row('customer.signup', T0, { studentId: 's_1' }),
    row('customer.tutor.search', T0 + HOUR, { studentId: 's_1' }),
    row('customer.tutor.search', T0 + HOUR, { studentId: 's_2' }),
    row('external.marketing', T0 + 2 * HOUR, { title: 'TikTok' }, 'external'),
    row(
      'simulation.ack',
      T0 + 2 * HOUR,
      { action: 'list_snapshots', success: true },
      'simulation_control',
    ),
    row(
      'simulation.ack',
      T0 + 2 * HOUR,
      { action: 'start_scenario', success: true },
      'simulation_control',
    ),
    row(
      'simulation.ack',
      T0 + 2 * HOUR,
      { action: 'set_speed', success: false },
      'simulation_control',
    ),
    row('session.booking.requested', T0 + 3 * HOUR, { studentId: 's_1', tutorId: 't_9' }),
    row(
      'session.booking.confirmed',
      T0 + 4 * HOUR,
      { studentId: 's_1', tutorId: 't_9' },
      'session',
      'warning',
    ),
    row('session.booking.requested', T0 + 26 * HOUR, { studentId: 's_1', tutorId: 't_8' }),
    row(
      'session.booking.requested',
      T0 + 27 * HOUR,
      { studentId: 's_2', tutorId: 't_8' },
      'session',
      'critical',
    ),
  ])
}, 60_000)

afterAll(async () => {
  await h?.close()
  await off?.close()
  await db?.close()
})

async function get(path: string, harness = h): Promise<[number, any]> {
  const r = await fetch(`${harness.url}${path}`)
  return [r.status, await r.json()]
}

describe('GET /api/journeys/:entityId', () => {
  it('should give the events in order with milestones, counts and what acted meanwhile', async () => {
    const [status, j] = await get('/api/journeys/s_1')
    expect(status, JSON.stringify(j)).toBe(200)
    expect(j.total).toBe(5)
    expect(j.streams).toEqual({
      'customer.signup': 1,
      'customer.tutor.search': 1,
      'session.booking.requested': 2,
      'session.booking.confirmed': 1,
    })
    expect(j.first).toBe(new Date(T0).toISOString())
    expect(j.last).toBe(new Date(T0 + 26 * HOUR).toISOString())
    expect(j.milestones.map((m: { name: string }) => m.name)).toEqual([
      'signup',
      'first_search',
      'first_booking',
      'last_booking',
    ])
    expect(j.milestones[3].at).toBe(new Date(T0 + 26 * HOUR).toISOString())
    expect(j.events.map((e: { stream: string }) => e.stream)).toEqual([
      'customer.signup',
      'customer.tutor.search',
      'session.booking.requested',
      'session.booking.confirmed',
      'session.booking.requested',
    ])
    // external events and applied commands; not reads, not refusals
    expect(
      j.context.map(
        (e: { stream: string; data: { action?: string } }) => e.data.action ?? e.stream,
      ),
    ).toEqual(['external.marketing', 'start_scenario'])
    expect(j.nextCursor).toBeNull()
  })

  it('should page with the cursor and filter by type and time', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const [, j] = await get(`/api/journeys/s_1?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...j.events.map((e: { id: string }) => e.id))
      cursor = j.nextCursor
    } while (cursor)
    expect(seen).toHaveLength(5)
    expect(new Set(seen).size).toBe(5)
    const [, typed] = await get('/api/journeys/s_1?types=customer.tutor.search')
    expect(typed.events).toHaveLength(1)
    expect(typed.total).toBe(5) // counts stay the whole journey's
    const [, early] = await get(`/api/journeys/s_1?end=${new Date(T0 + 2 * HOUR).toISOString()}`)
    expect(early.total).toBe(2)
  })

  it('should answer an entity never seen with an empty journey', async () => {
    const [status, j] = await get('/api/journeys/nobody')
    expect(status).toBe(200)
    expect(j).toMatchObject({ total: 0, events: [], milestones: [], first: null })
  })

  it('should refuse bad input naming what was expected', async () => {
    const [s1, b1] = await get('/api/journeys/s_1?start=2026-02-30T00:00:00Z')
    expect(s1).toBe(400)
    expect(b1.error.message).toMatch(/start "2026-02-30T00:00:00Z" is not an ISO 8601 time/)
    const [s2, b2] = await get('/api/journeys/s_1?types=nope.stream')
    expect(s2).toBe(400)
    expect(b2.error.message).toMatch(/unknown stream "nope.stream"/)
    const [s3] = await get('/api/journeys/s_1?limit=0')
    expect(s3).toBe(400)
    const [s4, b4] = await get(
      `/api/journeys/s_1?start=${new Date(T0).toISOString()}&end=${new Date(T0).toISOString()}`,
    )
    expect(s4).toBe(400)
    expect(b4.error.message).toMatch(/expected start < end/)
  })
})

describe('GET /api/events', () => {
  it('should filter the whole run by topic and entity', async () => {
    const [, bookings] = await get('/api/events?stream=session.*&entity=t_8')
    expect(bookings.events.map((e: { data: { studentId: string } }) => e.data.studentId)).toEqual([
      's_1',
      's_2',
    ])
    const [, anomalies] = await get('/api/events?stream=anomalies')
    expect(anomalies.events.map((e: { anomalyFlag: string }) => e.anomalyFlag)).toEqual([
      'warning',
      'critical',
    ])
    const [status, bad] = await get('/api/events?stream=nope.*')
    expect(status).toBe(400)
    expect(bad.error.code).toBe('VS_GW_UNKNOWN_TOPIC')
  })

  it('should answer the newest part from Redis where the archive lags', async () => {
    const produced = await h.produce(30)
    // the archiver has taken the first 20 only
    await db.store.write(
      produced.slice(0, 20).map((e) => toArchiveRow(e, epoch, 'tutoring', undefined)),
    )
    for (let i = 0; i < 100 && h.app.streams.frontier() !== produced.at(-1)!.id; i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
    const after = produced[0]!.id
    const ids: string[] = []
    let cursor: string | null = after
    const sources = new Set<string>()
    do {
      const [status, page] = await get(`/api/events?limit=7&cursor=${cursor}`)
      expect(status).toBe(200)
      sources.add(page.source)
      ids.push(...page.events.map((e: { id: string }) => e.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(ids).toEqual(produced.slice(1).map((e) => e.id))
    expect(sources).toEqual(new Set(['archive', 'archive+redis']))
  })
})

describe('GET /api/metrics/aggregate', () => {
  it('should count per group with the world key figures', async () => {
    const [status, a] = await get(
      `/api/metrics/aggregate?start=${new Date(T0).toISOString()}&end=${new Date(T0 + 2 * 24 * HOUR).toISOString()}&group_by=day&stream=customer.*,session.*`,
    )
    expect(status).toBe(200)
    expect(a.total).toBe(7)
    expect(a.groups.map((g: { key: string; events: number }) => [g.key, g.events])).toEqual([
      ['2026-03-02', 5],
      ['2026-03-03', 2],
    ])
    expect(a.groups[1].critical).toBe(1)
    expect(a.kpis).toEqual([
      { name: 'requests', label: 'Booking requests', value: 3 },
      { name: 'confirmation_rate', label: 'Confirmations per request', value: 0.3333 },
    ])
    expect(a.groups[0].meanNormalizedValue).toBe(60)
  })

  it('should take the last hours of the run by default and refuse a bad group', async () => {
    const [, a] = await get('/api/metrics/aggregate?time_range=2h&group_by=stream')
    expect(a.end).not.toBeNull()
    expect(new Date(a.end).getTime() - new Date(a.start).getTime()).toBe(2 * HOUR)
    const [status, bad] = await get('/api/metrics/aggregate?group_by=week')
    expect(status).toBe(400)
    expect(bad.error.message).toMatch(/group_by/)
  })
})

describe('without an archive', () => {
  it('should answer 503 saying the archive is off and how to turn it on', async () => {
    for (const path of ['/api/events', '/api/journeys/s_1', '/api/metrics/aggregate']) {
      const [status, body] = await get(path, off)
      expect(status).toBe(503)
      expect(body.error.code).toBe('VS_GW_ARCHIVE_UNAVAILABLE')
      expect(body.error.message).toMatch(/DATABASE_URL is not set/)
    }
  })
})
