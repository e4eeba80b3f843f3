import { describe, expect, it } from 'vitest'
import type { StreamInfo } from '@verisim/schema'
import type { RawEvent } from '@verisim/bus'
import { CloseCode, createFanout, type Sink } from '../src/fanout.js'

const catalog: StreamInfo[] = [
  {
    name: 'customer.tutor.search',
    domain: 'customer',
    channel: 'customer',
    cadence: 'medium',
    unit: '',
    description: '',
  },
  {
    name: 'session.completed',
    domain: 'session',
    channel: 'session',
    cadence: 'high',
    unit: '',
    description: '',
  },
]

function ev(
  n: number,
  stream = n % 2 ? 'customer.tutor.search' : 'session.completed',
  flag = 'normal',
): RawEvent {
  const id = `1000-${n}`
  return { id, stream, channel: stream.split('.')[0]!, anomalyFlag: flag, json: `{"id":"${id}"}` }
}

function fakeSink(kind: Sink['kind'] = 'ws') {
  const frames: Buffer[] = []
  let closed: [number, string] | null = null
  let buffered = 0
  const sink: Sink = {
    kind,
    write: (c) => void frames.push(c),
    bufferedBytes: () => buffered,
    close: (code, reason) => void (closed = [code, reason]),
  }
  return {
    sink,
    frames,
    ids: () =>
      frames.flatMap((f) =>
        (JSON.parse(f.toString()) as { events: { id: string }[] }).events.map((e) => e.id),
      ),
    closed: () => closed,
    setBuffered: (n: number) => void (buffered = n),
  }
}

describe('fanout', () => {
  it('should send one batch frame per client per window, never an empty one', () => {
    const f = createFanout({ catalog: () => catalog })
    const a = fakeSink()
    f.setTopics(f.add(a.sink), ['*'])
    f.flush()
    expect(a.frames).toEqual([])
    f.push([ev(1), ev(2), ev(3)])
    f.flush()
    expect(a.frames).toHaveLength(1)
    expect(JSON.parse(a.frames[0]!.toString())).toEqual({
      type: 'batch',
      events: [{ id: '1000-1' }, { id: '1000-2' }, { id: '1000-3' }],
    })
  })

  it('should filter by topics and serialize once per distinct subscription', () => {
    const f = createFanout({ catalog: () => catalog })
    const a = fakeSink()
    const b = fakeSink()
    const c = fakeSink()
    f.setTopics(f.add(a.sink), ['customer.*'])
    f.setTopics(f.add(b.sink), ['customer.*'])
    f.setTopics(f.add(c.sink), ['session.completed'])
    expect(f.groupCount).toBe(2)
    f.push([ev(1), ev(2), ev(3), ev(4)])
    f.flush()
    expect(a.ids()).toEqual(['1000-1', '1000-3'])
    expect(c.ids()).toEqual(['1000-2', '1000-4'])
    expect(a.frames[0]).toBe(b.frames[0]) // the same Buffer: serialized and encoded once
  })

  it('should deliver an event matched by two topics once', () => {
    const f = createFanout({ catalog: () => catalog })
    const a = fakeSink()
    f.setTopics(f.add(a.sink), ['customer.*', 'customer.tutor.search', 'anomalies'])
    f.push([ev(1, 'customer.tutor.search', 'critical')])
    f.flush()
    expect(a.ids()).toEqual(['1000-1'])
  })

  it('should hold a catching-up client and skip what its catch-up covers', () => {
    const f = createFanout({ catalog: () => catalog })
    const a = fakeSink()
    const c = f.add(a.sink)
    f.setTopics(c, ['*'])
    f.push([ev(1), ev(2)]) // released before the client's resume frontier
    f.holdFor(c, '1000-2')
    f.push([ev(3), ev(4)])
    f.flush()
    expect(a.frames).toEqual([]) // held
    f.release(c)
    expect(a.ids()).toEqual(['1000-3', '1000-4'])
    f.push([ev(5)])
    f.flush()
    expect(a.ids()).toEqual(['1000-3', '1000-4', '1000-5'])
  })

  it('should close a client whose send queue exceeds the bound, and leave others alone', () => {
    const slow: number[] = []
    const f = createFanout({
      catalog: () => catalog,
      maxBufferedBytes: 1000,
      onSlowClient: (c) => void slow.push(c.id),
    })
    const a = fakeSink()
    const b = fakeSink()
    const ca = f.add(a.sink)
    f.setTopics(ca, ['*'])
    f.setTopics(f.add(b.sink), ['*'])
    a.setBuffered(5000)
    f.push([ev(1)])
    f.flush()
    expect(a.closed()?.[0]).toBe(CloseCode.slowConsumer)
    expect(slow).toEqual([ca.id])
    expect(b.ids()).toEqual(['1000-1'])
    expect(f.clientCount).toBe(1)
  })

  it('should write SSE messages with id and event name', () => {
    const f = createFanout({ catalog: () => catalog })
    const s = fakeSink('sse')
    f.setTopics(f.add(s.sink), ['*'])
    f.push([ev(1)])
    f.flush()
    expect(s.frames[0]!.toString()).toBe(
      'id: 1000-1\nevent: customer.tutor.search\ndata: {"id":"1000-1"}\n\n',
    )
  })

  it('should drop empty groups when their last member leaves', () => {
    const f = createFanout({ catalog: () => catalog })
    const a = fakeSink()
    const c = f.add(a.sink)
    f.setTopics(c, ['*'])
    expect(f.groupCount).toBe(1)
    f.remove(c)
    expect(f.groupCount).toBe(0)
    expect(f.clientCount).toBe(0)
  })
})
