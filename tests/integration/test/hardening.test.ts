/**
 * Issue 14 (hardening), input strictness and protocol: each finding of the
 * hostile/clumsy-user test against a real generator and gateway with
 * ADMIN_TOKEN set, as a regression test named after the finding.
 */
import os from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, TestClient, type Stack } from './harness.js'

const TOKEN = 'hardening-token'
const AUTH = { authorization: `Bearer ${TOKEN}` }
let stack: Stack
let ws: string

beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_TOKEN: TOKEN, VERISIM_SPEED: '60' } })
  ws = `${stack.wsUrl}?token=${TOKEN}`
}, 60_000)
afterAll(async () => {
  await stack?.stop()
})

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; body: Record<string, any>; headers: Headers; text: string }> {
  const r = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await r.text()
  let parsed: Record<string, any> = {}
  try {
    parsed = JSON.parse(text) as Record<string, any>
  } catch {
    // not JSON (the admin page)
  }
  return { status: r.status, body: parsed, headers: r.headers, text }
}
const state = async () => (await call('GET', '/api/simulation/state')).body

async function answer(c: TestClient, requestId: string) {
  return c.waitFor(
    () =>
      c.messages.find((m) => (m.type === 'ack' || m.type === 'error') && m.requestId === requestId),
    10_000,
    `answer to ${requestId}`,
  )
}

describe('control requestId dedup (finding: global, ignored the action)', () => {
  it('should refuse connection B reusing connection A\'s requestId for "pause" naming the conflict, not answer it with A\'s set_speed result', async () => {
    const a = new TestClient(ws)
    const b = new TestClient(ws)
    await Promise.all([a.opened, b.opened])
    const id = `r1-${Date.now()}`
    a.send({ type: 'control', requestId: id, action: 'set_speed', payload: { multiplier: 61 } })
    expect(await answer(a, id)).toMatchObject({ type: 'ack', success: true })
    b.send({ type: 'control', requestId: id, action: 'pause' })
    const refused = await answer(b, id)
    expect(refused).toMatchObject({ type: 'error', code: 'VS_GW_REQUEST_CONFLICT' })
    expect(String(refused.message)).toContain(id)
    expect(String(refused.message)).toContain('set_speed')
    expect((await state()).paused).toBe(false)
    // A new id pauses; the same id, action and payload again is a retry: the first result, applied once.
    b.send({ type: 'control', requestId: `${id}-p`, action: 'pause' })
    expect(await answer(b, `${id}-p`)).toMatchObject({ type: 'ack', success: true })
    expect((await state()).paused).toBe(true)
    await call('POST', '/api/simulation/resume')
    b.send({ type: 'control', requestId: `${id}-p`, action: 'pause' })
    await b.waitFor(
      () => b.messages.filter((m) => m.requestId === `${id}-p`).length === 2,
      10_000,
      'repeat answer',
    )
    expect((await state()).paused).toBe(false) // not applied twice
    await Promise.all([a.close(), b.close()])
  })

  it('should refuse the same requestId with another payload for the same action', async () => {
    const c = new TestClient(ws)
    await c.opened
    c.send({
      type: 'control',
      requestId: 'same-action',
      action: 'set_speed',
      payload: { multiplier: 62 },
    })
    await answer(c, 'same-action')
    c.messages.length = 0
    c.send({
      type: 'control',
      requestId: 'same-action',
      action: 'set_speed',
      payload: { multiplier: 5 },
    })
    const refused = await answer(c, 'same-action')
    expect(refused).toMatchObject({ type: 'error', code: 'VS_GW_REQUEST_CONFLICT' })
    expect(String(refused.message)).toContain('another payload')
    expect((await state()).speed).toBe(62)
    await c.close()
  })

  it('should answer a reused Idempotency-Key with a different body with 422 naming the key (finding: silently accepted)', async () => {
    const key = `idem-${Date.now()}`
    const first = await call(
      'POST',
      '/api/simulation/speed',
      { multiplier: 63 },
      { ...AUTH, 'idempotency-key': key },
    )
    expect(first.status).toBe(200)
    const again = await call(
      'POST',
      '/api/simulation/speed',
      { multiplier: 63 },
      { ...AUTH, 'idempotency-key': key },
    )
    expect(again.body).toEqual(first.body)
    const other = await call(
      'POST',
      '/api/simulation/speed',
      { multiplier: 7 },
      { ...AUTH, 'idempotency-key': key },
    )
    expect(other.status).toBe(422)
    expect(other.body.error.code).toBe('VS_GW_REQUEST_CONFLICT')
    expect(other.body.error.message).toContain(key)
    const otherAction = await call('POST', '/api/simulation/pause', undefined, {
      ...AUTH,
      'idempotency-key': key,
    })
    expect(otherAction.status).toBe(422)
    expect(otherAction.body.error.message).toContain('set_speed')
    expect((await state()).speed).toBe(63)
    expect((await state()).paused).toBe(false)
  })

  it('should not publish request ids or Idempotency-Keys on the public simulation_control topic', async () => {
    const watcher = new TestClient(stack.wsUrl) // no token: any client may watch the topic
    await watcher.opened
    watcher.send({ type: 'subscribe', topics: ['simulation_control'], snapshot: 0 })
    await watcher.waitFor(() => watcher.message('subscribed'), 5000, 'subscribed')
    const c = new TestClient(ws)
    await c.opened
    c.send({
      type: 'control',
      requestId: 'secret-request-id-4711',
      action: 'set_speed',
      payload: { multiplier: 64 },
    })
    await answer(c, 'secret-request-id-4711')
    await call(
      'POST',
      '/api/simulation/speed',
      { multiplier: 65 },
      { ...AUTH, 'idempotency-key': 'secret-idem-key-4712' },
    )
    await watcher.waitFor(
      () => watcher.events.filter((e) => e.stream === 'simulation.ack').length >= 2,
      10_000,
      'two acks on simulation_control',
    )
    const seen = JSON.stringify(watcher.messages)
    expect(seen).not.toContain('secret-request-id-4711')
    expect(seen).not.toContain('secret-idem-key-4712')
    for (const e of watcher.events.filter((e) => e.stream === 'simulation.ack'))
      expect(Object.keys((e as unknown as { data: object }).data)).not.toContain('requestId')
    await Promise.all([watcher.close(), c.close()])
  })
})

describe('strict input', () => {
  it('should refuse {"multiplier": true} and "5" instead of coercing them, naming the field', async () => {
    const before = (await state()).speed
    for (const multiplier of [true, '5', [5]]) {
      const r = await call('POST', '/api/simulation/speed', { multiplier })
      expect(r.status).toBe(400)
      expect(r.body.error.code).toBe('VS_GW_BAD_REQUEST')
      expect(r.body.error.message).toContain('multiplier')
    }
    expect((await state()).speed).toBe(before)
  })

  it('should answer a 50,000-deep JSON body with 400 VS_GW_TOO_DEEP, not a 500', async () => {
    const deep = `{"multiplier":${'['.repeat(50_000)}${']'.repeat(50_000)}}`
    const r = await call('POST', '/api/simulation/speed', deep)
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('VS_GW_TOO_DEEP')
    const ext = await call(
      'POST',
      '/api/events/external',
      `{"timestamp":"x","modifiers":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
    )
    expect(ext.status).toBe(400)
  })

  it('should never send raw exception text over WebSocket (finding: "Maximum call stack size exceeded")', async () => {
    const c = new TestClient(ws)
    await c.opened
    const nest = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
    c.ws.send(
      `{"type":"control","requestId":"deep","action":"world_action","payload":${nest(12_000)}}`,
    )
    c.ws.send(`{"type":"subscribe","topics":["*"],"x":${'['.repeat(30_000)}${']'.repeat(30_000)}}`)
    c.ws.send(
      `{"type":"control","requestId":"deep2","action":"world_action","payload":${nest(40)}}`,
    )
    c.ws.send('{"type":')
    await c.waitFor(
      () => c.messages.filter((m) => m.type === 'error').length >= 4,
      10_000,
      'four errors',
    )
    const errors = c.messages.filter((m) => m.type === 'error')
    expect(errors.find((e) => e.requestId === 'deep2')?.code).toBe('VS_GW_TOO_DEEP')
    for (const e of errors) {
      expect(String(e.message)).not.toMatch(
        /call stack|RangeError|at .*\.js|Unexpected|Expected property/,
      )
      expect(String(e.code)).toMatch(/^VS_/)
    }
    expect(errors.map((e) => e.code)).toContain('VS_GW_TOO_DEEP')
    expect(c.ws.readyState).toBe(c.ws.OPEN)
    await c.close()
  })

  it('should check the token before the body: no 400 revealing the schema without a token', async () => {
    const r = await call('POST', '/api/simulation/speed', { multiplier: 'fast', extra: 1 }, {})
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('VS_GW_UNAUTHORIZED')
    expect(r.text).not.toContain('multiplier')
    const bad = await call('POST', '/api/simulation/speed', '{not json', {})
    expect(bad.status).toBe(401)
  })

  it('should refuse a 900 KB external-event description naming the field (finding: stored and returned with every list)', async () => {
    const r = await call('POST', '/api/events/external', {
      templateId: 'x',
      timestamp: new Date(Date.now() + 3600_000).toISOString(),
      description: 'd'.repeat(900_000),
    })
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('VS_GW_BAD_REQUEST')
    expect(r.body.error.message).toContain('description')
    const title = await call('POST', '/api/events/external', {
      templateId: 'x',
      timestamp: new Date().toISOString(),
      title: 't'.repeat(201),
    })
    expect(title.status).toBe(400)
    expect(title.body.error.message).toContain('title')
  })

  it('should refuse a 1970 external event naming the allowed range (finding: accepted and regenerated history)', async () => {
    const templates = (await call('GET', '/api/events/templates')).body.templates as {
      id: string
    }[]
    const r = await call('POST', '/api/events/external', {
      templateId: templates[0]!.id,
      timestamp: '1970-01-01T00:00:00Z',
    })
    expect(r.status).toBe(400)
    expect(r.body.error.message).toMatch(
      /timestamp: .*outside the run's window; expected a time from \d{4}-.* to \d{4}-/,
    )
    const list = (await call('GET', '/api/events/external')).body.events as { timestamp: string }[]
    expect(list.some((e) => e.timestamp.startsWith('1970'))).toBe(false)
  })

  it('should refuse calendar dates that do not exist (2026-02-30) in history queries and bodies alike', async () => {
    const q = await call('GET', '/api/simulation/history?start=2026-02-30&end=now')
    expect(q.status).toBe(400)
    expect(q.body.error.message).toContain('start')
    const recent = await call('GET', '/api/simulation/events?since=2026-02-30T00:00:00Z')
    expect(recent.status).toBe(400)
    expect(recent.body.error.message).toContain('since')
    const list = await call('GET', '/api/events/external?start=2026-02-30T00:00:00Z')
    expect(list.status).toBe(400)
    expect(list.body.error.message).toContain('start')
    const body = await call('POST', '/api/events/external', {
      templateId: 'x',
      timestamp: '2026-02-30T00:00:00Z',
    })
    expect(body.status).toBe(400)
    expect(body.body.error.message).toContain('timestamp')
  })

  it('should answer body-parser and Fastify errors with documented VS_* codes, never FST_ERR_*', async () => {
    const cases: [string, RequestInit, number, string][] = [
      [
        'invalid JSON',
        {
          method: 'POST',
          headers: { ...AUTH, 'content-type': 'application/json' },
          body: '{"multiplier":',
        },
        400,
        'VS_GW_BAD_JSON',
      ],
      [
        'empty JSON',
        { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '' },
        400,
        'VS_GW_BAD_JSON',
      ],
      [
        'media type',
        {
          method: 'POST',
          headers: { ...AUTH, 'content-type': 'text/plain' },
          body: 'multiplier=5',
        },
        415,
        'VS_GW_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'too large',
        {
          method: 'POST',
          headers: { ...AUTH, 'content-type': 'application/json' },
          body: `{"multiplier":"${'x'.repeat(1_100_000)}"}`,
        },
        413,
        'VS_GW_BODY_TOO_LARGE',
      ],
      [
        'proto poisoning',
        {
          method: 'POST',
          headers: { ...AUTH, 'content-type': 'application/json' },
          body: '{"__proto__":{"x":1},"multiplier":5}',
        },
        400,
        'VS_GW_BAD_JSON',
      ],
    ]
    for (const [what, init, status, code] of cases) {
      const r = await fetch(`${stack.gatewayUrl}/api/simulation/speed`, init)
      const text = await r.text()
      expect({ what, status: r.status }).toEqual({ what, status })
      expect(JSON.parse(text)).toMatchObject({ error: { code } })
      expect(text).not.toContain('FST_')
      expect(text).not.toMatch(/Unexpected|in JSON at|forbidden prototype/) // no exception text
    }
  })
})

describe('unauthenticated endpoints and headers', () => {
  it('should not show the host name or PID on /health/ready', async () => {
    const r = await call('GET', '/health/ready', undefined, {})
    expect(r.status).toBe(200)
    expect(r.body).not.toHaveProperty('instance')
    expect(r.text).not.toContain(os.hostname())
    expect(r.text).not.toContain(`-${stack.gateway.child.pid}-`)
  })

  it('should send security headers with a CSP on the admin page and the docs', async () => {
    for (const path of ['/admin/', '/docs']) {
      const r = await fetch(`${stack.gatewayUrl}${path}`)
      const csp = r.headers.get('content-security-policy') ?? ''
      expect(csp, path).toContain("default-src 'self'")
      expect(csp, path).toContain("script-src 'self'")
      expect(csp, path).toContain("object-src 'none'")
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(r.headers.get('x-frame-options'), path).toBe('SAMEORIGIN')
      expect(r.headers.get('referrer-policy'), path).toBe('no-referrer')
    }
  })
})

describe('close codes', () => {
  it('should close WebSockets with 1001 on a graceful stop (finding: 1005)', async () => {
    const gw = await stack.startGateway({ ADMIN_TOKEN: TOKEN })
    const c = new TestClient(gw.url.replace('http', 'ws') + '/ws')
    await c.opened
    c.send({ type: 'subscribe', topics: ['*'] })
    await c.waitFor(() => c.message('subscribed'), 5000, 'subscribed')
    await gw.proc.stop('SIGTERM')
    const [code] = await c.closed
    expect(code).toBe(1001)
  })
})
