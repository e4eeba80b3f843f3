import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RawEvent } from '@verisim/bus'
import { startHarness, until, type Harness } from '../../helpers.js'

let h: Harness

beforeAll(async () => {
  h = await startHarness()
  await h.produce(150)
  await h.produce(3, 'critical')
  await until(() => h.app.streams.frontier() === h.written.at(-1)!.id, 3000, 'frontier')
})
afterAll(async () => {
  await h?.close()
})

interface Answer {
  events: { id: string; stream: string; anomalyFlag: string; timestamp: string }[]
  lastId: string
}
const ids = (list: { id: string }[]) => list.map((e) => e.id)

async function get(
  query: string,
): Promise<{ status: number; body: Answer & { error?: { code: string; message: string } } }> {
  const r = await h.app.inject({ method: 'GET', url: `/api/simulation/events${query}` })
  return { status: r.statusCode, body: r.json() }
}

describe('GET /api/simulation/events', () => {
  it('should return the newest 100 events oldest first, and the frontier as lastId', async () => {
    const { status, body } = await get('')
    expect(status).toBe(200)
    expect(ids(body.events)).toEqual(ids(h.written.slice(-100)))
    expect(body.lastId).toBe(h.written.at(-1)!.id)
  })

  it('should filter by a stream name or a topic pattern', async () => {
    const one = await get('?stream=session.completed&limit=5')
    expect(ids(one.body.events)).toEqual(
      ids(h.written.filter((e) => e.stream === 'session.completed').slice(-5)),
    )
    const pattern = await get('?stream=customer.*,anomalies&limit=1000')
    const keep = (e: RawEvent) => e.channel === 'customer' || e.anomalyFlag !== 'normal'
    expect(ids(pattern.body.events)).toEqual(ids(h.written.filter(keep)))
  })

  it('should page forward from an id with lastId', async () => {
    const from = h.written[9]!.id
    const a = await get(`?since=${from}&limit=50`)
    expect(ids(a.body.events)).toEqual(ids(h.written.slice(10, 60)))
    expect(a.body.lastId).toBe(h.written[59]!.id)
    const b = await get(`?since=${a.body.lastId}&limit=1000`)
    expect(ids(b.body.events)).toEqual(ids(h.written.slice(60)))
    expect(b.body.lastId).toBe(h.written.at(-1)!.id)
    const c = await get(`?since=${b.body.lastId}`)
    expect(c.body.events).toEqual([])
    expect(c.body.lastId).toBe(b.body.lastId)
  })

  it('should take an ISO time as since (simulation time)', async () => {
    const all = (await get('?limit=1000')).body.events
    const at = all[120]!.timestamp
    const { body } = await get(`?since=${encodeURIComponent(at)}&limit=1000`)
    expect(ids(body.events)).toEqual(ids(all.filter((e) => e.timestamp > at)))
  })

  it('should answer a bad limit, since or stream with a 400 naming it', async () => {
    for (const [q, field] of [
      ['?limit=1001', 'limit'],
      ['?limit=0', 'limit'],
      ['?limit=abc', 'limit'],
      ['?since=yesterday', 'since'],
      ['?stream=bogus.topic', 'stream'],
    ] as const) {
      const { status, body } = await get(q)
      expect(status, q).toBe(400)
      expect(body.error!.message, q).toContain(field)
    }
  })

  it('should appear in the OpenAPI document', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/docs/json' })
    const doc = r.json() as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> }
    const op = doc.paths['/api/simulation/events']?.get
    expect(op?.parameters?.map((p) => p.name).sort()).toEqual(['limit', 'since', 'stream'])
  })
})
