/**
 * The control plane through real processes: REST and WebSocket commands reach
 * the generator over the control stream, are applied once, acknowledged, logged
 * with their simulation time, and broadcast as state updates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, TestClient, type Stack } from './harness.js'

const TOKEN = 'test-admin-token'
let stack: Stack
let secured: { url: string }

beforeAll(async () => {
  stack = await startStack({ env: { VERISIM_SPEED: '60' } })
  secured = await stack.startGateway({ ADMIN_TOKEN: TOKEN })
})
afterAll(async () => {
  await stack?.stop()
})

async function post(
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base = stack.gatewayUrl,
) {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: r.status, body: (await r.json()) as Record<string, any> }
}
const state = async () =>
  (await (await fetch(`${stack.gatewayUrl}/api/simulation/state`)).json()) as Record<string, any>

describe('control over REST', () => {
  it('should pause, hold simulation time still, and resume', async () => {
    const paused = await post('/api/simulation/pause')
    expect(paused.status).toBe(200)
    expect(paused.body).toMatchObject({ paused: true, running: false })
    const t1 = (await state()).currentSimulationTime
    await new Promise((r) => setTimeout(r, 600))
    expect((await state()).currentSimulationTime).toBe(t1)
    const resumed = await post('/api/simulation/resume')
    expect(resumed.body).toMatchObject({ paused: false, running: true })
    await new Promise((r) => setTimeout(r, 1200))
    expect(Date.parse((await state()).currentSimulationTime)).toBeGreaterThan(Date.parse(t1))
  })

  it('should change the speed and refuse an out-of-range one naming the field', async () => {
    const ok = await post('/api/simulation/speed', { multiplier: 10 })
    expect(ok.status).toBe(200)
    expect(ok.body.speed).toBe(10)
    const bad = await post('/api/simulation/speed', { multiplier: 0 })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('VS_GW_BAD_REQUEST')
    expect(bad.body.error.message).toContain('multiplier')
    const missing = await post('/api/simulation/speed', {})
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toContain('multiplier')
    await post('/api/simulation/speed', { multiplier: 60 })
  })

  it('should apply a repeated Idempotency-Key once and return the first result', async () => {
    const key = `k-${Date.now()}`
    const first = await post('/api/simulation/pause', undefined, { 'idempotency-key': key })
    expect(first.body.paused).toBe(true)
    await post('/api/simulation/resume')
    const again = await post('/api/simulation/pause', undefined, { 'idempotency-key': key })
    expect(again.body).toEqual(first.body)
    expect((await state()).paused).toBe(false) // not applied twice
  })

  it('should record every applied command in the control log with its simulation time', async () => {
    const entries = await stack.redis.xrange(`${stack.prefix}:{tutoring}:control:log`, '-', '+')
    const actions = entries.map(([, f]) => f[f.indexOf('a') + 1])
    expect(actions).toEqual(expect.arrayContaining(['pause', 'resume', 'set_speed']))
    for (const [, f] of entries)
      expect(Number.isNaN(Date.parse(f[f.indexOf('sim') + 1]!))).toBe(false)
  })

  it('should require the admin token when one is set', async () => {
    const denied = await post('/api/simulation/pause', undefined, {}, secured.url)
    expect(denied.status).toBe(401)
    expect(denied.body.error.code).toBe('VS_GW_UNAUTHORIZED')
    const wrong = await post(
      '/api/simulation/pause',
      undefined,
      { authorization: 'Bearer nope' },
      secured.url,
    )
    expect(wrong.status).toBe(401)
    const ok = await post(
      '/api/simulation/resume',
      undefined,
      { authorization: `Bearer ${TOKEN}` },
      secured.url,
    )
    expect(ok.status).toBe(200)
  })
})

describe('control over WebSocket', () => {
  it('should ack a control message and broadcast the state change', async () => {
    const watcher = new TestClient(stack.wsUrl)
    const c = new TestClient(stack.wsUrl)
    await Promise.all([watcher.opened, c.opened])
    c.send({ type: 'control', requestId: 'ws-1', action: 'set_speed', payload: { multiplier: 30 } })
    const ack = await c.waitFor(
      () => c.messages.find((m) => m.type === 'ack' && m.requestId === 'ws-1'),
      10_000,
      'ack',
    )
    expect(ack).toMatchObject({ success: true, result: { speed: 30 } })
    const update = await watcher.waitFor(
      () => watcher.message('state_update'),
      10_000,
      'state_update',
    )
    expect((update.payload as { speed: number }).speed).toBe(30)
    c.send({ type: 'control', requestId: 'ws-2', action: 'set_speed', payload: { multiplier: -1 } })
    const err = await c.waitFor(
      () => c.messages.find((m) => m.type === 'error' && m.requestId === 'ws-2'),
      10_000,
      'error',
    )
    expect(err.code).toBe('VS_GEN_INVALID_PAYLOAD')
    expect(String(err.message)).toContain('/multiplier')
    await Promise.all([watcher.close(), c.close()])
  })

  it('should refuse control without the token and accept it after auth', async () => {
    const c = new TestClient(secured.url.replace('http', 'ws') + '/ws')
    await c.opened
    c.send({ type: 'control', requestId: 'a1', action: 'get_state' })
    const denied = await c.waitFor(
      () => c.messages.find((m) => m.requestId === 'a1'),
      5000,
      'denial',
    )
    expect(denied).toMatchObject({ type: 'error', code: 'VS_GW_UNAUTHORIZED' })
    c.send({ type: 'auth', token: TOKEN })
    c.send({ type: 'control', requestId: 'a2', action: 'get_state' })
    const ack = await c.waitFor(
      () => c.messages.find((m) => m.type === 'ack' && m.requestId === 'a2'),
      10_000,
      'ack',
    )
    expect(ack.result).toMatchObject({ world: 'tutoring' })
    await c.close()
  })
})
