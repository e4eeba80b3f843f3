/**
 * Committing a control command (commands/commitControl-3.lua): its result, its
 * control-log entry and the cursor move together or not at all, and a repeated
 * requestId gets the first result without a second log entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import type { ControlCommand, ControlResult } from '@verisim/schema'
import {
  CONTROL_REFUSED_RESULT_TTL_S,
  commitControl,
  createKeys,
  lastControlLogId,
  readControlLog,
  readControlResult,
} from '../src/index.js'
import { openTestRedis, testPrefix, type TestRedis } from '../src/testing.js'

const prefix = testPrefix()
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

const command = (requestId: string): ControlCommand => ({
  requestId,
  action: 'adjust_behavior',
  payload: { stream: 'customer.*', type: 'multiplier', value: 2 },
})
const ok = (requestId: string, result: unknown = { n: 1 }): ControlResult => ({
  requestId,
  action: 'adjust_behavior',
  success: true,
  result,
})

describe('commitControl', () => {
  it('should store the result, append the command to the log and move the cursor in one step', async () => {
    const keys = createKeys(prefix, 'commit')
    const simTime = Date.UTC(2025, 1, 24, 9, 30)
    const c = await commitControl(redis, keys, {
      entryId: '5-0',
      command: command('a'),
      result: ok('a'),
      simTime,
      log: true,
    })
    expect(c.result).toEqual(ok('a'))
    expect(await readControlResult(redis, keys, 'a')).toEqual(ok('a'))
    expect(await redis.ttl(keys.controlResult('a'))).toBeGreaterThan(CONTROL_REFUSED_RESULT_TTL_S)
    expect(await redis.get(keys.controlCursor)).toBe('5-0')
    expect(await readControlLog(redis, keys, '0-0', 10)).toEqual([
      { id: c.logId, command: command('a'), simTime, ok: true, prev: '0-0' },
    ])
    expect(await lastControlLogId(redis, keys)).toBe(c.logId)

    // a repeated requestId: the first result, nothing logged, the cursor moves on
    const again = await commitControl(redis, keys, {
      entryId: '6-0',
      command: command('a'),
      result: ok('a', { n: 2 }),
      simTime,
      log: true,
    })
    expect(again).toEqual({ result: ok('a'), logId: null })
    expect(await redis.xlen(keys.controlLog)).toBe(1)
    expect(await redis.get(keys.controlCursor)).toBe('6-0')

    // a read-only command: result and cursor, no log entry
    const ro = await commitControl(redis, keys, {
      entryId: '7-0',
      command: { requestId: 'b', action: 'get_state', payload: {} },
      result: { requestId: 'b', action: 'get_state', success: true, result: {} },
      simTime,
      log: false,
    })
    expect(ro.logId).toBeNull()
    expect(await redis.xlen(keys.controlLog)).toBe(1)
    expect(await readControlResult(redis, keys, 'b')).not.toBeNull()
  })

  it("should keep a refused command's result ten minutes, not a day (fresh ids with bad commands cannot fill Redis)", async () => {
    const keys = createKeys(prefix, 'refused')
    const refused: ControlResult = {
      requestId: 'bad',
      action: 'adjust_behavior',
      success: false,
      error: { code: 'VS_GEN_INVALID_PAYLOAD', message: 'invalid payload' },
    } as ControlResult
    await commitControl(redis, keys, {
      entryId: '7-0',
      command: command('bad'),
      result: refused,
      simTime: 0,
      log: false,
    })
    const ttl = await redis.ttl(keys.controlResult('bad'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(CONTROL_REFUSED_RESULT_TTL_S)
  })

  it('should write nothing when the command cannot be logged', async () => {
    const keys = createKeys(prefix, 'fail')
    await redis.set(keys.controlCursor, '1-0')
    await redis.set(keys.controlLog, 'not a stream') // XADD fails: WRONGTYPE
    await expect(
      commitControl(redis, keys, {
        entryId: '2-0',
        command: command('a'),
        result: ok('a'),
        simTime: 0,
        log: true,
      }),
    ).rejects.toThrow(/WRONGTYPE/)
    expect(await readControlResult(redis, keys, 'a')).toBeNull()
    expect(await redis.get(keys.controlCursor)).toBe('1-0')

    // once it can, the same commit goes through
    await redis.del(keys.controlLog)
    const c = await commitControl(redis, keys, {
      entryId: '2-0',
      command: command('a'),
      result: ok('a'),
      simTime: 0,
      log: true,
    })
    expect(c.logId).not.toBeNull()
    expect(await readControlResult(redis, keys, 'a')).toEqual(ok('a'))
  })

  it('should run again after Redis forgot its scripts', async () => {
    const keys = createKeys(prefix, 'flush')
    await redis.script('FLUSH')
    const c = await commitControl(redis, keys, {
      entryId: '1-0',
      command: command('a'),
      result: ok('a'),
      simTime: 0,
      log: true,
    })
    expect(c.logId).not.toBeNull()
  })
})

describe('the control log', () => {
  it('should read after an id, each entry naming the one before it', async () => {
    const keys = createKeys(prefix, 'trim')
    const ids: string[] = []
    for (let i = 0; i < 250; i++) {
      const c = await commitControl(redis, keys, {
        entryId: `${i + 1}-0`,
        command: command(`r${i}`),
        result: ok(`r${i}`),
        simTime: i,
        log: true,
        maxLen: 10,
      })
      ids.push(c.logId!)
    }
    const kept = await readControlLog(redis, keys, '0-0', 1000)
    expect(kept.length).toBeLessThan(250) // MAXLEN ~ trims whole nodes
    const k = ids.indexOf(kept[0]!.id)
    expect(k).toBeGreaterThan(0)
    expect(kept.map((e) => e.id)).toEqual(ids.slice(k))
    expect(kept.map((e) => e.prev)).toEqual(ids.slice(k - 1, -1))
    expect((await readControlLog(redis, keys, ids[k]!, 2)).map((e) => e.id)).toEqual(
      ids.slice(k + 1, k + 3),
    )
    expect((await readControlLog(redis, createKeys(prefix, 'first'), '0-0', 1)).length).toBe(0)
  })
})
