/**
 * GET /api/world and POST /api/world/actions/:name against Redis under a random
 * prefix, with a stand-in generator on the control stream (the gateway's side
 * only: it forwards `world_action`, answers what the generator answered, keeps
 * ADMIN_TOKEN and Idempotency-Key). The real validation is the generator's
 * (services/generator/test/world-action.test.ts, tests/integration).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import {
  createIdSequence,
  createStreamWriter,
  readControl,
  writeWorldDescription,
  type RawEvent,
} from '@verisim/bus'
import type { ControlCommand, ControlResult, WorldDescription } from '@verisim/schema'
import { buildApp, type GatewayApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import { connect, startHarness, until, type Harness } from '../../helpers.js'

const TOKEN = 'world-test-token'

const DESCRIPTION: WorldDescription = {
  id: 'tutoring',
  model: 'chain',
  description: 'A tutoring marketplace.',
  channels: ['customer', 'session', 'system'],
  streams: [
    {
      name: 'customer.tutor.search',
      channel: 'customer',
      domain: 'customer',
      cadence: 'medium',
      unit: 'searches',
      behavior: 'generic',
    },
  ],
  segments: [],
  actions: [
    {
      name: 'spawn_students',
      description: 'Signs up `count` students now.',
      payload: {
        type: 'object',
        required: ['count'],
        properties: { count: { type: 'integer', minimum: 1 }, cohort: { type: 'string' } },
        additionalProperties: false,
      },
    },
  ],
  statsKeys: ['entities', 'initial'],
  warmupHours: 0,
}

/**
 * Answers control commands as the generator does: stores the result under the
 * requestId and publishes the ack on `simulation_control`. World actions are
 * answered from a tiny model of tutoring's `spawn_students`.
 */
function standInGenerator(h: Harness) {
  const conn = new Redis(h.env.REDIS_URL!)
  const writer = createStreamWriter({ redis: h.redis, keys: h.keys, maxLen: 1000 })
  const ids = createIdSequence()
  const received: ControlCommand[] = []
  let students = 100
  let closing = false
  const answer = (cmd: ControlCommand): ControlResult => {
    const fail = (code: string, message: string, status: number): ControlResult => ({
      requestId: cmd.requestId,
      action: cmd.action,
      success: false,
      error: { code, message, status },
    })
    const { name, payload = {} } = cmd.payload as {
      name: string
      payload?: Record<string, unknown>
    }
    if (cmd.action !== 'world_action') return fail('VS_GEN_NOT_SUPPORTED', 'not here', 501)
    if (name !== 'spawn_students')
      return fail(
        'VS_SIM_UNKNOWN_ACTION',
        `unknown world action "${name}"; world tutoring has spawn_students`,
        404,
      )
    const count = payload.count
    if (typeof count !== 'number' || count < 1)
      return fail('VS_SIM_BAD_ARGUMENT', 'spawn_students: payload /count: must be >= 1', 400)
    students += count
    return {
      requestId: cmd.requestId,
      action: cmd.action,
      success: true,
      result: {
        success: true,
        name,
        result: { spawned: count },
        stats: { entities: { students } },
      },
    }
  }
  const loop = (async () => {
    let cursor = '0-0'
    while (!closing) {
      const entries = await readControl(conn, h.keys, cursor, 200).catch(() => [])
      for (const e of entries) {
        cursor = e.entryId
        received.push(e.command)
        // stored under the requestId (what a repeated Idempotency-Key reads), then acked
        const result = answer(e.command)
        await h.redis.set(h.keys.controlResult(result.requestId), JSON.stringify(result), 'EX', 600)
        const id = ids.next(Date.now())
        const ack: RawEvent = {
          id,
          channel: 'simulation_control',
          stream: 'simulation.ack',
          anomalyFlag: 'normal',
          json: JSON.stringify({
            id,
            world: 'tutoring',
            stream: 'simulation.ack',
            channel: 'simulation_control',
            timestamp: new Date().toISOString(),
            // the published ack: the sender's ref, not the requestId
            data: { ref: e.command.ref ?? null, ...result, requestId: undefined },
            normalizedValue: 50,
            anomalyFlag: 'normal',
            causes: [],
          }),
        }
        await writer.write([ack])
      }
    }
  })()
  return {
    received,
    async close() {
      closing = true
      await loop
      conn.disconnect()
    },
  }
}

let h: Harness
let app: GatewayApp
let generator: ReturnType<typeof standInGenerator>

beforeAll(async () => {
  h = await startHarness()
  app = h.app
  generator = standInGenerator(h)
})
afterAll(async () => {
  await generator?.close()
  await h?.close()
})

const post = (name: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: `/api/world/actions/${name}`,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  })

describe('GET /api/world', () => {
  it('should answer 503 with the reason until the generator has written the description', async () => {
    const r = await app.inject('/api/world')
    expect(r.statusCode).toBe(503)
    expect(r.json()).toEqual({
      error: {
        code: 'VS_GW_NOT_READY',
        message: expect.stringMatching(/no world description yet.*generator/),
      },
    })
  })

  it('should serve the description the generator wrote, and a new one when it changes', async () => {
    await writeWorldDescription(h.redis, h.keys, DESCRIPTION)
    const r = await app.inject('/api/world')
    expect(r.statusCode).toBe(200)
    expect(r.json()).toEqual(DESCRIPTION)
    // a restarted generator with another world config
    const next = { ...DESCRIPTION, statsKeys: ['entities'] }
    await writeWorldDescription(h.redis, h.keys, next)
    expect((await app.inject('/api/world')).json()).toEqual(next)
    await writeWorldDescription(h.redis, h.keys, DESCRIPTION)
  })
})

describe('POST /api/world/actions/:name', () => {
  it('should send world_action with the body as payload and answer the result', async () => {
    const r = await post('spawn_students', { count: 5, cohort: 'paid' })
    expect(r.statusCode).toBe(200)
    expect(r.json()).toMatchObject({
      success: true,
      name: 'spawn_students',
      result: { spawned: 5 },
      stats: { entities: { students: 105 } },
    })
    expect(generator.received.at(-1)).toMatchObject({
      action: 'world_action',
      payload: { name: 'spawn_students', payload: { count: 5, cohort: 'paid' } },
    })
  })

  it('should answer 404 for an action the world does not have', async () => {
    const r = await post('spawn_dragons', { count: 1 })
    expect(r.statusCode).toBe(404)
    expect(r.json().error).toMatchObject({
      code: 'VS_SIM_UNKNOWN_ACTION',
      message: expect.stringContaining('spawn_students'),
    })
  })

  it('should answer 400 naming the field for a payload the world refuses, and for a body that is no object', async () => {
    const bad = await post('spawn_students', { count: 0 })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error).toEqual({
      code: 'VS_SIM_BAD_ARGUMENT',
      message: 'spawn_students: payload /count: must be >= 1',
    })
    // no body at all is the empty payload, which the world refuses here
    const empty = await post('spawn_students')
    expect(empty.statusCode).toBe(400)
    expect(generator.received.at(-1)!.payload).toEqual({ name: 'spawn_students', payload: {} })
    const array = await post('spawn_students', [1, 2])
    expect(array.statusCode).toBe(400)
    expect(array.json().error.code).toBe('VS_GW_BAD_REQUEST')
    const name = await post('no%20such', { count: 1 })
    expect(name.statusCode).toBe(400)
    expect(name.json().error.message).toContain('name')
  })

  it('should apply a repeated Idempotency-Key once and answer the first result again', async () => {
    const sent = generator.received.length
    const key = `world-${Date.now()}`
    const first = await post('spawn_students', { count: 3 }, { 'idempotency-key': key })
    const again = await post('spawn_students', { count: 3 }, { 'idempotency-key': key })
    expect(first.statusCode).toBe(200)
    expect(again.json()).toEqual(first.json())
    expect(generator.received.length).toBe(sent + 1)
  })

  it('should take world_action as a WebSocket control message', async () => {
    const c = connect(h.url)
    await c.opened
    c.ws.send(
      JSON.stringify({
        type: 'control',
        requestId: 'w1',
        action: 'world_action',
        payload: { name: 'spawn_students', payload: { count: 2 } },
      }),
    )
    await until(() => c.rx.messages.some((m) => m.requestId === 'w1'), 5000, 'the ack')
    expect(c.rx.messages.find((m) => m.requestId === 'w1')).toMatchObject({
      type: 'ack',
      success: true,
      result: { name: 'spawn_students', result: { spawned: 2 } },
    })
    c.ws.send(
      JSON.stringify({
        type: 'control',
        requestId: 'w2',
        action: 'world_action',
        payload: { name: 'spawn_dragons', payload: {} },
      }),
    )
    await until(() => c.rx.messages.some((m) => m.requestId === 'w2'), 5000, 'the error')
    expect(c.rx.messages.find((m) => m.requestId === 'w2')).toMatchObject({
      type: 'error',
      code: 'VS_SIM_UNKNOWN_ACTION',
    })
    c.ws.close()
  })

  it('should answer 401 without the admin token when ADMIN_TOKEN is set', async () => {
    const secured = await buildApp(
      loadConfig({ ...h.env, ADMIN_TOKEN: TOKEN }),
      pino({ level: 'silent' }),
    )
    try {
      await secured.ready()
      const none = await secured.inject({
        method: 'POST',
        url: '/api/world/actions/spawn_students',
        payload: { count: 1 },
      })
      expect(none.statusCode).toBe(401)
      expect(none.json().error.code).toBe('VS_GW_UNAUTHORIZED')
      const wrong = await secured.inject({
        method: 'POST',
        url: '/api/world/actions/spawn_students',
        headers: { authorization: 'Bearer nope' },
        payload: { count: 1 },
      })
      expect(wrong.statusCode).toBe(401)
      // reads stay open
      expect((await secured.inject('/api/world')).statusCode).toBe(200)
      await until(() => secured.streams.notReadyReason() === null, 5000, 'the secured gateway')
      const ok = await secured.inject({
        method: 'POST',
        url: '/api/world/actions/spawn_students',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { count: 1 },
      })
      expect(ok.statusCode).toBe(200)
    } finally {
      await secured.close()
    }
  })

  it('should list both routes with their schemas and error responses in the OpenAPI document', async () => {
    const doc = (await app.inject('/docs/json')).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    expect(Object.keys(doc.paths['/api/world']!.get!.responses)).toEqual(['200', '503'])
    const action = doc.paths['/api/world/actions/{name}']!.post!
    expect(Object.keys(action.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '504']),
    )
    expect(JSON.stringify(action)).toContain('idempotency-key')
  })
})
