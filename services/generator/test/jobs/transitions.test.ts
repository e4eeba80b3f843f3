import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { createKeys, type RedisHandle } from '@verisim/bus'
import { TransitionScheduler, wallDelay } from '../../src/jobs/transitions.js'
import { openTestRedis, testPrefix } from '@verisim/bus/testing'

let handle: RedisHandle
let redis: Redis
let close: () => Promise<void>
const prefix = testPrefix()
const keys = createKeys(prefix, 'tutoring')

beforeAll(async () => {
  ;({ handle, redis, close } = await openTestRedis(prefix))
})
afterAll(() => close())

describe('wallDelay', () => {
  it('should turn simulation time into wall time at the current speed, and wait while paused', () => {
    const clock = { simNow: () => 1_000, speed: () => 60, paused: () => false }
    expect(wallDelay(1_000 + 3_600_000, clock)).toBe(60_000)
    expect(wallDelay(500, clock)).toBe(0)
    expect(wallDelay(1_000 + 3_600_000, { ...clock, paused: () => true })).toBe(60_000)
  })
})

describe('TransitionScheduler', () => {
  it('should move a pending transition when the speed changes and send it through the control stream when due', async () => {
    let simNow = Date.parse('2026-11-02T08:00:00Z')
    let speed = 1
    const clock = { simNow: () => simNow, speed: () => speed, paused: () => false }
    const t = new TransitionScheduler({
      redisUrl: handle.url,
      keys,
      log: pino({ level: 'silent' }),
      clock,
    })
    t.start()
    try {
      const at = simNow + 3_600_000 // an hour of simulation: an hour of wall time at 1×
      await t.schedule({ runId: 'run_1', to: 'settling', at })
      await new Promise((r) => setTimeout(r, 300))
      expect(await redis.xlen(keys.control)).toBe(0)

      speed = 3_600_000 // the hour now passes in a millisecond of wall time
      simNow = at
      await t.reschedule()
      const deadline = Date.now() + 10_000
      while ((await redis.xlen(keys.control)) === 0) {
        if (Date.now() > deadline) throw new Error('transition not sent after the speed change')
        await new Promise((r) => setTimeout(r, 50))
      }
      const [[, fields]] = (await redis.xrange(keys.control, '-', '+')) as [[string, string[]]]
      expect(fields).toEqual(
        expect.arrayContaining(['a', 'scenario_transition', 'r', 'transition:run_1:settling']),
      )
      expect(JSON.parse(fields[fields.indexOf('p') + 1]!)).toEqual({
        runId: 'run_1',
        to: 'settling',
      })
    } finally {
      await t.close()
    }
  })
})
