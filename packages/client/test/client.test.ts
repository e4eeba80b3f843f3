import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ClientErrorCode, createClient, VerisimClientError } from '../src/index.js'
import { FakeGateway, idAt, makeEvent, sleep, until, type Frame } from './helpers/fake-gateway.js'
import { closeAll, record } from './helpers/recorder.js'

let gw: FakeGateway

beforeEach(async () => {
  gw = await FakeGateway.start()
})
afterEach(async () => {
  await closeAll()
  await gw.close()
})

const subscribes = (frames: Frame[]) => frames.filter((f) => f.type === 'subscribe')

describe('client over WebSocket', () => {
  it('should subscribe on open and deliver live events in order', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.conns.length === 1 && gw.last.subscribed, 'subscribe')
    expect(subscribes(gw.last.received)).toEqual([{ type: 'subscribe', topics: ['*'] }])
    const sent = gw.publish(30)
    await until(() => r.events.length === 30, 'events')
    expect(r.ids()).toEqual(sent.map((e) => e.id))
    expect(r.events[0]).toEqual(sent[0])
    expect(r.client.lastId).toBe(sent.at(-1)?.id)
    expect(r.batches).toEqual([{ n: 30, source: 'live' }])
    expect(r.client.connectionState).toBe('open')
    expect(r.states.map((s) => s.state)).toEqual(['connecting', 'open'])
    expect(r.subscribed).toEqual([{ topics: ['*'], epoch: 'e0', lastId: null }])
  })

  it('should resolve the endpoint from a bare origin and pass the token as ?token=', async () => {
    record({ url: `http://127.0.0.1:${gw.port}`, topics: ['*'], token: 's3cret' })
    await until(() => gw.conns.length === 1, 'connection')
    expect(gw.last.url).toBe('/ws?token=s3cret')
  })

  it('should reconnect after a clean close and resume from the last delivered id', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(10)
    await until(() => r.events.length === 10, 'first events')
    gw.drop('close', 4008)
    await until(() => r.client.connectionState === 'reconnecting', 'reconnecting')
    gw.publish(5) // while the client is away
    await until(() => gw.conns.length === 2 && gw.last.subscribed, 'second connection')
    expect(subscribes(gw.last.received)).toEqual([
      { type: 'subscribe', topics: ['*'], lastId: idAt(9) },
    ])
    await until(() => r.events.length === 15, 'catch-up')
    gw.publish(5)
    await until(() => r.events.length === 20, 'live again')
    expect(r.ids()).toEqual(gw.log.map((e) => e.id))
    const reconnecting = r.states.find((s) => s.state === 'reconnecting')
    expect(reconnecting?.info).toMatchObject({
      code: 4008,
      reason: 'test drop',
      attempt: 1,
      delayMs: 5,
    })
    expect(r.states.map((s) => s.state)).toEqual(['connecting', 'open', 'reconnecting', 'open'])
    expect(r.batches.map((b) => b.source)).toEqual(['live', 'catchup', 'live'])
    expect(r.client.stats).toMatchObject({ delivered: 20, duplicates: 0, reconnects: 1 })
  })

  it('should reconnect after the socket is terminated without a close frame', async () => {
    const r = record({ url: gw.url, topics: ['session.*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(9)
    await until(() => r.events.length === 3, 'first events')
    gw.drop('terminate')
    gw.publish(9)
    await until(() => r.events.length === 6, 'resumed')
    expect(r.states.find((s) => s.state === 'reconnecting')?.info.code).toBe(1006)
    expect(r.ids()).toEqual(gw.log.filter((e) => e.stream === 'session.completed').map((e) => e.id))
    expect(subscribes(gw.last.received)[0]?.lastId).toBe(r.ids()[2])
  })

  it('should back off exponentially while the gateway is unreachable', async () => {
    const r = record({
      url: gw.url,
      topics: ['*'],
      reconnect: { initialMs: 10, maxMs: 80, jitter: 0 },
    })
    await until(() => gw.last.subscribed, 'subscribe')
    const port = gw.port
    await gw.close()
    await until(
      () => r.states.filter((s) => s.state === 'reconnecting').length >= 6,
      'six attempts',
    )
    const delays = r.states.filter((s) => s.state === 'reconnecting').map((s) => s.info.delayMs)
    expect(delays.slice(0, 6)).toEqual([10, 20, 40, 80, 80, 80])
    expect(
      r.states
        .filter((s) => s.state === 'reconnecting')
        .map((s) => s.info.attempt)
        .slice(0, 3),
    ).toEqual([1, 2, 3])
    // Comes back on the same port: the attempt count resets once subscribed again.
    gw = await FakeGateway.startOn(port)
    await until(
      () => r.client.connectionState === 'open' && gw.conns.length > 0 && gw.last.subscribed,
      'back',
    )
    gw.drop('close')
    await until(() => r.states.at(-1)?.state === 'reconnecting', 'dropped again')
    expect(r.states.at(-1)?.info).toMatchObject({ attempt: 1, delayMs: 10 })
  })

  it('should give up after reconnect.maxAttempts and close itself', async () => {
    const r = record({
      url: gw.url,
      topics: ['*'],
      reconnect: { initialMs: 1, maxMs: 2, maxAttempts: 3 },
    })
    await until(() => gw.last.subscribed, 'subscribe')
    await gw.close()
    await until(() => r.client.connectionState === 'closed', 'closed', 5000)
    expect(r.states.filter((s) => s.state === 'reconnecting')).toHaveLength(3)
    expect(r.errors.map((e) => e.code)).toEqual([ClientErrorCode.reconnectExhausted])
    expect(r.states.at(-1)?.info.error?.code).toBe(ClientErrorCode.reconnectExhausted)
    gw = await FakeGateway.start()
  })

  it('should never deliver an id at or below the last delivered one', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    const sent = gw.publish(15)
    await until(() => r.events.length === 15, 'events')
    // Repeats, older ids, and a mix with new ones, in one frame each.
    gw.last.send({ type: 'batch', events: sent.slice(10) })
    gw.last.send({
      type: 'batch',
      events: [sent[3], sent[14], makeEvent(15), makeEvent(15), makeEvent(16)],
    })
    gw.last.send({ type: 'event', data: makeEvent(16) })
    gw.last.send({ type: 'event', data: makeEvent(17) })
    await until(() => r.events.length === 18, 'new ones')
    await sleep(20)
    expect(r.ids()).toEqual([...sent.map((e) => e.id), idAt(15), idAt(16), idAt(17)])
    expect(r.client.stats.duplicates).toBe(5 + 2 + 1 + 1)
  })

  it('should compare ids numerically (ms, then seq), not as strings', async () => {
    const r = record({ url: gw.url, topics: ['*'], lastId: '999-10' })
    await until(() => gw.last.subscribed, 'subscribe')
    const at = (id: string) => ({ ...makeEvent(0), id })
    gw.last.send({
      type: 'batch',
      events: [at('999-9'), at('999-11'), at('1000-2'), at('1000-10'), at('1000-9'), at('10000-0')],
    })
    await until(() => r.events.length === 4, 'events')
    expect(r.ids()).toEqual(['999-11', '1000-2', '1000-10', '10000-0'])
  })

  it('should resume with the lastId option on the first connection', async () => {
    gw.publish(20)
    const r = record({ url: gw.url, topics: ['*'], lastId: idAt(14) })
    await until(() => r.events.length === 5, 'catch-up')
    expect(subscribes(gw.last.received)[0]).toEqual({
      type: 'subscribe',
      topics: ['*'],
      lastId: idAt(14),
    })
    expect(r.ids()).toEqual(gw.log.slice(15).map((e) => e.id))
  })

  it('should drop the overlap of a catch-up that starts before its resume point', async () => {
    gw.overlap = 4
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(10)
    await until(() => r.events.length === 10, 'events')
    gw.drop('close')
    gw.publish(3)
    await until(() => r.events.length === 13, 'resumed')
    expect(r.ids()).toEqual(gw.log.map((e) => e.id))
    expect(r.client.stats.duplicates).toBe(4)
  })

  it('should deliver a catch-up sent in several frames, and hold live events that overtake it', async () => {
    gw.pageSize = 4
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(2)
    await until(() => r.events.length === 2, 'events')
    gw.drop('terminate')
    gw.publish(11)
    gw.liveBeforeCatchup = true
    await until(() => r.events.length === 13, 'catch-up')
    expect(r.ids()).toEqual(gw.log.map((e) => e.id))
    expect(r.batches.map((b) => `${b.source}:${b.n}`)).toEqual([
      'live:2',
      'catchup:4',
      'catchup:4',
      'catchup:3',
    ])
    expect(r.client.stats.duplicates).toBe(1) // the overtaking live event, held then deduped
  })

  it('should resume from inside a catch-up that was cut off part-way', async () => {
    gw.pageSize = 5
    gw.publish(2)
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.drop('close')
    gw.publish(23)
    gw.terminateAfterPages = 2
    await until(() => gw.conns.length >= 3 && r.events.length === 23, 'all events', 5000)
    const resumes = gw.conns.map((c) => subscribes(c.received)[0]?.lastId)
    // The 2nd connection resumes from the frontier the 1st was subscribed at
    // (nothing delivered yet); the 3rd from the last event of the second page
    // the 2nd got before it was cut.
    expect(resumes).toEqual([undefined, idAt(1), idAt(11)])
    expect(r.ids()).toEqual(gw.log.slice(2).map((e) => e.id))
  })

  it('should resume from the subscribed frontier when nothing was delivered yet', async () => {
    gw.publish(5)
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.drop('close')
    gw.publish(2)
    await until(() => r.events.length === 2, 'events')
    expect(subscribes(gw.last.received)[0]?.lastId).toBe(idAt(4))
    expect(r.ids()).toEqual([idAt(5), idAt(6)])
    expect(r.client.lastId).toBe(idAt(6))
  })

  it('should reconnect when the gateway is not ready, with backoff', async () => {
    gw.subscribeError = { code: 'VS_GW_INTERNAL', message: 'gateway not ready: redis', once: true }
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.conns.length === 2 && gw.last.subscribed, 'second connection')
    expect(r.errors.map((e) => e.code)).toEqual(['VS_GW_INTERNAL'])
    expect(r.states.map((s) => s.state)).toEqual(['connecting', 'open', 'reconnecting', 'open'])
  })

  it('should resume again when the catch-up fails after the subscribe was acknowledged', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(4)
    await until(() => r.events.length === 4, 'events')
    gw.drop('close')
    gw.publish(4)
    let failed = false
    gw.onMessage = (conn, msg) => {
      if (msg.type !== 'subscribe' || failed) return false
      failed = true
      conn.send({ type: 'subscribed', topics: ['*'], epoch: gw.epoch, lastId: gw.frontier })
      conn.send({
        type: 'error',
        code: 'VS_GW_INTERNAL',
        message: 'internal error while handling the message; try again',
      })
      conn.send({ type: 'batch', events: [makeEvent(9)] }) // released after a hole: must not be delivered
      return true
    }
    await until(() => r.events.length === 8, 'resumed', 3000)
    expect(r.ids()).toEqual(gw.log.map((e) => e.id))
    expect(gw.conns).toHaveLength(3)
  })
})

describe('client reset', () => {
  it('should emit reset when the epoch in subscribed changes, once, and carry on from the present', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(5)
    await until(() => r.events.length === 5, 'events')
    gw.drop('close', 4010) // the gateway's "streams lost"
    gw.epoch = 'e1'
    gw.lostReason = 'epoch_changed'
    await until(() => r.resets.length === 1 && gw.last.subscribed, 'reset')
    expect(r.resets).toEqual([{ reason: 'epoch_changed', lastId: idAt(4), epoch: 'e1' }])
    expect(r.client.lastId).toBeNull()
    expect(r.client.epoch).toBe('e1')
    gw.lostReason = null
    gw.publish(2)
    await until(() => r.events.length === 7, 'after reset')
    await sleep(20)
    expect(r.resets).toHaveLength(1)
    expect(r.client.stats.resets).toBe(1)
  })

  it('should forget an epoch the gateway no longer has, reset once, and learn the next one without another reset', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(2)
    await until(() => r.events.length === 2, 'events')
    expect(r.client.epoch).toBe('e0')
    // Redis back empty, the generator not yet running again: no epoch at all
    gw.epoch = null as unknown as string
    gw.lostReason = 'epoch_changed'
    gw.drop('close', 4010)
    await until(() => r.resets.length === 1, 'reset')
    expect(r.client.epoch).toBeNull()
    gw.lostReason = null
    gw.epoch = 'e2'
    gw.drop('close')
    await until(() => r.client.epoch === 'e2', 'the new epoch')
    await sleep(20)
    expect(r.resets).toHaveLength(1)
  })

  it('should emit reset on a catch-up that is too old, and resume from the new frontier after', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(3)
    await until(() => r.events.length === 3, 'events')
    gw.drop('close')
    gw.publish(3)
    gw.lostReason = 'too_old'
    await until(() => r.resets.length === 1, 'reset')
    expect(r.resets[0]).toMatchObject({ reason: 'too_old', lastId: idAt(2), epoch: 'e0' })
    gw.lostReason = null
    // Dropped again before any new event: resumes from the frontier it was given, not from nothing.
    await until(() => gw.last.subscribed, 'subscribed')
    gw.drop('close')
    await until(() => gw.conns.length === 3 && gw.last.subscribed, 'third')
    expect(subscribes(gw.last.received)[0]?.lastId).toBe(idAt(5))
    gw.publish(1)
    await until(() => r.events.length === 4, 'live')
    expect(r.client.lastId).toBe(idAt(6))
  })

  it('should emit reset when a resume point from an earlier run is lost', async () => {
    gw.lostReason = 'epoch_changed'
    const r = record({ url: gw.url, topics: ['*'], lastId: '1-0' })
    await until(() => r.resets.length === 1, 'reset')
    expect(r.resets[0]).toEqual({ reason: 'epoch_changed', lastId: '1-0', epoch: 'e0' })
  })
})

describe('client topics', () => {
  it('should subscribe and unsubscribe at runtime, resolving on the acknowledgement', async () => {
    const r = record({ url: gw.url, topics: ['session.*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    await expect(r.client.subscribe(['customer.*'])).resolves.toEqual(['customer.*', 'session.*'])
    expect(r.client.topics.sort()).toEqual(['customer.*', 'session.*'])
    await expect(r.client.unsubscribe(['session.*'])).resolves.toEqual(['session.*'])
    expect(r.client.topics).toEqual(['customer.*'])
    expect(gw.last.received.slice(1)).toEqual([
      { type: 'subscribe', topics: ['customer.*'] },
      { type: 'unsubscribe', topics: ['session.*'] },
    ])
    gw.drop('close')
    await until(() => gw.conns.length === 2 && gw.last.subscribed, 'resubscribed')
    expect(subscribes(gw.last.received)[0]?.topics).toEqual(['customer.*'])
  })

  it('should reject a subscribe the gateway refuses and keep the other topics', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    const err = await r.client.subscribe(['bogus.topic']).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(VerisimClientError)
    expect(err).toMatchObject({ code: 'VS_GW_UNKNOWN_TOPIC' })
    expect(r.client.topics).toEqual(['*'])
    expect(r.errors).toEqual([])
  })

  it('should send topic changes made while offline after the resume', async () => {
    const r = record({ url: gw.url, topics: ['session.*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.publish(3)
    await until(() => r.events.length === 1, 'events')
    gw.drop('close')
    const added = r.client.subscribe(['customer.*'])
    await expect(added).resolves.toEqual(['customer.*', 'session.*'])
    expect(gw.last.received.map((f) => f.type)).toEqual(['subscribe', 'subscribe'])
    expect(gw.last.received[0]).toEqual({
      type: 'subscribe',
      topics: ['session.*'],
      lastId: idAt(1),
    })
    expect(gw.last.received[1]).toEqual({ type: 'subscribe', topics: ['customer.*'] })
  })

  it('should drop a topic unsubscribed while offline from the re-subscribe', async () => {
    const r = record({ url: gw.url, topics: ['session.*', 'customer.*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    const port = gw.port
    await gw.close()
    await expect(r.client.unsubscribe(['customer.*'])).resolves.toEqual(['customer.*'])
    gw = await FakeGateway.startOn(port)
    await until(() => gw.conns.length === 1 && gw.last.subscribed, 'resubscribed')
    expect(subscribes(gw.last.received)[0]?.topics).toEqual(['session.*'])
  })

  it('should report refused initial topics and stop asking for them', async () => {
    const r = record({ url: gw.url, topics: ['bogus.x'] })
    await until(() => r.errors.length === 1, 'error')
    expect(r.errors[0]?.code).toBe('VS_GW_UNKNOWN_TOPIC')
    expect(r.client.topics).toEqual([])
    expect(r.client.connectionState).toBe('open')
  })
})

describe('client control', () => {
  it('should resolve on the ack with the same requestId', async () => {
    const r = record({ url: gw.url })
    await expect(r.client.control('set_speed', { multiplier: 5 })).resolves.toEqual({
      action: 'set_speed',
    })
    const sent = gw.last.received.find((f) => f.type === 'control')
    expect(sent).toMatchObject({ type: 'control', action: 'set_speed', payload: { multiplier: 5 } })
    expect(typeof sent?.requestId).toBe('string')
    expect(subscribes(gw.last.received)).toEqual([]) // no topics, no subscribe
  })

  it('should match answers by requestId when several are in flight', async () => {
    gw.onControl = (conn, msg) => {
      setTimeout(
        () =>
          conn.send({ type: 'ack', requestId: msg.requestId, success: true, result: msg.payload }),
        msg.action === 'pause' ? 30 : 1,
      )
    }
    const r = record({ url: gw.url })
    const [a, b] = await Promise.all([
      r.client.control('pause', { n: 1 }),
      r.client.control('resume', { n: 2 }),
    ])
    expect([a, b]).toEqual([{ n: 1 }, { n: 2 }])
  })

  it('should reject on an error with its requestId', async () => {
    gw.onControl = (conn, msg) =>
      conn.send({
        type: 'error',
        code: 'VS_GW_UNAUTHORIZED',
        message: 'control needs the admin token',
        requestId: msg.requestId,
      })
    const r = record({ url: gw.url })
    const err = await r.client.control('reset').catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'VS_GW_UNAUTHORIZED',
      message: 'control needs the admin token',
    })
    expect(r.errors).toEqual([])
  })

  it('should reject on an ack with success: false', async () => {
    gw.onControl = (conn, msg) =>
      conn.send({ type: 'ack', requestId: msg.requestId, success: false, result: null })
    const r = record({ url: gw.url })
    await expect(r.client.control('get_state')).rejects.toMatchObject({
      code: ClientErrorCode.controlFailed,
      result: null,
    })
  })

  it('should match a control answer that comes after later topic answers', async () => {
    // The gateway does not hold a socket's other frames while the generator answers a control.
    let answer: (() => void) | null = null
    gw.onControl = (conn, msg) => {
      answer = () => conn.send({ type: 'ack', requestId: msg.requestId, success: true, result: 7 })
    }
    const r = record({ url: gw.url, topics: ['session.*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    const ctl = r.client.control('get_state')
    await expect(r.client.subscribe(['customer.*'])).resolves.toEqual(['customer.*', 'session.*'])
    await expect(r.client.subscribe(['bogus.x'])).rejects.toMatchObject({
      code: 'VS_GW_UNKNOWN_TOPIC',
    })
    await expect(r.client.unsubscribe(['session.*'])).resolves.toEqual(['session.*'])
    await until(() => answer !== null, 'control received')
    answer!()
    await expect(ctl).resolves.toBe(7)
  })

  it('should reject on a gateway control timeout, marked retryable', async () => {
    gw.onControl = (conn, msg) =>
      conn.send({
        type: 'error',
        code: 'VS_GW_CONTROL_TIMEOUT',
        message: 'the generator did not answer',
        requestId: msg.requestId,
      })
    const r = record({ url: gw.url })
    await expect(r.client.control('pause')).rejects.toMatchObject({
      code: 'VS_GW_CONTROL_TIMEOUT',
      canRetry: true,
    })
  })

  it('should reject after the timeout', async () => {
    gw.onControl = () => {}
    const r = record({ url: gw.url })
    const started = Date.now()
    await expect(r.client.control('get_state', undefined, { timeoutMs: 60 })).rejects.toMatchObject(
      {
        code: ClientErrorCode.timeout,
        canRetry: true,
      },
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(55)
    // The unanswered request no longer stands in the way of matching later answers.
    await expect(r.client.subscribe(['bogus.x'])).rejects.toMatchObject({
      code: 'VS_GW_UNKNOWN_TOPIC',
    })
  })

  it('should send a control again with the same requestId after a reconnect', async () => {
    let first = true
    gw.onControl = (conn, msg) => {
      if (first) {
        first = false
        conn.socket.terminate()
        return
      }
      conn.send({ type: 'ack', requestId: msg.requestId, success: true, result: 'ok' })
    }
    const r = record({ url: gw.url })
    await expect(r.client.control('pause')).resolves.toBe('ok')
    const ids = gw.conns.map((c) => c.received.find((f) => f.type === 'control')?.requestId)
    expect(ids).toHaveLength(2)
    expect(ids[0]).toBe(ids[1])
  })

  it('should emit state_update payloads as control events', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.last.send({ type: 'state_update', payload: { running: false } })
    await until(() => r.controls.length === 1, 'control event')
    expect(r.controls).toEqual([{ running: false }])
  })
})

describe('client liveness', () => {
  it('should answer a server ping with a pong', async () => {
    record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.last.send({ type: 'ping', ts: new Date().toISOString() })
    await until(() => gw.last.received.some((f) => f.type === 'pong'), 'pong')
    expect(gw.last.received.at(-1)).toEqual({ type: 'pong' })
  })

  it('should send client pings at pingIntervalMs', async () => {
    record({ url: gw.url, topics: ['*'], pingIntervalMs: 20 })
    await until(
      () => gw.conns.length === 1 && gw.last.received.filter((f) => f.type === 'ping').length >= 3,
      'pings',
    )
  })

  it('should stay connected while pongs keep arriving within idleTimeoutMs', async () => {
    const r = record({ url: gw.url, topics: ['*'], pingIntervalMs: 20, idleTimeoutMs: 100 })
    await until(() => gw.last.subscribed, 'subscribe')
    await sleep(300)
    expect(gw.conns).toHaveLength(1)
    expect(r.client.connectionState).toBe('open')
  })

  it('should give up on a socket that does not open within connectTimeoutMs', async () => {
    // A TCP server that accepts and never answers the upgrade.
    const net = await import('node:net')
    const sockets: import('node:net').Socket[] = []
    const silent = net.createServer((s) => sockets.push(s))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as import('node:net').AddressInfo).port
    const r = record({ url: `ws://127.0.0.1:${port}/ws`, topics: ['*'], connectTimeoutMs: 50 })
    await until(() => r.states.some((s) => s.state === 'reconnecting'), 'gave up')
    expect(r.states.find((s) => s.state === 'reconnecting')?.info.error?.code).toBe(
      ClientErrorCode.connectionLost,
    )
    await r.client.close()
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => silent.close(resolve))
  })
})

describe('client close', () => {
  it('should stop reconnecting, reject pending calls and be idempotent', async () => {
    gw.onControl = () => {}
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    const pending = r.client.control('get_state')
    const first = r.client.close()
    const second = r.client.close()
    expect(second).toBe(first)
    expect(r.client.connectionState).toBe('closed')
    await first
    await expect(pending).rejects.toMatchObject({ code: ClientErrorCode.closed })
    await until(() => gw.openConns().length === 0, 'server saw the close')
    gw.publish(3)
    await sleep(60)
    expect(gw.conns).toHaveLength(1)
    expect(r.events).toEqual([])
    expect(r.states.map((s) => s.state)).toEqual(['connecting', 'open', 'closed'])
    await expect(r.client.subscribe(['x'])).rejects.toMatchObject({ code: ClientErrorCode.closed })
  })

  it('should stop while waiting to reconnect', async () => {
    const r = record({
      url: gw.url,
      topics: ['*'],
      reconnect: { initialMs: 50, maxMs: 50, jitter: 0 },
    })
    await until(() => gw.last.subscribed, 'subscribe')
    gw.drop('close')
    await until(() => r.client.connectionState === 'reconnecting', 'reconnecting')
    await r.client.close()
    await sleep(100)
    expect(gw.conns).toHaveLength(1)
  })

  it('should stop delivering the rest of a frame when a listener closes the client', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await until(() => gw.last.subscribed, 'subscribe')
    r.client.on('event', (e) => {
      if (e.id === idAt(2)) void r.client.close()
    })
    gw.publish(6)
    await until(() => r.client.connectionState === 'closed', 'closed')
    await sleep(20)
    expect(r.ids()).toEqual([idAt(0), idAt(1), idAt(2)])
    expect(r.client.lastId).toBe(idAt(2))
  })

  it('should be closable before it connected', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    await r.client.close()
    await sleep(30)
    expect(gw.conns).toHaveLength(0)
    expect(r.states.map((s) => s.state)).toEqual(['closed'])
  })
})

describe('client options and listeners', () => {
  it('should need a WebSocket implementation when there is no global one', () => {
    const g = globalThis as { WebSocket?: unknown }
    const saved = g.WebSocket
    g.WebSocket = undefined
    try {
      expect(() => createClient({ url: gw.url })).toThrow(
        /pass one, e\.g\. `import WebSocket from "ws"/,
      )
    } finally {
      g.WebSocket = saved
    }
  })

  it('should reject invalid options up front', () => {
    expect(() => createClient({ url: 'not a url', WebSocket })).toThrow(VerisimClientError)
    expect(() => createClient({ url: gw.url, WebSocket, lastId: 'abc' })).toThrow(/not an event id/)
    expect(() => createClient({ url: gw.url, WebSocket, topics: [''] })).toThrow(
      /non-empty strings/,
    )
    expect(() => createClient({ url: gw.url, WebSocket, reconnect: { jitter: 2 } })).toThrow(
      /jitter/,
    )
    expect(() => createClient({ url: gw.url, transport: 'sse' })).toThrow(/at least one topic/)
  })

  it('should keep delivering when a listener throws, reporting it as an error', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    r.client.on('event', (e) => {
      if (e.id === idAt(1)) throw new Error('boom')
    })
    await until(() => gw.conns.length === 1 && gw.last.subscribed, 'subscribe')
    gw.publish(3)
    await until(() => r.events.length === 3, 'events')
    expect(r.errors.map((e) => [e.code, (e.cause as Error).message])).toEqual([
      [ClientErrorCode.listenerFailed, 'boom'],
    ])
  })

  it('should remove listeners with the function on() returns, and run once() listeners once', async () => {
    const r = record({ url: gw.url, topics: ['*'] })
    const seen: string[] = []
    const off = r.client.on('event', (e) => seen.push(`on:${e.id}`))
    r.client.once('event', (e) => seen.push(`once:${e.id}`))
    await until(() => gw.conns.length === 1 && gw.last.subscribed, 'subscribe')
    gw.publish(1)
    await until(() => seen.length === 2, 'first')
    off()
    gw.publish(1)
    await until(() => r.events.length === 2, 'second')
    expect(seen).toEqual([`on:${idAt(0)}`, `once:${idAt(0)}`])
  })
})
