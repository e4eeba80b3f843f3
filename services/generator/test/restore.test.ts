/**
 * A restarted generator rebuilds its engine from the control log: adjust_behavior
 * commands are replayed at the simulation times they took effect, so the manual
 * modifiers and every event after the restart are the same as without it.
 */
import { loadWorldById } from '@verisim/worlds'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { createKeys, logControl } from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import type { ControlCommand } from '@verisim/schema'
import { createEngine, HOUR, MINUTE, type Engine } from '@verisim/sim'
import { SimClock } from '../src/clock.js'
import { applyCommand } from '../src/control.js'
import { replayControlLog } from '../src/restore.js'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24, 8)
const prefix = testPrefix()
const keys = createKeys(prefix, 'tutoring')
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

function engine(): Engine {
  const e = createEngine({ world, seed: 9, start: START })
  return e
}

describe('replayControlLog', () => {
  it('should rebuild adjust_behavior modifiers at the same simulation times', async () => {
    const live = engine()
    const clock = new SimClock({ start: START, speed: 1, wallNow: 0 })
    let n = 0
    const run = async (at: number, payload: Record<string, unknown>) => {
      live.advance(at)
      const command: ControlCommand = {
        requestId: `r${++n}`,
        action: 'adjust_behavior',
        payload,
      }
      applyCommand(command, { clock, engine: live, state: () => ({}) }, 0)
      await logControl(redis, keys, { command, simTime: live.now, success: true })
    }
    await run(START + 20 * MINUTE, { stream: 'customer.*', type: 'multiplier', value: 1.6 })
    await run(START + 50 * MINUTE, {
      stream: 'support.ticket.created',
      type: 'additive',
      value: 30,
      duration: 'PT1H',
      id: 'tickets',
    })
    await run(START + 70 * MINUTE, { clear: 'mod_1' })
    await run(START + 80 * MINUTE, { stream: 'tutor.login', type: 'multiplier', value: 0.5 })
    const resumeAt = START + 100 * MINUTE
    live.advance(resumeAt)

    const restarted = engine()
    expect(await replayControlLog(redis, keys, restarted, resumeAt)).toBe(4)
    expect(restarted.now).toBe(resumeAt)
    expect(restarted.manualModifiers()).toEqual(live.manualModifiers())
    expect(restarted.activeModifiers()).toEqual(live.activeModifiers())
    // the expiry of "tickets" (at +110 min) and everything else after the restart
    const to = START + 3 * HOUR
    expect(restarted.advance(to)).toEqual(live.advance(to))
    expect(restarted.manualModifiers().map((m) => m.id)).toEqual(['mod_2'])
  })
})
