import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareIds } from '@verisim/bus'
import { connect, startHarness, until, type Harness } from './helpers.js'

let h: Harness

beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h?.close()
})

const ids = (list: { id: string }[]) => list.map((e) => e.id)

describe('GET /ws', () => {
  it('should deliver live events in id order after subscribed', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'] }))
    await until(() => c.rx.messages.some((m) => m.type === 'subscribed'))
    const batch = await h.produce(30)
    await until(() => c.rx.events.length >= 30, 3000, '30 events')
    expect(ids(c.rx.events)).toEqual(ids(batch))
    expect(c.rx.messages[0]).toMatchObject({ type: 'subscribed', topics: ['*'] })
    c.ws.close()
  })

  it('should filter by topic and deliver an event matched twice once', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['session.*', 'session.completed'] }))
    await until(() => c.rx.messages.some((m) => m.type === 'subscribed'))
    const batch = await h.produce(30)
    const expected = batch.filter((e) => e.channel === 'session')
    await until(() => c.rx.events.length >= expected.length, 3000, 'session events')
    await new Promise((r) => setTimeout(r, 250))
    expect(ids(c.rx.events)).toEqual(ids(expected))
    c.ws.close()
  })

  it('should catch up from lastId with every missed event once, then continue live', async () => {
    const stop = h.pump(7, 15)
    const a = connect(h.url)
    await a.opened
    a.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'] }))
    await until(() => a.rx.events.length > 50, 5000, 'first events')
    a.ws.close()
    await a.closed
    const lastId = a.rx.events.at(-1)!.id
    await new Promise((r) => setTimeout(r, 300))
    const b = connect(h.url)
    await b.opened
    b.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'], lastId }))
    await until(
      () => b.rx.messages.some((m) => m.type === 'catchup' && m.complete === true),
      5000,
      'catchup',
    )
    const n = b.rx.events.length
    await until(() => b.rx.events.length > n + 50, 5000, 'live after catchup')
    await stop()
    await new Promise((r) => setTimeout(r, 300))
    b.ws.close()
    const got = [...a.rx.events, ...b.rx.events]
    const first = h.written.findIndex((e) => e.id === got[0]!.id)
    expect(ids(got)).toEqual(ids(h.written.slice(first, first + got.length)))
    const types = b.rx.messages.map((m) => m.type)
    expect(types[0]).toBe('subscribed')
    expect(types.indexOf('catchup')).toBe(1)
  })

  it('should answer a resume point from before the epoch with epoch_changed', async () => {
    const c = connect(h.url)
    await c.opened
    await h.redis.set(h.keys.epoch, JSON.stringify({ epoch: 'e2', floorId: h.written.at(-1)!.id }))
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'], lastId: h.written[0]!.id }))
    await until(() => c.rx.messages.some((m) => m.type === 'catchup'))
    expect(c.rx.messages.find((m) => m.type === 'catchup')).toEqual({
      type: 'catchup',
      events: [],
      reason: 'epoch_changed',
    })
    expect(c.rx.messages[0]).toMatchObject({ type: 'subscribed', epoch: 'e2' })
    c.ws.close()
  })

  it('should answer an id beyond anything stored with epoch_changed', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'], lastId: '99999999999999-0' }))
    await until(() => c.rx.messages.some((m) => m.type === 'catchup'))
    expect(c.rx.messages.find((m) => m.type === 'catchup')).toMatchObject({
      reason: 'epoch_changed',
    })
    c.ws.close()
  })

  it('should resume from a simulation timestamp', async () => {
    const before = await h.produce(10)
    const stamp = (JSON.parse(before[4]!.json) as { timestamp: string }).timestamp
    await new Promise((r) => setTimeout(r, 5))
    const after = await h.produce(10)
    await new Promise((r) => setTimeout(r, 250))
    const c = connect(h.url)
    await c.opened
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'], lastTimestamp: stamp }))
    await until(() => c.rx.messages.some((m) => m.type === 'catchup' && m.complete))
    const got = ids(c.rx.events)
    expect(got).toEqual(expect.arrayContaining(ids(after)))
    for (const e of c.rx.events) {
      expect(compareIds(e.id, before[0]!.id)).toBeGreaterThan(0)
    }
    c.ws.close()
  })

  it('should answer bad frames with errors and keep the socket open', async () => {
    const c = connect(h.url)
    await c.opened
    const frames: (string | Buffer)[] = [
      'nope',
      '[]',
      '{"type":"dance"}',
      '{"type":"subscribe","topics":"*"}',
      '{"type":"subscribe","topics":["no.such.stream"]}',
      JSON.stringify({ type: 'subscribe', topics: ['x'.repeat(70 * 1024)] }),
      Buffer.from([1, 2, 3]),
      '{"type":"control","requestId":"r1","action":"explode"}',
    ]
    for (const f of frames) c.ws.send(f, { binary: Buffer.isBuffer(f) })
    await until(
      () => c.rx.messages.filter((m) => m.type === 'error').length >= frames.length,
      3000,
      'errors',
    )
    expect(c.rx.messages.map((m) => m.code)).toEqual([
      'VS_GW_BAD_JSON',
      'VS_GW_BAD_MESSAGE',
      'VS_GW_UNKNOWN_TYPE',
      'VS_GW_INVALID_MESSAGE',
      'VS_GW_UNKNOWN_TOPIC',
      'VS_GW_FRAME_TOO_LARGE',
      'VS_GW_BINARY_FRAME',
      'VS_GW_INVALID_MESSAGE',
    ])
    expect(c.rx.messages.at(-1)).toMatchObject({ requestId: 'r1' })
    c.ws.send('{"type":"ping"}')
    await until(() => c.rx.messages.some((m) => m.type === 'pong'))
    expect(c.ws.readyState).toBe(c.ws.OPEN)
    c.ws.close()
  })

  it('should unsubscribe and stop sending those topics', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['customer.*', 'system.*'] }))
    c.ws.send(JSON.stringify({ type: 'unsubscribe', topics: ['system.*', 'session.*'] }))
    await until(() => c.rx.messages.some((m) => m.type === 'unsubscribed'))
    expect(c.rx.messages.find((m) => m.type === 'unsubscribed')).toEqual({
      type: 'unsubscribed',
      topics: ['system.*'],
    })
    await h.produce(30)
    await until(() => c.rx.events.length >= 10, 3000)
    await new Promise((r) => setTimeout(r, 250))
    expect(new Set(c.rx.events.map((e) => e.channel))).toEqual(new Set(['customer']))
    c.ws.close()
  })
})

describe('GET /api/streams', () => {
  it('should return the catalog the generator published', async () => {
    const r = await fetch(`${h.url}/api/streams`)
    expect(r.status).toBe(200)
    const body = (await r.json()) as { streams: unknown[] }
    expect(body.streams).toHaveLength(3)
  })
})

describe('errors', () => {
  it('should answer unknown routes with a JSON error', async () => {
    const r = await fetch(`${h.url}/nope`)
    expect(r.status).toBe(404)
    expect(await r.json()).toEqual({
      error: { code: 'VS_GW_NOT_FOUND', message: 'no route GET /nope' },
    })
  })

  it('should reject a malformed Last-Event-ID on SSE', async () => {
    const r = await fetch(`${h.url}/sse?topics=*`, {
      headers: { accept: 'text/event-stream', 'last-event-id': 'abc' },
    })
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain(
      'Last-Event-ID',
    )
  })
})
