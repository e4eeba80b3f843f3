import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClientErrorCode } from '../src/index.js'
import { idAt, sleep, until } from './helpers/fake-gateway.js'
import { FakeSse } from './helpers/fake-sse.js'
import { closeAll, record } from './helpers/recorder.js'

let sse: FakeSse

beforeEach(async () => {
  sse = await FakeSse.start()
})
afterEach(async () => {
  await closeAll()
  await sse.close()
})

const sseClient = (opts: Parameters<typeof record>[0]) => record({ transport: 'sse', ...opts })

describe('client over SSE', () => {
  it('should stream events for its topics, unchanged', async () => {
    const r = sseClient({ url: sse.url, topics: ['session.*', 'customer.*'], token: 't' })
    await until(() => sse.streams.size === 1 && r.client.connectionState === 'open', 'stream')
    expect(sse.last.url.searchParams.get('topics')).toBe('session.*,customer.*')
    expect(sse.last.url.searchParams.get('token')).toBe('t')
    expect(sse.last.url.searchParams.has('lastId')).toBe(false)
    const sent = sse.publish(9)
    await until(() => r.events.length === 6, 'events')
    expect(r.events).toEqual(sent.filter((e) => e.stream !== 'support.ticket.created'))
    expect(r.states.map((s) => s.state)).toEqual(['connecting', 'open'])
  })

  it('should switch a ws:// or bare URL to http and add /sse', async () => {
    const origin = sse.url.replace('http://', 'ws://').replace('/sse', '')
    const r = sseClient({ url: origin, topics: ['*'] })
    await until(() => r.client.connectionState === 'open', 'open')
    expect(sse.last.url.pathname).toBe('/sse')
  })

  it('should parse messages split into 1–3 byte pieces, multi-byte characters included', async () => {
    const r = sseClient({ url: sse.url, topics: ['*'] })
    await until(() => sse.streams.size === 1, 'stream')
    for (const size of [1, 2, 3]) {
      sse.pieceBytes = size
      sse.publish(1)
      sse.heartbeat()
      await sse.written()
    }
    await until(() => r.events.length === 3, 'events', 5000)
    expect(r.events).toEqual(sse.log)
    expect(r.events[0]?.data).toEqual({ k: 0, text: 'café ☕' })
  })

  it('should reconnect with ?lastId= after the stream ends, and after the socket is destroyed', async () => {
    const r = sseClient({ url: sse.url, topics: ['*'] })
    await until(() => sse.streams.size === 1, 'stream')
    sse.publish(4)
    await until(() => r.events.length === 4, 'first')
    sse.drop('end')
    sse.publish(3)
    await until(() => r.events.length === 7, 'resumed after end')
    expect(sse.requests[1]?.url.searchParams.get('lastId')).toBe(idAt(3))
    expect(r.states.find((s) => s.state === 'reconnecting')?.info.reason).toBe(
      'the server ended the event stream',
    )
    sse.drop('destroy')
    sse.publish(3)
    await until(() => r.events.length === 10, 'resumed after destroy')
    expect(sse.requests[2]?.url.searchParams.get('lastId')).toBe(idAt(6))
    expect(r.ids()).toEqual(sse.log.map((e) => e.id))
    expect(r.client.stats).toMatchObject({ reconnects: 2, duplicates: 0 })
  })

  it('should emit reset on `event: catchup` and go on from the present', async () => {
    const r = sseClient({ url: sse.url, topics: ['*'], lastId: '1-0' })
    sse.lostReason = 'too_old'
    await until(() => r.resets.length === 1, 'reset')
    expect(r.resets[0]).toEqual({ reason: 'too_old', lastId: '1-0', epoch: null })
    expect(r.client.lastId).toBeNull()
    sse.publish(2)
    await until(() => r.events.length === 2, 'events')
  })

  it('should close on an HTTP 400 with the gateway error code, without retrying', async () => {
    const r = sseClient({ url: sse.url, topics: ['bogus.topic'] })
    await until(() => r.client.connectionState === 'closed', 'closed')
    expect(r.errors.map((e) => [e.code, e.status, e.canRetry])).toEqual([
      ['VS_GW_UNKNOWN_TOPIC', 400, false],
    ])
    await sleep(30)
    expect(sse.requests).toHaveLength(1)
  })

  it('should retry an HTTP 503 with backoff', async () => {
    sse.refuse = { status: 503, code: 'VS_GW_NOT_READY', message: 'gateway not ready', once: true }
    const r = sseClient({ url: sse.url, topics: ['*'] })
    await until(() => r.client.connectionState === 'open', 'open')
    expect(sse.requests).toHaveLength(2)
    const retry = r.states.find((s) => s.state === 'reconnecting')
    expect(retry?.info).toMatchObject({ code: 503, attempt: 1 })
    expect(retry?.info.error).toMatchObject({
      code: 'VS_GW_NOT_READY',
      status: 503,
      canRetry: true,
    })
  })

  it('should restart the stream on a topic change, resuming from lastId', async () => {
    const r = sseClient({ url: sse.url, topics: ['session.*'] })
    await until(() => sse.streams.size === 1, 'stream')
    sse.publish(6)
    await until(() => r.events.length === 2, 'events')
    await expect(r.client.subscribe(['customer.*'])).resolves.toEqual(['session.*', 'customer.*'])
    expect(sse.last.url.searchParams.get('topics')).toBe('session.*,customer.*')
    expect(sse.last.url.searchParams.get('lastId')).toBe(idAt(4))
    sse.publish(3)
    await until(() => r.events.length === 4, 'more')
    await expect(r.client.unsubscribe(['session.*'])).resolves.toEqual(['session.*'])
    expect(sse.last.url.searchParams.get('topics')).toBe('customer.*')
    await expect(r.client.unsubscribe(['customer.*'])).rejects.toMatchObject({
      code: ClientErrorCode.invalidOption,
    })
    expect(r.states.map((s) => s.state)).toEqual(['connecting', 'open'])
  })

  it('should undo a topic change the gateway refuses', async () => {
    const r = sseClient({ url: sse.url, topics: ['*'] })
    await until(() => sse.streams.size === 1, 'stream')
    await expect(r.client.subscribe(['bogus.x'])).rejects.toMatchObject({
      code: 'VS_GW_UNKNOWN_TOPIC',
    })
    await until(
      () => sse.streams.size === 1 && r.client.connectionState === 'open',
      'back on the old topics',
    )
    expect(sse.last.url.searchParams.get('topics')).toBe('*')
    expect(r.client.topics).toEqual(['*'])
  })

  it('should refuse control calls', async () => {
    const r = sseClient({ url: sse.url, topics: ['*'] })
    await expect(r.client.control('get_state')).rejects.toMatchObject({
      code: ClientErrorCode.notSupported,
    })
  })

  it('should replace a stream that goes quiet past idleTimeoutMs, and keep one that gets heartbeats', async () => {
    const r = sseClient({ url: sse.url, topics: ['*'], idleTimeoutMs: 120 })
    await until(() => sse.streams.size === 1, 'stream')
    const beat = setInterval(() => sse.heartbeat(), 30)
    await sleep(300)
    clearInterval(beat)
    expect(sse.requests).toHaveLength(1)
    await until(() => sse.requests.length === 2, 'replaced', 2000)
    expect(r.states.find((s) => s.state === 'reconnecting')?.info.error?.code).toBe(
      ClientErrorCode.connectionLost,
    )
  })

  it('should abort the stream on close()', async () => {
    const r = sseClient({ url: sse.url, topics: ['*'] })
    await until(() => sse.streams.size === 1, 'stream')
    await r.client.close()
    await until(() => sse.streams.size === 0, 'server saw the abort')
    sse.publish(2)
    await sleep(30)
    expect(r.events).toEqual([])
    expect(sse.requests).toHaveLength(1)
  })
})
