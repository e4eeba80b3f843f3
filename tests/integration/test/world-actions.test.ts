/**
 * The world kit through the running services: GET /api/world from the
 * description the generator wrote, tutoring's `spawn_students` over REST, WS and
 * the client SDK changing the world's figures (`stats` in the state), its
 * errors, the control log, and the students still there after a generator
 * restart (the action replayed from the log).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient } from '@verisim/client'
import {
  freePort,
  rest,
  startProcess,
  startStack,
  TestClient,
  until,
  waitReady,
  type Proc,
  type Stack,
} from './harness.js'

let stack: Stack
let second: Proc | null = null

beforeAll(async () => {
  stack = await startStack({ env: { VERISIM_SPEED: '60' } })
})
afterAll(async () => {
  await second?.stop()
  await stack?.stop()
})

const { call, state } = rest(() => stack)

interface Entities {
  students: number
  studentsTotal: number
  studentsByCohort: Record<string, number>
}
const entities = async (): Promise<Entities> =>
  ((await state()).stats as { entities: Entities }).entities

describe('world actions', () => {
  it('should describe the running world', async () => {
    const r = await call('GET', '/api/world')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      id: 'tutoring',
      model: 'chain',
      channels: expect.arrayContaining(['customer', 'session']),
      statsKeys: ['entities', 'initial'],
    })
    expect(r.body.streams).toHaveLength(50)
    const spawn = r.body.actions.find((a: { name: string }) => a.name === 'spawn_students')
    expect(spawn.payload).toMatchObject({
      type: 'object',
      required: ['count'],
      properties: { count: { type: 'integer', minimum: 1 } },
    })
  })

  it('should spawn students over REST and show them in the state', async () => {
    const before = await entities()
    const r = await call('POST', '/api/world/actions/spawn_students', {
      count: 3000,
      cohort: 'paid',
    })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      success: true,
      name: 'spawn_students',
      result: { spawned: 3000, firstId: expect.stringMatching(/^stu_\d+$/) },
    })
    expect(r.body.stats.entities.studentsTotal).toBeGreaterThanOrEqual(before.studentsTotal + 3000)
    const after = await entities()
    expect(after.studentsTotal).toBeGreaterThanOrEqual(before.studentsTotal + 3000)
    expect(after.studentsByCohort.paid).toBeGreaterThanOrEqual(
      before.studentsByCohort.paid! + 3000 - 50, // a few may churn meanwhile
    )
  })

  it('should refuse an unknown action (404) and a bad payload (400 naming the field)', async () => {
    const unknown = await call('POST', '/api/world/actions/spawn_dragons', { count: 1 })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toMatchObject({
      code: 'VS_SIM_UNKNOWN_ACTION',
      message: expect.stringContaining('spawn_students'),
    })
    const count = await call('POST', '/api/world/actions/spawn_students', { count: 0 })
    expect(count.status).toBe(400)
    expect(count.body.error.code).toBe('VS_SIM_BAD_ARGUMENT')
    expect(count.body.error.message).toContain('/count')
    const cohort = await call('POST', '/api/world/actions/spawn_students', {
      count: 1,
      cohort: 'martians',
    })
    expect(cohort.status).toBe(400)
    expect(cohort.body.error.message).toContain('cohort')
  })

  it('should take world_action over WebSocket, broadcast the new state, and keep spawn_users not supported', async () => {
    const c = new TestClient(stack.wsUrl)
    await c.opened
    c.send({
      type: 'control',
      requestId: 'wa-1',
      action: 'world_action',
      payload: { name: 'spawn_students', payload: { count: 4 } },
    })
    const ack = await c.waitFor(
      () => c.messages.find((m) => m.type === 'ack' && m.requestId === 'wa-1'),
      10_000,
      'ack',
    )
    expect(ack.result).toMatchObject({ name: 'spawn_students', result: { spawned: 4 } })
    const update = await c.waitFor(
      () =>
        c.messages.find(
          (m) =>
            m.type === 'state_update' &&
            typeof (m.payload as { stats?: unknown }).stats === 'object',
        ),
      10_000,
      'state_update with the world figures',
    )
    expect((update.payload as { stats: { entities: Entities } }).stats.entities).toBeDefined()
    c.send({ type: 'control', requestId: 'su-1', action: 'spawn_users', payload: { count: 3 } })
    const refused = await c.waitFor(
      () => c.messages.find((m) => m.requestId === 'su-1'),
      10_000,
      'spawn_users answer',
    )
    expect(refused).toMatchObject({ type: 'error', code: 'VS_GEN_NOT_SUPPORTED' })
    await c.close()
  })

  it('should work through the client SDK', async () => {
    const client = createClient({ url: stack.wsUrl, WebSocket })
    try {
      const world = await client.world()
      expect(world.actions.map((a) => a.name)).toContain('spawn_students')
      const r = await client.worldAction('spawn_students', { count: 2, cohort: 'referral' })
      expect(r.result).toMatchObject({ spawned: 2 })
      await expect(client.worldAction('spawn_students', { count: -3 })).rejects.toMatchObject({
        code: 'VS_SIM_BAD_ARGUMENT',
      })
    } finally {
      await client.close()
    }
  })

  it('should log world actions with their simulation time', async () => {
    const entries = await stack.redis.xrange(`${stack.prefix}:{tutoring}:control:log`, '-', '+')
    const world = entries
      .map(([, f]) => ({
        a: f[f.indexOf('a') + 1],
        p: JSON.parse(f[f.indexOf('p') + 1]!) as { name: string },
        ok: f[f.indexOf('ok') + 1],
      }))
      .filter((e) => e.a === 'world_action')
    expect(world.filter((e) => e.ok === '1').map((e) => e.p.name)).toEqual([
      'spawn_students',
      'spawn_students',
      'spawn_students',
    ])
  })

  it('should keep the spawned students across a generator restart', async () => {
    const before = await entities()
    expect(await stack.generator.stop('SIGTERM')).toBe(0)
    const restartedAt = Date.now()
    const port = await freePort()
    second = startProcess('generator', {
      REDIS_URL: stack.redisUrl,
      VERISIM_PREFIX: stack.prefix,
      HOST: '127.0.0.1',
      VERISIM_WARMUP_HOURS: '0',
      VERISIM_SPEED: '60',
      GENERATOR_PORT: String(port),
    })
    await waitReady(`http://127.0.0.1:${port}/health/ready`).catch((err: Error) => {
      throw new Error(`${err.message}\n${second!.output.join('')}`)
    })
    // the state the new generator writes, not the one the first left behind
    await until(
      async () => Date.parse((await state()).updatedAt) > restartedAt,
      15_000,
      'a state from the restarted generator',
    )
    const now = await entities()
    // Without the replay the restarted world would lack the 3006 spawned students.
    expect(now.studentsTotal).toBeGreaterThanOrEqual(before.studentsTotal)
    expect(now.studentsByCohort.paid).toBeGreaterThanOrEqual(before.studentsByCohort.paid! - 50)
    expect((await call('GET', '/api/world')).status).toBe(200)
  })
})
