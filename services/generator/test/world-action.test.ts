/**
 * `world_action` through the generator: applied to the engine by applyCommand
 * (errors mapped to the engine's codes and HTTP statuses), taken by the loop
 * like every command (result stored, logged with its simulation time, ack and
 * state published), and replayed from the control log after a restart.
 */
import { loadWorldById } from '@verisim/worlds'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { pino } from 'pino'
import {
  createKeys,
  createWorldDescriptionReader,
  readControlResult,
  type WorldKeys,
} from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import type { ControlCommand } from '@verisim/schema'
import { createEngine, HOUR, MINUTE, type Engine } from '@verisim/sim'
import { SimClock } from '../src/clock.js'
import { applyCommand, ControlError } from '../src/control.js'
import { GeneratorLoop } from '../src/loop.js'
import { createMetrics } from '../src/metrics.js'
import { replayControlLog } from '../src/restore.js'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24, 9)
const prefix = testPrefix()
const keys: WorldKeys = createKeys(prefix, 'tutoring')
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

const engine = (): Engine => createEngine({ world, seed: 42, start: START })
type Students = { entities: { students: number; studentsTotal: number } }

function apply(e: Engine, payload: Record<string, unknown>, action = 'world_action') {
  const clock = new SimClock({ start: START, speed: 1, wallNow: 0 })
  const cmd = { requestId: 'r', action, payload } as ControlCommand
  return applyCommand(cmd, { clock, engine: e, state: () => ({}) }, 0) as Record<string, any>
}

function refused(fn: () => unknown): ControlError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ControlError)
    return err as ControlError
  }
  throw new Error('expected a ControlError')
}

describe('world_action', () => {
  it('should apply the action through the engine and answer its result with the world figures', () => {
    const e = engine()
    const before = (e.stats().world as Students).entities.students
    const r = apply(e, { name: 'spawn_students', payload: { count: 5, cohort: 'paid' } })
    expect(r).toMatchObject({
      success: true,
      name: 'spawn_students',
      result: { spawned: 5, firstId: expect.stringMatching(/^stu_/) },
    })
    expect(r.stats.entities.students).toBe(before + 5)
    expect((e.stats().world as Students).entities.students).toBe(before + 5)
  })

  it('should map an unknown action to 404 and a bad payload to 400 naming the field', () => {
    const e = engine()
    expect(refused(() => apply(e, { name: 'spawn_dragons', payload: {} }))).toMatchObject({
      code: 'VS_SIM_UNKNOWN_ACTION',
      status: 404,
      message: expect.stringContaining('spawn_students'),
    })
    const low = refused(() => apply(e, { name: 'spawn_students', payload: { count: 0 } }))
    expect(low).toMatchObject({ code: 'VS_SIM_BAD_ARGUMENT', status: 400 })
    expect(low.message).toContain('/count')
    const cohort = refused(() =>
      apply(e, { name: 'spawn_students', payload: { count: 1, cohort: 'x' } }),
    )
    expect(cohort).toMatchObject({ code: 'VS_SIM_BAD_ARGUMENT', status: 400 })
    expect(cohort.message).toContain('cohort')
    // the command's own shape: `name` is required
    const shape = refused(() => apply(e, { payload: { count: 1 } }))
    expect(shape).toMatchObject({ code: 'VS_GEN_INVALID_PAYLOAD', status: 400 })
    expect(shape.message).toContain('"name"')
  })

  it('should keep spawn_users not supported in a world without such an action', () => {
    expect(refused(() => apply(engine(), { count: 3 }, 'spawn_users'))).toMatchObject({
      code: 'VS_GEN_NOT_SUPPORTED',
      status: 501,
    })
  })
})

describe('world_action in the loop', () => {
  it('should store, log and publish it, write the world description, and replay it after a restart', async () => {
    const live = engine()
    live.advance(START + HOUR)
    const clock = new SimClock({ start: START + HOUR, speed: 60, wallNow: Date.now() })
    const loop = new GeneratorLoop({
      redis,
      keys,
      engine: live,
      clock,
      world: 'tutoring',
      seed: 42,
      retention: 10_000,
      tickMs: 20,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
    })
    await loop.start()
    try {
      const description = await createWorldDescriptionReader(redis, keys).read()
      expect(description).toMatchObject({ id: 'tutoring', statsKeys: ['entities', 'initial'] })
      expect(description!.actions.map((a) => a.name)).toEqual(['spawn_students'])
      expect(description!.actions[0]!.payload).toMatchObject({
        type: 'object',
        required: ['count'],
      })

      const send = (requestId: string, payload: Record<string, unknown>) =>
        loop.enqueue({
          entryId: `${Date.now()}-0`,
          command: { requestId, action: 'world_action', payload },
        })
      const answered = async (requestId: string) => {
        for (let i = 0; i < 500; i++) {
          const r = await readControlResult(redis, keys, requestId)
          if (r) return r
          await new Promise((res) => setTimeout(res, 20))
        }
        throw new Error(`no result for ${requestId}`)
      }
      send('w1', { name: 'spawn_students', payload: { count: 40 } })
      expect(await answered('w1')).toMatchObject({
        success: true,
        result: { name: 'spawn_students', result: { spawned: 40 } },
      })
      send('w2', { name: 'spawn_students', payload: { count: -1 } })
      expect(await answered('w2')).toMatchObject({
        success: false,
        error: { code: 'VS_SIM_BAD_ARGUMENT', status: 400 },
      })
      await new Promise((res) => setTimeout(res, 100)) // a little simulated time after it
      send('w3', { name: 'spawn_students', payload: { count: 7, cohort: 'referral' } })
      const w3 = (await answered('w3')).result as { stats: unknown }

      // logged with the simulation time it took effect (the failed one too, as failed)
      const log = await redis.xrange(keys.controlLog, '-', '+')
      const field = (f: string[], k: string) => f[f.indexOf(k) + 1]
      expect(log.map(([, f]) => [field(f, 'r'), field(f, 'a'), field(f, 'ok')])).toEqual([
        ['w1', 'world_action', '1'],
        ['w2', 'world_action', '0'],
        ['w3', 'world_action', '1'],
      ])
      // published: an ack and the new state, whose `stats` has the new students
      const control = await redis.xrange(keys.channel('simulation_control'), '-', '+')
      const published = control.map(([, f]) => JSON.parse(field(f, 'e')!) as Record<string, any>)
      expect(published.filter((e) => e.stream === 'simulation.ack')).toHaveLength(3)
      const states = published.filter((e) => e.stream === 'simulation.state')
      expect(states).toHaveLength(2)
      expect(states.at(-1)!.data.stats).toEqual(w3.stats)
    } finally {
      await loop.close()
    }

    // A restart rebuilds the same world from the log.
    const upTo = live.now
    const restarted = engine()
    expect(await replayControlLog(redis, keys, restarted, upTo)).toBe(2)
    expect(restarted.stats().world).toEqual(live.stats().world)
    const to = upTo + 30 * MINUTE
    expect(restarted.advance(to)).toEqual(live.advance(to))
  }, 30_000)
})
