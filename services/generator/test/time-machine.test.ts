/**
 * The time machine's records against Redis (time-machine.ts): a new run saves
 * its start and begins timeline 1, a continued one takes both back; the saved
 * snapshots are capped, the run's start cannot be deleted, and a snapshot of
 * another run is refused, each naming why. (Restore and travel themselves:
 * tests/integration/test/time-travel.test.ts.)
 */
import { loadWorldById } from '@verisim/worlds'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { pino } from 'pino'
import { createKeys, saveSnapshot } from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import { createEngine, HOUR, type Engine } from '@verisim/sim'
import { TimeMachine } from '../src/time-machine.js'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24, 8)
const prefix = testPrefix()
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

function machine(keys: ReturnType<typeof createKeys>, engine: Engine, maxSaved = 50) {
  return new TimeMachine({
    redis,
    keys,
    world,
    engine,
    seed: 7,
    startedAt: START,
    log: pino({ level: 'silent' }),
    everyMs: HOUR,
    maxSaved,
  })
}

describe('TimeMachine', () => {
  it("should save the run's start, cap the saved snapshots and keep the start, naming why", async () => {
    const keys = createKeys(prefix, 'tm-cap')
    const engine = createEngine({ world, seed: 7, start: START })
    const tm = machine(keys, engine, 3)
    await tm.init(false)
    expect(tm.current).toMatchObject({ id: 'tl_1', number: 1, parent: null, reason: 'start' })
    const first = await tm.list()
    expect(first.snapshots.map((s) => [s.id, s.kind, s.name])).toEqual([
      ['snap_1', 'origin', 'Run start'],
    ])
    engine.advance(START + 2 * HOUR)
    tm.checkpoint()
    await tm.create('one')
    await tm.create('two', 'the second')
    await expect(tm.create('three')).rejects.toMatchObject({
      code: 'VS_GEN_SNAPSHOT_LIMIT',
      status: 409,
      message: expect.stringContaining('VERISIM_SNAPSHOTS_MAX=3'),
    })
    const list = await tm.list()
    expect(list.snapshots.map((s) => s.name)).toEqual(['Run start', 'one', 'two'])
    expect(list.snapshots[2]).toMatchObject({
      description: 'the second',
      kind: 'manual',
      simulatedTime: new Date(START + 2 * HOUR).toISOString(),
      timeline: 'tl_1',
    })
    expect(list.automatic.times).toEqual([
      new Date(START).toISOString(),
      new Date(START + 2 * HOUR).toISOString(),
    ])
    await expect(tm.delete('snap_1')).rejects.toMatchObject({
      code: 'VS_GEN_SNAPSHOT_PROTECTED',
      status: 409,
    })
    await expect(tm.delete('snap_42')).rejects.toMatchObject({
      code: 'VS_GEN_UNKNOWN_SNAPSHOT',
      status: 404,
    })
    expect(await tm.delete('snap_2')).toEqual({ deleted: 'snap_2' })
    await tm.create('three') // room again
  })

  it("should take a continued run's start and timeline back, and clear them for a new run", async () => {
    const keys = createKeys(prefix, 'tm-continue')
    const engine = createEngine({ world, seed: 7, start: START })
    await machine(keys, engine).init(false)
    engine.advance(START + 5 * HOUR)
    const again = machine(keys, engine)
    await again.init(true)
    expect(again.current.id).toBe('tl_1')
    const list = await again.list()
    // the run's start is the first automatic snapshot again: travel reaches back to it
    expect(list.automatic.times[0]).toBe(new Date(START).toISOString())
    const preview = again.preview(START + HOUR)
    expect(preview.state.currentSimulationTime).toBe(new Date(START + HOUR).toISOString())
    // a new run: nothing of the old one left but its own start
    const fresh = machine(keys, createEngine({ world, seed: 7, start: START }))
    await fresh.init(false)
    expect((await fresh.list()).snapshots.map((s) => s.id)).toEqual(['snap_1'])
  })

  it('should refuse to restore a snapshot of another run, and a travel outside the run', async () => {
    const keys = createKeys(prefix, 'tm-other')
    const engine = createEngine({ world, seed: 7, start: START })
    const tm = machine(keys, engine)
    await tm.init(false)
    const other = createEngine({ world, seed: 8, start: START })
    const meta = await saveSnapshot(
      redis,
      keys,
      {
        name: 'seed 8',
        description: '',
        kind: 'manual',
        simulatedTime: new Date(START).toISOString(),
        createdAt: new Date().toISOString(),
        timeline: 'tl_1',
        commands: 0,
      },
      other.snapshot(),
    )
    await expect(tm.load(meta.id)).rejects.toMatchObject({
      code: 'VS_GEN_SNAPSHOT_OTHER_RUN',
      status: 409,
      message: expect.stringContaining('seed 8'),
    })
    expect(() => tm.checkTarget(START - 1)).toThrow(
      /targetTime: .* is outside the run; expected a time from 2025-02-24T08:00:00\.000Z/,
    )
    expect(() => tm.checkTarget(START + 31 * 24 * HOUR)).toThrow(/30 simulated days past now/)
  })
})
