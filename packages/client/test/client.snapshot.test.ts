import { afterEach, describe, expect, it } from 'vitest'
import type { StreamEvent } from '../src/index.js'
import { FakeGateway, makeEvent, until, type Frame } from './helpers/fake-gateway.js'
import { FakeSse } from './helpers/fake-sse.js'
import { closeAll, record } from './helpers/recorder.js'

let gw: FakeGateway | null = null
let sse: FakeSse | null = null

afterEach(async () => {
  await closeAll()
  await gw?.close()
  await sse?.close()
  gw = sse = null
})

const subscribes = (frames: Frame[]) => frames.filter((f) => f.type === 'subscribe')

describe('client snapshot', () => {
  it('should emit a WS snapshot without delivering it as events or moving lastId', async () => {
    gw = await FakeGateway.start()
    const r = record({ url: gw.url, topics: ['*'] })
    const snapshots: StreamEvent[][] = []
    r.client.on('snapshot', (events) => snapshots.push(events))
    await until(() => gw!.last.subscribed, 'subscribe')
    expect(subscribes(gw.last.received)).toEqual([{ type: 'subscribe', topics: ['*'] }])
    const recent = [makeEvent(900), makeEvent(901)]
    gw.last.send({ type: 'snapshot', events: recent })
    await until(() => snapshots.length === 1, 'snapshot')
    expect(snapshots[0]).toEqual(recent)
    expect(r.events).toEqual([])
    expect(r.client.lastId).toBeNull()
    const live = gw.publish(3)
    await until(() => r.events.length === 3, 'live events')
    expect(r.ids()).toEqual(live.map((e) => e.id))
  })

  it('should send "snapshot":0 on every subscribe with snapshot: false', async () => {
    gw = await FakeGateway.start()
    const r = record({ url: gw.url, topics: ['*'], snapshot: false })
    await until(() => gw!.last.subscribed, 'subscribe')
    await r.client.subscribe(['session.*'])
    expect(subscribes(gw.last.received)).toEqual([
      { type: 'subscribe', topics: ['*'], snapshot: 0 },
      { type: 'subscribe', topics: ['session.*'], snapshot: 0 },
    ])
  })

  it('should emit an SSE "snapshot" message and ask ?snapshot=0 when turned off', async () => {
    sse = await FakeSse.start()
    const r = record({ url: sse.url, transport: 'sse', topics: ['*'] })
    const snapshots: StreamEvent[][] = []
    r.client.on('snapshot', (events) => snapshots.push(events))
    await until(() => sse!.streams.size === 1 && r.client.connectionState === 'open', 'stream')
    expect(sse.last.url.searchParams.has('snapshot')).toBe(false)
    const recent = [makeEvent(900)]
    for (const s of sse.streams)
      s.res.write(`event: snapshot\ndata: ${JSON.stringify({ events: recent })}\n\n`)
    await until(() => snapshots.length === 1, 'snapshot')
    expect(snapshots[0]).toEqual(recent)
    expect(r.events).toEqual([])
    expect(r.client.lastId).toBeNull()

    record({ url: sse.url, transport: 'sse', topics: ['*'], snapshot: false })
    await until(() => sse!.requests.length === 2, 'second stream')
    expect(sse.last.url.searchParams.get('snapshot')).toBe('0')
  })
})
