import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClientErrorCode, type WorldDescription } from '../src/index.js'
import { restUrl } from '../src/client.js'
import { FakeGateway } from './helpers/fake-gateway.js'
import { closeAll, record } from './helpers/recorder.js'

const WORLD: WorldDescription = {
  id: 'tutoring',
  model: 'chain',
  description: 'A tutoring marketplace.',
  channels: ['customer'],
  streams: [],
  segments: [],
  actions: [
    {
      name: 'spawn_students',
      description: 'Signs up students.',
      payload: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
    },
  ],
  statsKeys: ['entities'],
  warmupHours: 0,
}

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

/** The gateway's REST side for world calls (GET /api/world, POST /api/world/actions/:name) and an idle /sse. */
class FakeRest {
  readonly seen: Seen[] = []
  ready = true
  private constructor(readonly server: Server) {}

  static async start(): Promise<FakeRest> {
    let self: FakeRest | null = null
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => (body += d.toString()))
      req.on('end', () => self!.handle(req, body, res))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    self = new FakeRest(server)
    return self
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  handle(req: IncomingMessage, body: string, res: import('node:http').ServerResponse): void {
    if (req.url?.startsWith('/sse')) {
      // an idle event stream, so SSE clients stay open
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(': open\n\n')
      return
    }
    this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(json))
    }
    if (req.method === 'GET' && req.url === '/api/world') {
      if (!this.ready)
        return send(503, { error: { code: 'VS_GW_NOT_READY', message: 'no world yet' } })
      return send(200, WORLD)
    }
    const m = /^\/api\/world\/actions\/([^/?]+)$/.exec(req.url ?? '')
    if (req.method === 'POST' && m) {
      if (req.headers.authorization !== 'Bearer t0k')
        return send(401, { error: { code: 'VS_GW_UNAUTHORIZED', message: 'token needed' } })
      if (m[1] !== 'spawn_students')
        return send(404, { error: { code: 'VS_SIM_UNKNOWN_ACTION', message: 'unknown' } })
      const { count } = JSON.parse(body) as { count: number }
      if (!(count >= 1))
        return send(400, {
          error: { code: 'VS_SIM_BAD_ARGUMENT', message: 'spawn_students: payload /count' },
        })
      return send(200, {
        success: true,
        name: m[1],
        result: { spawned: count },
        stats: { entities: { students: 100 + count } },
      })
    }
    send(404, { error: { code: 'VS_GW_NOT_FOUND', message: 'no route' } })
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

let rest: FakeRest
let gw: FakeGateway

beforeEach(async () => {
  rest = await FakeRest.start()
  gw = await FakeGateway.start()
})
afterEach(async () => {
  await closeAll()
  await gw.close()
  await rest.close()
})

describe('restUrl', () => {
  it('should put a REST path beside the streaming endpoint', () => {
    expect(restUrl('ws://h:8080/ws', '/api/world')).toBe('http://h:8080/api/world')
    expect(restUrl('wss://h/verisim/ws?token=x', '/api/world')).toBe('https://h/verisim/api/world')
    expect(restUrl('http://h:8080/sse', '/api/world')).toBe('http://h:8080/api/world')
    expect(restUrl('http://h:8080', '/api/world')).toBe('http://h:8080/api/world')
  })
})

describe('client.world', () => {
  it('should read the running world over HTTP whatever the transport', async () => {
    const ws = record({ url: rest.origin.replace('http', 'ws') + '/ws' })
    expect(await ws.client.world()).toEqual(WORLD)
    expect(rest.seen.at(-1)).toMatchObject({ method: 'GET', url: '/api/world' })
    const sse = record({ url: `${rest.origin}/sse`, transport: 'sse', topics: ['*'] })
    expect((await sse.client.world()).actions[0]!.name).toBe('spawn_students')
  })

  it("should reject with the gateway's code and status, marked retryable for a 503", async () => {
    rest.ready = false
    const r = record({ url: `${rest.origin}/ws` })
    await expect(r.client.world()).rejects.toMatchObject({
      code: 'VS_GW_NOT_READY',
      status: 503,
      canRetry: true,
    })
  })

  it('should reject after close', async () => {
    const r = record({ url: `${rest.origin}/ws` })
    await r.client.close()
    await expect(r.client.world()).rejects.toMatchObject({ code: ClientErrorCode.closed })
  })
})

describe('client.worldAction', () => {
  it('should send world_action over WebSocket and resolve with the ack result', async () => {
    gw.onControl = (conn, msg) =>
      conn.send({
        type: 'ack',
        requestId: msg.requestId,
        success: true,
        result: { success: true, name: 'spawn_students', result: { spawned: 5 }, stats: {} },
      })
    const r = record({ url: gw.url })
    const answer = await r.client.worldAction('spawn_students', { count: 5 })
    expect(answer.result).toEqual({ spawned: 5 })
    const sent = gw.last.received.find((f) => f.type === 'control')
    expect(sent).toMatchObject({
      action: 'world_action',
      payload: { name: 'spawn_students', payload: { count: 5 } },
    })
  })

  it("should reject with the generator's error code over WebSocket", async () => {
    gw.onControl = (conn, msg) =>
      conn.send({
        type: 'error',
        requestId: msg.requestId,
        code: 'VS_SIM_UNKNOWN_ACTION',
        message: 'unknown world action "x"',
      })
    const r = record({ url: gw.url })
    await expect(r.client.worldAction('x')).rejects.toMatchObject({
      code: 'VS_SIM_UNKNOWN_ACTION',
    })
    expect(gw.last.received.find((f) => f.type === 'control')?.payload).toEqual({
      name: 'x',
      payload: {},
    })
  })

  it('should POST over SSE with the token and an Idempotency-Key, and map errors', async () => {
    const r = record({ url: `${rest.origin}/sse`, transport: 'sse', topics: ['*'], token: 't0k' })
    const ok = await r.client.worldAction('spawn_students', { count: 2 })
    expect(ok).toMatchObject({ success: true, result: { spawned: 2 } })
    const post = rest.seen.find((s) => s.method === 'POST')!
    expect(post.url).toBe('/api/world/actions/spawn_students')
    expect(JSON.parse(post.body)).toEqual({ count: 2 })
    expect(post.headers['content-type']).toBe('application/json')
    expect(post.headers['idempotency-key']).toMatch(/^[0-9a-f]{16}-\d+$/)
    await expect(r.client.worldAction('spawn_students', { count: 0 })).rejects.toMatchObject({
      code: 'VS_SIM_BAD_ARGUMENT',
      status: 400,
      canRetry: false,
    })
    await expect(r.client.worldAction('nope', {})).rejects.toMatchObject({
      code: 'VS_SIM_UNKNOWN_ACTION',
      status: 404,
    })
    const keys = rest.seen
      .filter((s) => s.method === 'POST')
      .map((s) => s.headers['idempotency-key'])
    expect(new Set(keys).size).toBe(keys.length) // one key per call
    const anonymous = record({ url: `${rest.origin}/sse`, transport: 'sse', topics: ['*'] })
    await expect(
      anonymous.client.worldAction('spawn_students', { count: 1 }),
    ).rejects.toMatchObject({ code: 'VS_GW_UNAUTHORIZED', status: 401 })
  })
})
