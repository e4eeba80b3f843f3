import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { entityIdsOf, migrateArchive, toArchiveRow, type ArchiveRow } from '../src/index.js'
import { openTestArchive, type TestArchive } from '../src/testing.js'

let t: TestArchive
beforeAll(async () => {
  t = await openTestArchive()
}, 60_000)
afterAll(() => t?.close())

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 10, 22)

function row(i: number, over: Partial<ArchiveRow> = {}): ArchiveRow {
  const ts = T0 + i * 600_000 // 10 minutes apart: 20 rows cross midnight
  const id = `${1_700_000_000_000 + i}-0`
  return {
    epoch: 'e1',
    id,
    ts,
    world: 'tutoring',
    channel: i % 2 ? 'customer' : 'session',
    stream: 'customer.search',
    anomalyFlag: 'normal',
    value: 50,
    entities: [`s_${i % 3}`, `t_"${i % 2}\\`],
    envelope: JSON.stringify({ id, timestamp: new Date(ts).toISOString(), data: { n: i } }),
    ...over,
  }
}

describe('archive migrations', () => {
  it('should apply once and find nothing to do the second time', async () => {
    expect(await migrateArchive(t.url, { schema: t.schema })).toEqual([])
    const c = new pg.Client({ connectionString: t.url })
    await c.connect()
    try {
      const { rows } = await c.query(
        `SELECT name FROM "${t.schema}".archive_migrations ORDER BY run_on`,
      )
      expect(rows.map((r) => r.name)).toEqual(['1765000000000_events', '1765000000001_rollup'])
    } finally {
      await c.end()
    }
  })

  it('should refuse a schema name that is not a plain identifier', () => {
    expect(
      () =>
        new (t.store.constructor as typeof import('../src/store.js').ArchiveStore)({
          url: t.url,
          schema: 'x; drop',
        }),
    ).toThrow(/not a plain lower-case identifier/)
  })
})

describe('ArchiveStore', () => {
  it('should write a batch once: the same rows again add nothing', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => row(i))
    expect(await t.store.write(rows)).toBe(20)
    expect(await t.store.write(rows)).toBe(0)
    // overlapping batch: only the new rows count
    expect(await t.store.write([...rows.slice(15), row(20), row(21)])).toBe(2)
    expect(await t.store.count('e1')).toBe(22)
    // the hourly counts hold each event once, however often it was written
    const { rows: hourly } = await t.store.pool.query<{ n: number }>(
      `SELECT sum(n)::int AS n FROM events_hourly WHERE epoch = 'e1'`,
    )
    expect(hourly[0]!.n).toBe(22)
    // one partition per simulated UTC day the rows reach
    expect(await t.store.partitions()).toEqual(['events_20260110', 'events_20260111'])
  })

  it('should keep the same id of another epoch apart', async () => {
    expect(await t.store.write([row(0, { epoch: 'e2' })])).toBe(1)
    expect(await t.store.ids('session', 'e2')).toEqual([row(0).id])
    expect(await t.store.count()).toBe(23)
  })

  it('should find events by entity id, quotes and backslashes included', async () => {
    const { rows } = await t.store.pool.query<{ id: string }>(
      `SELECT id FROM events WHERE entities @> ARRAY[$1]::text[] AND epoch = 'e1' ORDER BY id_ms`,
      ['t_"1\\'],
    )
    expect(rows.map((r) => r.id)).toEqual(
      Array.from({ length: 22 }, (_, i) => i)
        .filter((i) => i % 2 === 1)
        .map((i) => row(i).id),
    )
  })

  it('should keep an envelope byte for byte, escapes included', async () => {
    const tricky = row(40, { id: '1700000000040-7' })
    tricky.envelope = JSON.stringify({
      id: tricky.id,
      timestamp: new Date(tricky.ts).toISOString(),
      data: { note: 'tab\there, line\nthere, back\\slash "quoted" \u0000 é 😀' },
    })
    expect(await t.store.write([tricky])).toBe(1)
    const { rows } = await t.store.pool.query<{ e: string }>(
      `SELECT envelope::text AS e FROM events WHERE id = $1`,
      [tricky.id],
    )
    expect(rows[0]!.e).toBe(tricky.envelope)
  })

  it('should write nothing of a batch PostgreSQL refuses', async () => {
    const before = await t.store.count()
    const bad = row(30, { envelope: '{"not json' })
    await expect(t.store.write([row(31), bad])).rejects.toThrow(/json/i)
    expect(await t.store.count()).toBe(before)
  })

  it('should make the partition of a far day on demand', async () => {
    await t.store.write([row(0, { ts: T0 + 400 * DAY, id: '1-1' })])
    expect(await t.store.partitions()).toContain('events_20270214')
  })
})

describe('toArchiveRow', () => {
  it('should take the time and entity ids from the envelope', () => {
    const r = toArchiveRow(
      {
        id: '5-1',
        channel: 'customer',
        stream: 'customer.booking',
        anomalyFlag: 'warning',
        json: JSON.stringify({
          timestamp: '2026-01-01T00:00:00.000Z',
          data: { studentId: 's_1', tutorId: 't_2', amount: 5, note: 'x' },
        }),
      },
      'ep',
      'tutoring',
      undefined,
    )
    expect(r).toMatchObject({ ts: Date.UTC(2026, 0, 1), entities: ['s_1', 't_2'], epoch: 'ep' })
  })

  it('should name the event when its timestamp is missing', () => {
    expect(() =>
      toArchiveRow(
        { id: '5-1', channel: 'c', stream: 's', anomalyFlag: 'normal', json: '{}' },
        'ep',
        'w',
        undefined,
      ),
    ).toThrow(/event 5-1 of c has no valid timestamp/)
  })

  it('should take only the declared fields when the world declares them', () => {
    expect(
      entityIdsOf({ studentId: 's', otherId: 'o', ids: ['a', 'b', 3] }, ['studentId', 'ids']),
    ).toEqual(['s', 'a', 'b', '3'])
  })
})
