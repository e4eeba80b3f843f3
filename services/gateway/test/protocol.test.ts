/**
 * The protocol's edges with short timings: server pings and the liveness
 * close, SSE comment heartbeats, frames the gateway must refuse (with an error
 * and the socket kept, or with a documented close code), replies in frame order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { MAX_FRAME_BYTES } from '@verisim/schema'
import { connect, startHarness, until, type Harness } from './helpers.js'

const PING_MS = 400
const SSE_HEARTBEAT_MS = 150

let h: Harness

beforeAll(async () => {
  h = await startHarness({
    VERISIM_PING_INTERVAL_MS: String(PING_MS),
    VERISIM_SSE_HEARTBEAT_MS: String(SSE_HEARTBEAT_MS),
  })
})
afterAll(async () => {
  await h?.close()
})

describe('liveness', () => {
  it('should ping every interval and keep a client that answers with pong', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.on('message', (d) => {
      if ((JSON.parse(d.toString()) as { type: string }).type === 'ping')
        c.ws.send('{"type":"pong"}')
    })
    const t0 = Date.now()
    await new Promise((r) => setTimeout(r, PING_MS * 5 + 100))
    const pings = c.rx.messages.filter((m) => m.type === 'ping')
    expect(c.ws.readyState).toBe(WebSocket.OPEN) // alive well past 3 intervals
    expect(pings.length).toBeGreaterThanOrEqual(4)
    expect(pings.length).toBeLessThanOrEqual(6)
    for (const p of pings)
      expect(new Date(p.ts as string).getTime()).toBeGreaterThanOrEqual(t0 - 50)
    c.ws.close()
  })

  it('should close a client that sends nothing with 4002 after 3 ping intervals', async () => {
    const c = connect(h.url)
    await c.opened
    const t0 = Date.now()
    const [code, reason] = await c.closed
    const after = Date.now() - t0
    expect(code).toBe(4002)
    expect(reason).toContain('no pong')
    expect(after).toBeGreaterThanOrEqual(PING_MS * 3 - 20)
    expect(after).toBeLessThan(PING_MS * 3.9) // 3 intervals, not 4
    expect(c.rx.messages.filter((m) => m.type === 'ping').length).toBeGreaterThanOrEqual(2)
  })

  it('should count any frame from the client as a sign of life', async () => {
    const c = connect(h.url)
    await c.opened
    const timer = setInterval(() => c.ws.send('{"type":"ping"}'), PING_MS)
    await new Promise((r) => setTimeout(r, PING_MS * 5))
    clearInterval(timer)
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
    // …and once it goes quiet, the liveness window closes it.
    const [code] = await c.closed
    expect(code).toBe(4002)
  })
})

describe('SSE heartbeats', () => {
  it('should send a comment heartbeat every interval', async () => {
    const ac = new AbortController()
    const r = await fetch(`${h.url}/sse?topics=*`, {
      headers: { accept: 'text/event-stream' },
      signal: ac.signal,
    })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toContain('text/event-stream')
    const reader = r.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const stamps: number[] = []
    const t0 = Date.now()
    while (Date.now() - t0 < SSE_HEARTBEAT_MS * 7) {
      const { value, done } = await reader.read()
      if (done) break
      const chunk = decoder.decode(value)
      text += chunk
      for (const _ of chunk.matchAll(/^: heartbeat$/gm)) stamps.push(Date.now() - t0)
    }
    ac.abort()
    expect(text.startsWith(': connected\n\n')).toBe(true)
    expect(stamps.length).toBeGreaterThanOrEqual(5)
    expect(stamps[0]!).toBeGreaterThanOrEqual(SSE_HEARTBEAT_MS - 30)
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!)
    for (const g of gaps) expect(g).toBeGreaterThan(SSE_HEARTBEAT_MS / 2)
  })
})

describe('bad frames', () => {
  it('should answer every kind of bad frame with a clear error and keep the socket', async () => {
    const c = connect(h.url)
    await c.opened
    const cases: [string | Buffer, string, RegExp][] = [
      ['{"type":', 'VS_GW_BAD_JSON', /not valid JSON/],
      ['42', 'VS_GW_BAD_MESSAGE', /JSON object with a "type" field, got number/],
      [
        '{"topics":["*"]}',
        'VS_GW_BAD_MESSAGE',
        /no string "type" field; expected one of subscribe/,
      ],
      ['{"type":"hello"}', 'VS_GW_UNKNOWN_TYPE', /unknown message type "hello"; expected one of/],
      ['{"type":"subscribe","topics":[1]}', 'VS_GW_INVALID_MESSAGE', /\/topics\/0/],
      ['{"type":"subscribe","topics":["*"],"lastId":7}', 'VS_GW_INVALID_MESSAGE', /\/lastId/],
      [
        '{"type":"subscribe","topics":["*"],"extra":true}',
        'VS_GW_INVALID_MESSAGE',
        /unexpected field "extra"/,
      ],
      ['{"type":"unsubscribe"}', 'VS_GW_INVALID_MESSAGE', /missing required field "topics"/],
      ['{"type":"ping","ts":5}', 'VS_GW_INVALID_MESSAGE', /\/ts/],
      [
        `{"type":"ping","ts":"${'y'.repeat(MAX_FRAME_BYTES)}"}`,
        'VS_GW_FRAME_TOO_LARGE',
        /exceeds the 65536-byte limit/,
      ],
      [Buffer.from('{"type":"ping"}'), 'VS_GW_BINARY_FRAME', /binary frames are not accepted/],
    ]
    for (const [frame] of cases) c.ws.send(frame, { binary: Buffer.isBuffer(frame) })
    c.ws.send('{"type":"ping","ts":"after"}')
    await until(() => c.rx.messages.some((m) => m.type === 'pong'), 3000, 'pong')
    const errors = c.rx.messages.filter((m) => m.type === 'error')
    expect(errors.map((e) => e.code)).toEqual(cases.map(([, code]) => code))
    errors.forEach((e, i) => expect(e.message).toMatch(cases[i]![2]))
    expect(c.rx.messages.at(-1)).toEqual({ type: 'pong', ts: 'after' })
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
    c.ws.close()
  })

  it('should answer frames in the order they arrive, errors included', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send('{"type":"subscribe","topics":["customer.*"],"lastId":"1-0"}')
    c.ws.send('garbage')
    c.ws.send('{"type":"unsubscribe","topics":["customer.*"]}')
    c.ws.send('{"type":"ping","ts":"end"}')
    await until(() => c.rx.messages.some((m) => m.type === 'pong'), 3000, 'pong')
    // an id from no stored stream: epoch_changed, then the recent events of the streams there are
    expect(c.rx.messages.map((m) => m.type)).toEqual([
      'subscribed',
      'catchup',
      'snapshot',
      'error',
      'unsubscribed',
      'pong',
    ])
    c.ws.close()
  })

  it('should close with 1009 on a frame over 1 MiB', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send('x'.repeat(MAX_FRAME_BYTES * 16 + 1))
    const [code] = await c.closed
    expect(code).toBe(1009)
  })

  it('should close with 1007 on a text frame that is not UTF-8', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    const [code] = await c.closed
    expect(code).toBe(1007)
  })

  it('should stay up for other clients while one is refused', async () => {
    const r = await fetch(`${h.url}/health/live`)
    expect(r.status).toBe(200)
    const c = connect(h.url)
    await c.opened
    c.ws.send('{"type":"subscribe","topics":["*"]}')
    await until(() => c.rx.messages.some((m) => m.type === 'subscribed'))
    const batch = await h.produce(20)
    await until(() => c.rx.events.length >= 20, 3000, 'events')
    expect(c.rx.events.map((e) => e.id)).toEqual(batch.map((e) => e.id))
    c.ws.close()
  })
})
