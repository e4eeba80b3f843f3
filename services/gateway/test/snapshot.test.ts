import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareIds, type RawEvent } from '@verisim/bus'
import { connect, startHarness, until, type Harness } from './helpers.js'

let h: Harness

beforeAll(async () => {
  h = await startHarness()
  // 20 events in each of the catalog's 3 streams, then 2 anomalies.
  await h.produce(60)
  await h.produce(2, 'warning')
  await until(() => h.app.streams.frontier() === h.written.at(-1)!.id, 3000, 'frontier')
})
afterAll(async () => {
  await h?.close()
})

const ids = (list: { id: string }[]) => list.map((e) => e.id)

/** The last `n` written events of each stream `keep` takes, oldest first. */
function lastOfEach(keep: (e: RawEvent) => boolean, n = 10): string[] {
  const by = new Map<string, RawEvent[]>()
  for (const e of h.written.filter(keep)) by.set(e.stream, [...(by.get(e.stream) ?? []), e])
  return [...by.values()]
    .flatMap((list) => list.slice(-n))
    .map((e) => e.id)
    .sort(compareIds)
}

async function subscribe(frame: Record<string, unknown>) {
  const c = connect(h.url)
  await c.opened
  c.ws.send(JSON.stringify({ type: 'subscribe', ...frame }))
  await until(() => c.rx.messages.some((m) => m.type === 'subscribed'), 3000, 'subscribed')
  return c
}

const snapshotOf = (messages: Record<string, unknown>[]) =>
  messages.find((m) => m.type === 'snapshot') as { events: RawEvent[] } | undefined

describe('snapshot on subscribe (WS)', () => {
  it('should send the last 10 events of each matched stream, oldest first, right after subscribed', async () => {
    const c = await subscribe({ topics: ['*'] })
    await until(() => snapshotOf(c.rx.messages), 3000, 'snapshot')
    expect(c.rx.messages.map((m) => m.type).slice(0, 2)).toEqual(['subscribed', 'snapshot'])
    const events = snapshotOf(c.rx.messages)!.events
    expect(ids(events)).toEqual(lastOfEach(() => true))
    for (const stream of new Set(events.map((e) => e.stream))) {
      expect(events.filter((e) => e.stream === stream).length).toBeLessThanOrEqual(10)
    }
    c.ws.close()
  })

  it('should hold only the matched streams', async () => {
    const c = await subscribe({ topics: ['session.*', 'anomalies'] })
    await until(() => snapshotOf(c.rx.messages), 3000, 'snapshot')
    const events = snapshotOf(c.rx.messages)!.events
    expect(ids(events)).toEqual(
      lastOfEach((e) => e.stream === 'session.completed' || e.anomalyFlag !== 'normal'),
    )
    expect(events.some((e) => e.stream === 'customer.tutor.search')).toBe(true) // an anomaly
    expect(
      events.every((e) => e.stream === 'session.completed' || e.anomalyFlag !== 'normal'),
    ).toBe(true)
    c.ws.close()
  })

  it('should not send a snapshot with "snapshot":0', async () => {
    const c = await subscribe({ topics: ['*'], snapshot: 0 })
    const batch = await h.produce(3)
    await until(() => c.rx.events.length >= 3, 3000, 'live events')
    expect(c.rx.messages.some((m) => m.type === 'snapshot')).toBe(false)
    expect(ids(c.rx.events)).toEqual(ids(batch))
    c.ws.close()
  })

  it('should not send a snapshot when a resume point is given', async () => {
    const lastId = h.written.at(-5)!.id
    const c = await subscribe({ topics: ['*'], lastId })
    await until(() => c.rx.messages.some((m) => m.type === 'catchup'), 3000, 'catchup')
    expect(c.rx.messages.some((m) => m.type === 'snapshot')).toBe(false)
    expect(ids(c.rx.events)).toEqual(ids(h.written.slice(-4)))
    c.ws.close()
  })

  it('should start live delivery right after the snapshot, without gaps or repeats', async () => {
    const stop = h.pump(5, 10)
    await new Promise((r) => setTimeout(r, 100))
    const c = await subscribe({ topics: ['*'] })
    await until(() => c.rx.events.length > 40, 5000, 'live events')
    await stop()
    c.ws.close()
    const snap = ids(snapshotOf(c.rx.messages)!.events)
    const live = ids(c.rx.events)
    expect(c.rx.messages.findIndex((m) => m.type === 'snapshot')).toBe(1)
    expect(compareIds(snap.at(-1)!, live[0]!)).toBeLessThan(0)
    // The snapshot's newest event is the one right before the first live event.
    const at = h.written.findIndex((e) => e.id === snap.at(-1))
    expect(live).toEqual(ids(h.written.slice(at + 1, at + 1 + live.length)))
  })

  it('should snapshot only what a second subscribe adds', async () => {
    const c = await subscribe({ topics: ['session.*'] })
    await until(() => snapshotOf(c.rx.messages), 3000, 'first snapshot')
    c.rx.messages.length = 0
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['session.*', 'system.*'] }))
    await until(() => snapshotOf(c.rx.messages), 3000, 'second snapshot')
    const events = snapshotOf(c.rx.messages)!.events
    expect(events.length).toBeGreaterThan(0)
    expect(events.every((e) => e.stream === 'system.api.request.log')).toBe(true)
    c.ws.close()
  })
})

/** Reads an SSE response until `done(text)` holds, then aborts it. */
async function readSse(path: string, done: (text: string) => boolean): Promise<string> {
  const ac = new AbortController()
  const r = await fetch(`${h.url}${path}`, { signal: ac.signal })
  expect(r.status).toBe(200)
  const reader = r.body!.getReader()
  const dec = new TextDecoder()
  let text = ''
  const deadline = Date.now() + 3000
  while (!done(text) && Date.now() < deadline) {
    const { value, done: end } = await reader.read()
    if (end) break
    text += dec.decode(value, { stream: true })
  }
  ac.abort()
  return text
}

describe('snapshot on subscribe (SSE)', () => {
  it('should send one "snapshot" message without an id before live events', async () => {
    const text = await readSse('/sse?topics=session.*', (t) => t.includes('event: snapshot'))
    const block = text.split('\n\n').find((b) => b.startsWith('event: snapshot'))!
    expect(block).not.toMatch(/^id:/m)
    const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { events: RawEvent[] }
    expect(ids(data.events)).toEqual(lastOfEach((e) => e.stream === 'session.completed'))
  })

  it('should send no snapshot with ?snapshot=0 or a Last-Event-ID', async () => {
    const stop = h.pump(3, 20)
    try {
      const off = await readSse('/sse?topics=*&snapshot=0', (t) => t.includes('\nid: '))
      expect(off).not.toContain('event: snapshot')
      const resumed = await readSse(`/sse?topics=*&lastId=${h.written.at(-3)!.id}`, (t) =>
        t.includes('\nid: '),
      )
      expect(resumed).not.toContain('event: snapshot')
    } finally {
      await stop()
    }
  })
})
