import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient, type StreamEvent, type VerisimClient } from '../src/index.js'
import { idAt, makeEvent, sleep, until } from './helpers/fake-gateway.js'
import { MockSocket } from './helpers/mock-socket.js'

let client: VerisimClient
let ids: string[]
let sources: string[]

function start(opts: { lastId?: string; idleTimeoutMs?: number } = {}): void {
  client = createClient({
    url: 'ws://gateway.test/ws',
    topics: ['*'],
    WebSocket: MockSocket,
    reconnect: { initialMs: 1, maxMs: 1, jitter: 0 },
    pingIntervalMs: 0,
    idleTimeoutMs: opts.idleTimeoutMs ?? 0,
    ...(opts.lastId ? { lastId: opts.lastId } : {}),
  })
  ids = []
  sources = []
  client.on('event', (e: StreamEvent) => ids.push(e.id))
  client.on('batch', (_events, info) => sources.push(info.source))
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => makeEvent(from + i))
const subscribed = (lastId: string | null = null) => ({
  type: 'subscribed',
  topics: ['*'],
  epoch: 'e0',
  lastId,
})

async function opened(n: number): Promise<MockSocket> {
  await until(() => MockSocket.instances.length === n, `socket ${n}`)
  const s = MockSocket.last
  s.open()
  return s
}

beforeEach(() => MockSocket.reset())
afterEach(async () => {
  const closing = client.close()
  for (const s of MockSocket.instances) if (s.readyState === 2) s.serverClose(1000)
  await closing
})

describe('client races', () => {
  it('should ignore a batch that arrives after the socket was given up on', async () => {
    start({ idleTimeoutMs: 60 })
    const s1 = await opened(1)
    s1.push(subscribed())
    s1.push({ type: 'batch', events: range(0, 2) })
    // Quiet past the idle timeout: the client drops s1 and opens s2.
    await until(() => MockSocket.instances.length === 2, 'replacement')
    expect(s1.terminated).toBe(true)
    s1.push({ type: 'batch', events: range(2, 4) }) // late, on the dead socket
    s1.push({ type: 'catchup', events: [], reason: 'too_old' })
    expect(ids).toEqual([idAt(0), idAt(1)])
    const s2 = await opened(2)
    expect(s2.sent[0]).toEqual({ type: 'subscribe', topics: ['*'], lastId: idAt(1) })
    s2.push(subscribed(idAt(3)))
    s2.push({ type: 'catchup', events: range(2, 4), lastId: idAt(3), complete: true })
    expect(ids).toEqual([idAt(0), idAt(1), idAt(2), idAt(3)])
    expect(client.stats.resets).toBe(0)
  })

  it('should ignore frames pushed after the close event', async () => {
    start()
    const s1 = await opened(1)
    s1.push(subscribed())
    s1.push({ type: 'batch', events: range(0, 1) })
    s1.serverClose(4008, 'slow consumer')
    s1.push({ type: 'batch', events: range(1, 3) })
    expect(ids).toEqual([idAt(0)])
    const s2 = await opened(2)
    expect(s2.sent[0]?.lastId).toBe(idAt(0))
  })

  it('should hold live batches until a multi-frame catch-up is complete', async () => {
    start({ lastId: idAt(0) })
    const s = await opened(1)
    expect(s.sent[0]).toEqual({ type: 'subscribe', topics: ['*'], lastId: idAt(0) })
    // A live batch before `subscribed` and one between catch-up pages: both wait.
    s.push({ type: 'batch', events: range(9, 11) })
    s.push(subscribed(idAt(8)))
    s.push({ type: 'catchup', events: range(1, 5), lastId: idAt(4), complete: false })
    expect(ids).toEqual(range(1, 5).map((e) => e.id))
    s.push({ type: 'batch', events: range(11, 12) })
    s.push({ type: 'catchup', events: range(4, 9), lastId: idAt(8), complete: true }) // overlaps by one
    expect(ids).toEqual(range(1, 12).map((e) => e.id))
    expect(sources).toEqual(['catchup', 'catchup', 'live'])
    expect(client.stats.duplicates).toBe(1)
    s.push({ type: 'batch', events: range(12, 13) })
    expect(ids.at(-1)).toBe(idAt(12))
  })

  it('should discard held live events when the socket drops mid catch-up and resume from the last page', async () => {
    start({ lastId: idAt(0) })
    const s1 = await opened(1)
    s1.push(subscribed(idAt(20)))
    s1.push({ type: 'catchup', events: range(1, 6), lastId: idAt(5), complete: false })
    s1.push({ type: 'batch', events: range(21, 23) }) // held
    s1.serverClose(1006)
    expect(ids).toEqual(range(1, 6).map((e) => e.id))
    const s2 = await opened(2)
    expect(s2.sent[0]).toEqual({ type: 'subscribe', topics: ['*'], lastId: idAt(5) })
    s2.push(subscribed(idAt(22)))
    s2.push({ type: 'catchup', events: range(6, 23), lastId: idAt(22), complete: true })
    expect(ids).toEqual(range(1, 23).map((e) => e.id))
    expect(client.stats.duplicates).toBe(0)
  })

  it('should end a catch-up that has no "complete" field (older gateways)', async () => {
    start({ lastId: idAt(0) })
    const s = await opened(1)
    s.push(subscribed(idAt(2)))
    s.push({ type: 'batch', events: range(3, 4) })
    s.push({ type: 'catchup', events: range(1, 3), lastId: idAt(2) })
    expect(ids).toEqual([idAt(1), idAt(2), idAt(3)])
  })

  it('should release held events after a lost resume point, as the start of a new sequence', async () => {
    start({ lastId: idAt(50) })
    const s = await opened(1)
    s.push(subscribed(idAt(60)))
    s.push({ type: 'batch', events: range(61, 63) })
    const resets: string[] = []
    client.on('reset', (info) => resets.push(`${info.reason}:${info.lastId}`))
    s.push({ type: 'catchup', events: [], reason: 'too_old' })
    expect(resets).toEqual([`too_old:${idAt(50)}`])
    expect(ids).toEqual([idAt(61), idAt(62)])
  })

  it('should send only frames that parse, reporting the rest as errors', async () => {
    start()
    const codes: string[] = []
    client.on('error', (e) => codes.push(e.code))
    const s = await opened(1)
    s.push(subscribed())
    s.push('not json')
    s.push({ nope: 1 })
    s.push({ type: 'batch', events: [{ id: 'x' }, makeEvent(1)] })
    s.push({ type: 'something_new', x: 1 })
    expect(codes).toEqual(['VS_CLIENT_BAD_FRAME', 'VS_CLIENT_BAD_FRAME', 'VS_CLIENT_BAD_EVENT'])
    expect(ids).toEqual([idAt(1)])
  })

  it('should close gracefully and wait for the close event', async () => {
    start()
    const s = await opened(1)
    s.push(subscribed())
    let done = false
    const closing = client.close().then(() => (done = true))
    expect(s.closedWith).toBe(1000)
    await sleep(10)
    expect(done).toBe(false)
    s.serverClose(1000)
    await closing
    expect(done).toBe(true)
  })
})
