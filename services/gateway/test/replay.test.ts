/**
 * Replay of the archive: exactly the archived range, in order, marked
 * `replay: true`, at the requested speed, to a client subscribed to the replay
 * topic only (WebSocket and SSE); status, cancel, and clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toArchiveRow, type ArchiveRow } from '@verisim/archive'
import { openTestArchive, type TestArchive } from '@verisim/archive/testing'
import { readEpoch } from '@verisim/bus'
import { connect, startHarness, type Harness } from './helpers.js'

let db: TestArchive
let h: Harness
let guarded: Harness
let epoch: string
const T0 = Date.UTC(2026, 4, 4, 10)
const MINUTE = 60_000
const rows: ArchiveRow[] = []

beforeAll(async () => {
  db = await openTestArchive()
  h = await startHarness({ DATABASE_URL: db.url, ARCHIVE_SCHEMA: db.schema })
  guarded = await startHarness({
    DATABASE_URL: db.url,
    ARCHIVE_SCHEMA: db.schema,
    ADMIN_TOKEN: 'secret-token',
  })
  epoch = (await readEpoch(h.redis, h.keys))!.epoch
  // 121 events, one every 10 simulated seconds over 20 minutes, over two channels
  for (let i = 0; i <= 120; i++) {
    const stream = i % 3 === 0 ? 'session.completed' : 'customer.tutor.search'
    const channel = stream.split('.')[0]!
    const id = `${5000 + i}-0`
    const ts = T0 + i * 10_000
    rows.push(
      toArchiveRow(
        {
          id,
          channel,
          stream,
          anomalyFlag: 'normal',
          json: JSON.stringify({
            id,
            world: 'tutoring',
            stream,
            channel,
            timestamp: new Date(ts).toISOString(),
            data: { i },
            normalizedValue: 50,
            anomalyFlag: 'normal',
          }),
        },
        epoch,
        'tutoring',
        undefined,
      ),
    )
  }
  await db.store.write(rows)
}, 60_000)

afterAll(async () => {
  await h?.close()
  await guarded?.close()
  await db?.close()
})

async function post(body: unknown, harness = h, headers: Record<string, string> = {}) {
  const r = await fetch(`${harness.url}/api/streams/replay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  return [r.status, await r.json()] as [number, any]
}

type ReplayEvent = { id: string; stream: string; replay?: boolean; data: Record<string, unknown> }

describe('POST /api/streams/replay', () => {
  it('should deliver exactly the range, in order, at the requested speed, to a subscriber of the replay only', async () => {
    const start = new Date(T0).toISOString()
    const end = new Date(T0 + 20 * MINUTE).toISOString()
    const [status, r] = await post({ start, end, speed: 600 }) // 20 simulated minutes in 2 s
    expect(status).toBe(202)
    expect(r).toMatchObject({ state: 'running', total: 120, topic: `replay:${r.id}`, speed: 600 })
    const c = connect(h.url)
    await c.opened
    const arrivals: { at: number; e: ReplayEvent }[] = []
    c.ws.on('message', (d) => {
      const m = JSON.parse(d.toString())
      if (m.type === 'replay') for (const e of m.events) arrivals.push({ at: performance.now(), e })
    })
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: [r.topic] }))
    const stopLive = h.pump(5, 50) // live events meanwhile: not for this client
    const deadline = Date.now() + 15_000
    while (
      !arrivals.some((a) => a.e.stream === 'simulation.replay' && a.e.data.state !== 'running')
    ) {
      if (Date.now() > deadline) throw new Error('replay did not end')
      await new Promise((res) => setTimeout(res, 50))
    }
    await stopLive()
    c.ws.close()
    const events = arrivals.filter((a) => a.e.stream !== 'simulation.replay')
    // exactly the archived range [start, end), in order, each marked
    expect(events.map((a) => a.e.id)).toEqual(rows.slice(0, 120).map((x) => x.id))
    expect(events.every((a) => a.e.replay === true)).toBe(true)
    // nothing live reached a client subscribed to the replay only
    expect(c.rx.events).toEqual([])
    // pacing: first to last event is 1190 simulated seconds, 1983 ms at 600x (5 % = 99 ms)
    const took = events.at(-1)!.at - events[0]!.at
    expect(Math.abs(took - 1190_000 / 600)).toBeLessThan(0.05 * (1190_000 / 600))
    const final = arrivals.at(-1)!.e.data
    expect(final).toMatchObject({ state: 'done', sent: 120, total: 120, progress: 1 })
    const [, s] = await fetch(`${h.url}/api/streams/replay/${r.id}`).then(async (x) => [
      x.status,
      await x.json(),
    ])
    expect(s).toMatchObject({ state: 'done', sent: 120 })
    const list = await fetch(`${h.url}/api/streams/replays`).then((x) => x.json())
    expect(list.replays.map((x: { id: string }) => x.id)).toContain(r.id)
  }, 30_000)

  it('should deliver a range of many pages exactly once, ids and times interleaved as the archiver writes them', async () => {
    // 5,000 events an hour later, ids in publication order (4 and 5 digits: numeric order,
    // not text order) but times jittered (several channels)
    const many: ArchiveRow[] = []
    const base = T0 + 60 * MINUTE
    for (let i = 0; i < 5000; i++) {
      const id = `${9000 + i}-${i % 3}`
      const ts = base + i * 100 + ((i * 7919) % 13) * 37
      const channel = ['customer', 'session', 'system'][i % 3]!
      const stream = `${channel}.x`
      many.push(
        toArchiveRow(
          {
            id,
            channel,
            stream,
            anomalyFlag: 'normal',
            json: JSON.stringify({
              id,
              world: 'tutoring',
              stream,
              channel,
              timestamp: new Date(ts).toISOString(),
              data: { i },
              normalizedValue: 50,
              anomalyFlag: 'normal',
            }),
          },
          epoch,
          'tutoring',
          undefined,
        ),
      )
    }
    // written in batches out of id order, as several channels' reads interleave
    for (let b = 0; b < 5; b++) await db.store.write(many.filter((_, i) => i % 5 === b))
    const [, r] = await post({
      start: new Date(base).toISOString(),
      end: new Date(base + 600_000).toISOString(),
      speed: 1_000_000,
    })
    expect(r.total).toBe(5000)
    const c = connect(h.url)
    await c.opened
    const ids: string[] = []
    let done = false
    c.ws.on('message', (d) => {
      const m = JSON.parse(d.toString())
      if (m.type !== 'replay') return
      for (const e of m.events) {
        if (e.stream === 'simulation.replay') done ||= e.data.state !== 'running'
        else ids.push(e.id)
      }
    })
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: [r.topic] }))
    const deadline = Date.now() + 15_000
    while (!done && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50))
    c.ws.close()
    expect(ids).toEqual(many.map((x) => x.id))
  }, 30_000)

  it('should filter by channel and stream, and deliver over SSE', async () => {
    const [, r] = await post({
      start: new Date(T0).toISOString(),
      end: new Date(T0 + 5 * MINUTE).toISOString(),
      streams: ['session.*'],
      speed: 100_000,
    })
    expect(r.total).toBe(10) // i = 0, 3, …, 27
    const res = await fetch(`${h.url}/sse?topics=${r.topic}`)
    const reader = res.body!.getReader()
    let text = ''
    const deadline = Date.now() + 10_000
    while (!/"state":"(done|failed)"/.test(text) && Date.now() < deadline) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    await reader.cancel()
    const messages = text
      .split('\n\n')
      .filter((b) => b.startsWith('event: replay'))
      .map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6)))
    const events = messages
      .flatMap((m) => m.events)
      .filter((e: ReplayEvent) => e.stream !== 'simulation.replay')
    expect(events.map((e: ReplayEvent) => e.stream)).toEqual(Array(10).fill('session.completed'))
    expect(messages[0].topic).toBe(r.topic)
  }, 20_000)

  it('should cancel a running replay, telling its subscribers', async () => {
    const [, r] = await post({
      start: new Date(T0).toISOString(),
      end: new Date(T0 + 20 * MINUTE).toISOString(),
      speed: 1,
    })
    const c = connect(h.url)
    await c.opened
    const progress: Record<string, unknown>[] = []
    c.ws.on('message', (d) => {
      const m = JSON.parse(d.toString())
      if (m.type === 'replay')
        for (const e of m.events) if (e.stream === 'simulation.replay') progress.push(e.data)
    })
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: [r.topic] }))
    await new Promise((res) => setTimeout(res, 300))
    const del = await fetch(`${h.url}/api/streams/replay/${r.id}`, { method: 'DELETE' })
    expect(del.status).toBe(200)
    expect(await del.json()).toMatchObject({ state: 'cancelled' })
    const deadline = Date.now() + 5000
    while (!progress.some((p) => p.state === 'cancelled') && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50))
    }
    expect(progress.at(-1)).toMatchObject({ state: 'cancelled' })
    c.ws.close()
  }, 20_000)

  it('should refuse bad input, an unknown replay and a missing token, naming what was expected', async () => {
    const start = new Date(T0).toISOString()
    const [s1, b1] = await post({ start, end: start, speed: 1 })
    expect(s1).toBe(400)
    expect(b1.error.message).toMatch(/expected start < end/)
    const [s2] = await post({ start, end: new Date(T0 + MINUTE).toISOString(), speed: 0 })
    expect(s2).toBe(400)
    const [s3, b3] = await post({
      start,
      end: new Date(T0 + MINUTE).toISOString(),
      channel: 'nope',
      speed: 1,
    })
    expect(s3).toBe(400)
    expect(b3.error.message).toMatch(/channel "nope" is unknown; expected one of/)
    const [s4, b4] = await post({
      start,
      end: new Date(T0 + MINUTE).toISOString(),
      streams: ['nope.*'],
      speed: 1,
    })
    expect(s4).toBe(400)
    expect(b4.error.code).toBe('VS_GW_UNKNOWN_TOPIC')
    const missing = await fetch(`${h.url}/api/streams/replay/abc123`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).error.message).toMatch(/no replay "abc123"/)
    const c = connect(h.url)
    await c.opened
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['replay:abc123'] }))
    const deadline = Date.now() + 5000
    while (!c.rx.messages.some((m) => m.type === 'error') && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 20))
    }
    expect(c.rx.messages.find((m) => m.type === 'error')).toMatchObject({
      code: 'VS_GW_UNKNOWN_TOPIC',
      message: expect.stringMatching(/unknown replay topic "replay:abc123"/),
    })
    c.ws.close()
    const [s5] = await post({ start, end: new Date(T0 + MINUTE).toISOString(), speed: 1 }, guarded)
    expect(s5).toBe(401)
    const [s6, b6] = await post(
      { start, end: new Date(T0 + MINUTE).toISOString(), speed: 1000 },
      guarded,
      {
        authorization: 'Bearer secret-token',
        'idempotency-key': 'k1',
      },
    )
    expect(s6).toBe(202)
    const [s7, b7] = await post(
      { start, end: new Date(T0 + MINUTE).toISOString(), speed: 1000 },
      guarded,
      {
        authorization: 'Bearer secret-token',
        'idempotency-key': 'k1',
      },
    )
    expect(s7).toBe(200)
    expect(b7.id).toBe(b6.id)
  }, 20_000)
})
