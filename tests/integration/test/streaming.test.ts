/**
 * The walking skeleton end to end: generator and gateway as real processes,
 * events over WebSocket and SSE in id order, and a resume that misses nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  compare,
  expectIncreasing,
  startStack,
  storedEvents,
  TestClient,
  type Envelope,
  type Stack,
} from './harness.js'
import { openSse } from './sse-client.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ env: { VERISIM_SPEED: '120', VERISIM_SEED: '7' } })
})
afterAll(async () => {
  await stack?.stop()
})

async function waitUntil(pred: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('walking skeleton', () => {
  it('should stream events over WebSocket in strictly increasing id order within 2 s', async () => {
    const c = new TestClient(stack.wsUrl)
    await c.opened
    const t0 = Date.now()
    c.send({ type: 'subscribe', topics: ['*'] })
    const subscribed = await c.waitFor(() => c.message('subscribed'), 2000, 'subscribed')
    expect(subscribed).toMatchObject({ type: 'subscribed', topics: ['*'] })
    expect(typeof subscribed.epoch).toBe('string')
    await c.waitFor(() => c.events.length > 0, 2000, 'a first batch')
    expect(Date.now() - t0).toBeLessThan(2000)
    await c.waitFor(() => c.events.length >= 50, 10_000, '50 events')
    expectIncreasing(c.events.map((e) => e.id))
    const e = c.events[0]!
    expect(e).toMatchObject({
      world: 'tutoring',
      anomalyFlag: expect.stringMatching(/normal|warning|critical/),
    })
    expect(e.stream.startsWith(`${e.channel}.`)).toBe(true)
    expect(new Date(e.timestamp).toISOString()).toBe(e.timestamp)
    expect(
      c.messages.filter((m) => m.type === 'batch').every((m) => (m.events as unknown[]).length > 0),
    ).toBe(true)
    await c.close()
  })

  /** The live events of an SSE connection: a `snapshot` message (no id, no resume point given) may only come first. */
  const live = (messages: readonly { event?: string; id?: string; data: string }[]) => {
    const at = messages.findIndex((m) => m.event === 'snapshot')
    expect(at === -1 || at === 0).toBe(true)
    if (at === 0) expect(messages[0]!.id).toBeUndefined()
    return messages.filter((m) => m.event !== 'snapshot')
  }

  it('should deliver the same events over SSE as over WebSocket', async () => {
    const c = new TestClient(stack.wsUrl)
    await c.opened
    const sse = openSse(`${stack.gatewayUrl}/sse?topics=*`)
    c.send({ type: 'subscribe', topics: ['*'] })
    await c.waitFor(() => c.events.length > 0, 5000, 'ws events')
    await waitUntil(() => live(sse.messages).length > 0, 5000, 'sse events')
    await new Promise((r) => setTimeout(r, 1500))
    await sse.close()
    await c.close()
    expect(sse.status()).toBe(200)
    const sseEvents = live(sse.messages).map((m) => {
      const env = JSON.parse(m.data) as Envelope
      expect(m.id).toBe(env.id)
      expect(m.event).toBe(env.stream)
      return env
    })
    expectIncreasing(sseEvents.map((e) => e.id))
    // Compare over the window both were connected for.
    const lo = [sseEvents[0]!.id, c.events[0]!.id].sort(compare)[1]!
    const hi = [sseEvents.at(-1)!.id, c.events.at(-1)!.id].sort(compare)[0]!
    const inWindow = (list: Envelope[]) =>
      list
        .filter((e) => compare(e.id, lo) >= 0 && compare(e.id, hi) <= 0)
        .map((e) => JSON.stringify(e))
    expect(inWindow(sseEvents).length).toBeGreaterThan(10)
    expect(inWindow(sseEvents)).toEqual(inWindow(c.events))
  })

  it('should resume a WebSocket client from its last id with every missed event exactly once', async () => {
    const a = new TestClient(stack.wsUrl)
    await a.opened
    a.send({ type: 'subscribe', topics: ['*'] })
    await a.waitFor(() => a.events.length >= 20, 10_000, 'events before disconnect')
    await a.close()
    const before = [...a.events]
    const lastId = before.at(-1)!.id
    await new Promise((r) => setTimeout(r, 1000)) // events keep flowing while it is away

    const b = new TestClient(stack.wsUrl)
    await b.opened
    b.send({ type: 'subscribe', topics: ['*'], lastId })
    const catchup = await b.waitFor(
      () => b.messages.find((m) => m.type === 'catchup' && m.complete === true),
      10_000,
      'catchup complete',
    )
    expect(catchup.reason).toBeUndefined()
    const missed = b.messages
      .filter((m) => m.type === 'catchup')
      .flatMap((m) => m.events as Envelope[])
    expect(missed.length).toBeGreaterThan(0)
    // Then live events continue.
    const afterCatchup = b.events.length
    await b.waitFor(() => b.events.length > afterCatchup + 20, 10_000, 'live events after catchup')
    await b.close()

    const received = [...before, ...b.events]
    const ids = received.map((e) => e.id)
    expectIncreasing(ids) // no duplicates, in order
    const stored = await storedEvents(
      stack.redis,
      stack.prefix,
      'tutoring',
      before[0]!.id,
      received.at(-1)!.id,
    )
    expect(ids.slice(1)).toEqual(stored.map((e) => e.id)) // no gaps
    expect(received.slice(1).map((e) => JSON.stringify(e))).toEqual(
      stored.map((e) => JSON.stringify(e)),
    )
  })

  it('should resume an SSE client from Last-Event-ID with every missed event exactly once', async () => {
    const first = openSse(`${stack.gatewayUrl}/sse?topics=session.*`)
    await waitUntil(() => live(first.messages).length >= 5, 10_000, 'sse events')
    await first.close()
    const lastId = live(first.messages).at(-1)!.id!
    await new Promise((r) => setTimeout(r, 1000))
    const second = openSse(`${stack.gatewayUrl}/sse?topics=session.*`, { 'last-event-id': lastId })
    await waitUntil(() => second.messages.length >= 10, 10_000, 'resumed sse events')
    await new Promise((r) => setTimeout(r, 300))
    await second.close()
    // a resume point was given: no snapshot on the second connection
    expect(second.messages.some((m) => m.event === 'snapshot')).toBe(false)
    const received = [...live(first.messages), ...second.messages].map(
      (m) => JSON.parse(m.data) as Envelope,
    )
    expectIncreasing(received.map((e) => e.id))
    const stored = (
      await storedEvents(
        stack.redis,
        stack.prefix,
        'tutoring',
        received[0]!.id,
        received.at(-1)!.id,
      )
    ).filter((e) => e.channel === 'session')
    expect(received.slice(1).map((e) => e.id)).toEqual(stored.map((e) => e.id))
  })

  it('should answer a malformed frame with an error naming the problem and keep the socket open', async () => {
    const c = new TestClient(stack.wsUrl)
    await c.opened
    c.send('{"type":"subscribe","topics":[42]}')
    const err = await c.waitFor(() => c.message('error'), 3000, 'error')
    expect(err).toMatchObject({ code: 'VS_GW_INVALID_MESSAGE' })
    expect(String(err.message)).toContain('/topics/0')
    c.send('not json')
    c.send({ type: 'subscribe', topics: ['nope.*'] })
    await c.waitFor(
      () => c.messages.filter((m) => m.type === 'error').length >= 3,
      3000,
      'three errors',
    )
    const codes = c.messages.filter((m) => m.type === 'error').map((m) => m.code)
    expect(codes).toEqual(['VS_GW_INVALID_MESSAGE', 'VS_GW_BAD_JSON', 'VS_GW_UNKNOWN_TOPIC'])
    c.send({ type: 'ping' })
    await c.waitFor(() => c.message('pong'), 3000, 'pong')
    c.send({ type: 'subscribe', topics: ['customer.*'] })
    await c.waitFor(() => c.events.length > 0, 5000, 'events after errors')
    expect(c.events.every((e) => e.channel === 'customer')).toBe(true)
    c.send({ type: 'unsubscribe', topics: ['customer.*'] })
    await c.waitFor(() => c.message('unsubscribed'), 3000, 'unsubscribed')
    expect(c.message('unsubscribed')).toEqual({ type: 'unsubscribed', topics: ['customer.*'] })
    await c.close()
  })

  it('should report health and metrics on both services', async () => {
    for (const url of [stack.gatewayUrl, stack.generatorUrl]) {
      expect((await fetch(`${url}/health/live`)).status).toBe(200)
      const ready = await fetch(`${url}/health/ready`)
      expect(ready.status).toBe(200)
      const metrics = await (await fetch(`${url}/metrics`)).text()
      expect(metrics).toMatch(/^verisim_(gateway|generator)_/m)
    }
    const gen = await (await fetch(`${stack.generatorUrl}/metrics`)).text()
    expect(gen).toMatch(/verisim_generator_events_written_total\{channel="customer"\} [1-9]/)
  })

  it('should reject an SSE request with an unknown topic with a JSON error', async () => {
    const r = await fetch(`${stack.gatewayUrl}/sse?topics=bogus.*`, {
      headers: { accept: 'text/event-stream' },
    })
    expect(r.status).toBe(400)
    const body = (await r.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('VS_GW_UNKNOWN_TOPIC')
    expect(body.error.message).toContain('"bogus.*"')
  })
})
