/**
 * Listening to one stream by name (`client.on('session.completed', …)`), as a
 * typed client (`createClient<Map>()`) does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ClientErrorCode, createClient, type VerisimClient } from '../src/index.js'
import { FakeGateway, until } from './helpers/fake-gateway.js'

interface TestStreams {
  'session.completed': { k: number; text: string }
  'customer.tutor.search': { k: number; text: string }
  'support.ticket.created': { k: number; text: string }
}

let gw: FakeGateway
let client: VerisimClient<TestStreams> | null = null

beforeEach(async () => {
  gw = await FakeGateway.start()
})
afterEach(async () => {
  await client?.close()
  client = null
  await gw.close()
})

const connect = () =>
  createClient<TestStreams>({
    url: gw.url,
    topics: ['*'],
    WebSocket,
    reconnect: { initialMs: 5, maxMs: 40, jitter: 0 },
    pingIntervalMs: 0,
  })

describe('client stream listeners', () => {
  it('should hear only the named stream, each event right after its event emission', async () => {
    client = connect()
    const seen: string[] = []
    client.on('event', (e) => seen.push(`event:${e.stream}:${e.data.k}`))
    client.on('session.completed', (e) => seen.push(`stream:${e.stream}:${e.data.k}`))
    await until(() => gw.conns.length === 1 && gw.last.subscribed, 'subscribe')
    gw.publish(6)
    await until(() => seen.length === 8, 'events')
    expect(seen).toEqual([
      'event:customer.tutor.search:0',
      'event:session.completed:1',
      'stream:session.completed:1',
      'event:support.ticket.created:2',
      'event:customer.tutor.search:3',
      'event:session.completed:4',
      'stream:session.completed:4',
      'event:support.ticket.created:5',
    ])
  })

  it('should remove stream listeners with off() and run once() listeners once', async () => {
    client = connect()
    const seen: number[] = []
    const onEvent = (e: { data: { k: number } }) => seen.push(e.data.k)
    client.on('support.ticket.created', onEvent)
    client.once('customer.tutor.search', (e) => seen.push(100 + e.data.k))
    const all: number[] = []
    client.on('event', (e) => all.push(e.data.k))
    await until(() => gw.conns.length === 1 && gw.last.subscribed, 'subscribe')
    gw.publish(3)
    await until(() => all.length === 3, 'first')
    client.off('support.ticket.created', onEvent)
    gw.publish(3)
    await until(() => all.length === 6, 'second')
    expect(seen).toEqual([100, 2])
  })

  it('should report a stream listener that throws and keep delivering', async () => {
    client = connect()
    const errors: [string, string][] = []
    client.on('error', (err) => errors.push([err.code, err.message]))
    client.on('session.completed', () => {
      throw new Error('boom')
    })
    const all: string[] = []
    client.on('event', (e) => all.push(e.id))
    await until(() => gw.conns.length === 1 && gw.last.subscribed, 'subscribe')
    gw.publish(3)
    await until(() => all.length === 3, 'events')
    expect(errors).toEqual([
      [ClientErrorCode.listenerFailed, 'a "session.completed" listener threw'],
    ])
  })

  it('should refuse a pattern as a stream name', () => {
    const untyped = createClient({ url: gw.url, WebSocket, topics: ['*'] })
    try {
      expect(() => untyped.on('session.*', () => {})).toThrow(/exact name/)
    } finally {
      void untyped.close()
    }
  })
})
