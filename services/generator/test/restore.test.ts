/**
 * A restarted generator continues its run (restore.ts): the run's latest engine
 * snapshot is restored and only the control-log commands logged after it are
 * applied again, at the simulation times they took effect, so every event after
 * the restart is the same as without it — also when the control log has been
 * trimmed past its start. A command's result is never stored without its log
 * entry, and a snapshot of another world config is refused.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DEFAULT_WORLDS_DIR, loadWorldById } from '@verisim/worlds'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import {
  commitControl,
  createKeys,
  readControlLog,
  readControlResult,
  readSnapshot,
  sendControl,
  writeSnapshot,
  type WorldKeys,
} from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import type { ControlCommand } from '@verisim/schema'
import { createEngine, HOUR, MINUTE, restoreEngine, type Engine } from '@verisim/sim'
import { SimClock } from '../src/clock.js'
import { applyCommand, ControlConsumer } from '../src/control.js'
import { GeneratorLoop } from '../src/loop.js'
import { createMetrics } from '../src/metrics.js'
import { findPreviousRun, replayControlLog, restoreRun } from '../src/restore.js'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24, 8)
const SEED = 9
const prefix = testPrefix()
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

const silent = pino({ level: 'silent' })
const engine = (): Engine => createEngine({ world, seed: SEED, start: START })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 20_000,
) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** A generator loop over `engine` with its own Redis connection (disconnected to simulate a kill). */
function startLoop(
  keys: WorldKeys,
  e: Engine,
  opts: { controlLogMaxLen?: number; snapshotEveryMs?: number; controlLogId?: string } = {},
) {
  const conn = new Redis(t.handle.url)
  conn.on('error', () => undefined)
  const loop = new GeneratorLoop({
    redis: conn,
    keys,
    engine: e,
    clock: new SimClock({ start: e.now, speed: 3600, wallNow: Date.now() }),
    world: 'tutoring',
    seed: SEED,
    warmupHours: 0,
    startedAt: START,
    retention: 100_000,
    tickMs: 5,
    log: silent,
    metrics: createMetrics(),
    worldHash: world.hash,
    snapshotEveryMs: opts.snapshotEveryMs ?? 3_600_000,
    ...(opts.controlLogMaxLen === undefined ? {} : { controlLogMaxLen: opts.controlLogMaxLen }),
    ...(opts.controlLogId === undefined ? {} : { controlLogId: opts.controlLogId }),
  })
  return {
    loop,
    conn,
    /** Stops it as a crash would: nothing reaches Redis any more (no last snapshot). */
    async kill() {
      conn.disconnect()
      await loop.close()
    },
  }
}

async function restart(keys: WorldKeys) {
  const previous = await findPreviousRun(redis, keys, {
    world: 'tutoring',
    seed: SEED,
    warmupHours: 0,
  })
  expect(previous).not.toBeNull()
  const r = await restoreRun(redis, keys, {
    world,
    seed: SEED,
    warmupHours: 0,
    previous: previous!,
  })
  if (!r.ok) throw new Error(r.reason)
  return r
}

/** Both engines to the later one's time, then the same three hours from each. */
function expectSameContinuation(restored: Engine, live: Engine): void {
  const from = Math.max(restored.now, live.now)
  restored.advance(from)
  live.advance(from)
  expect(restored.manualModifiers()).toEqual(live.manualModifiers())
  expect(restored.activeModifiers()).toEqual(live.activeModifiers())
  const to = from + 3 * HOUR
  const a = restored.advance(to)
  expect(a.length).toBeGreaterThan(1000)
  expect(a).toEqual(live.advance(to))
}

describe('replayControlLog', () => {
  it('should rebuild adjust_behavior modifiers at the same simulation times', async () => {
    const keys = createKeys(prefix, 'replay')
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
      await commitControl(redis, keys, {
        entryId: `${n}-0`,
        command,
        result: { requestId: command.requestId, action: command.action, success: true },
        simTime: live.now,
        log: true,
      })
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

    // a run without a snapshot (stored before there were any) is continued from its whole log
    const previous = { startedAt: START, resumeAt, speed: 1, paused: false }
    const r = await restoreRun(redis, keys, { world, seed: SEED, warmupHours: 0, previous })
    expect(r).toMatchObject({ ok: true, from: 'control-log', commands: 4, gap: false })
    const continued = (r as { engine: Engine }).engine
    expect(continued.now).toBe(resumeAt)
    continued.advance(to)
    expect(continued.manualModifiers()).toEqual(restarted.manualModifiers())
  })
})

describe('restoreRun', () => {
  it('should continue exactly from the latest snapshot plus the commands after it when the control log was trimmed past its start', async () => {
    const keys = createKeys(prefix, 'trimmed')
    const live = engine()
    // A control log capped at 20 entries: a snapshot every 10 commands keeps it covered.
    const gen = startLoop(keys, live, { controlLogMaxLen: 20 })
    await gen.loop.start()
    let n = 0
    const send = (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        const payload =
          n % 9 === 8
            ? { clear: `m${n % 4}` }
            : {
                stream: ['customer.*', 'support.ticket.created', 'tutor.login'][n % 3],
                type: 'multiplier',
                value: 1 + (n % 7) / 10,
                id: `m${n % 4}`,
                ...(n % 5 === 0 ? { duration: 'PT20M' } : {}),
              }
        gen.loop.enqueue({
          entryId: `${Date.now()}-${n}`,
          command: { requestId: `${keys.world}-${n}`, action: 'adjust_behavior', payload },
        })
      }
    }
    const committed = (i: number) => readControlResult(redis, keys, `${keys.world}-${i}`)
    try {
      // 250 commands in batches of ten, a few simulated seconds apart
      for (let b = 0; b < 25; b++) {
        send(10)
        await until('the batch', () => committed(n - 1))
      }
      // …then three the latest snapshot does not cover
      await until('a snapshot of every batch', async () => {
        const s = await readSnapshot(redis, keys)
        const [last] = await redis.xrevrange(keys.controlLog, '+', '-', 'COUNT', 1)
        return s !== null && s.logId === last?.[0]
      })
      send(1)
      await until('command 250', () => committed(n - 1))
      await sleep(30)
      send(2)
      await until('command 252', () => committed(n - 1))
      await sleep(30)
    } finally {
      await gen.kill()
    }

    // The log holds fewer commands than were sent: its start was trimmed.
    const log = await readControlLog(redis, keys, '0-0', 1000)
    expect(log.length).toBeLessThan(n)
    expect(log[0]!.command.requestId).not.toBe(`${keys.world}-0`)
    // Replaying what is left of it from the run's start would miss commands.
    expect(await replayControlLog(redis, keys, engine(), START + HOUR)).toBeLessThan(n)

    const r = await restart(keys)
    expect(r).toMatchObject({ from: 'snapshot', commands: 3, gap: false })
    expect(r.controlLogId).toBe(log.at(-1)!.id)
    expectSameContinuation(r.engine, live)
  }, 60_000)

  it('should not lose a command whose commit failed: committed next step, or taken again after a kill', async () => {
    const keys = createKeys(prefix, 'kill')
    const live = engine()
    const gen = startLoop(keys, live, { snapshotEveryMs: 20 })
    const consumerConn = new Redis(t.handle.url, { maxRetriesPerRequest: null })
    consumerConn.on('error', () => undefined)
    const consumer = new ControlConsumer({
      redis: consumerConn,
      keys,
      log: silent,
      onCommand: (e) => gen.loop.enqueue(e),
    })
    await gen.loop.start()
    await consumer.start()
    const cmd = (requestId: string, id: string): ControlCommand => ({
      requestId,
      action: 'adjust_behavior',
      payload: { stream: 'customer.*', type: 'multiplier', value: 2, id },
    })
    let entryId = ''
    try {
      // 1. Logging fails (a kill between storing a result and logging the command,
      //    as far as Redis can tell): nothing is stored, the cursor stays, no snapshot covers it.
      await redis.set(keys.controlLog, 'not a stream')
      entryId = await sendControl(redis, keys, cmd('k1', 'k1'))
      await until('k1 applied', async () => live.manualModifiers().some((m) => m.id === 'k1'))
      await sleep(150)
      expect(await readControlResult(redis, keys, 'k1')).toBeNull()
      expect(await redis.get(keys.controlCursor)).not.toBe(entryId)
      const held = await readSnapshot(redis, keys)
      expect(restoreEngine(world, held!.engine).manualModifiers()).toEqual([])
      // …and once Redis takes it, it is committed (applied once, never twice).
      await redis.del(keys.controlLog)
      const k1 = await until('k1 committed', () => readControlResult(redis, keys, 'k1'))
      expect(k1.success).toBe(true)
      expect(live.manualModifiers().map((m) => m.id)).toEqual(['k1'])
      expect(
        (await readControlLog(redis, keys, '0-0', 10)).map((e) => e.command.requestId),
      ).toEqual(['k1'])

      // 2. The same, then a kill before Redis takes it.
      await redis.set(keys.controlLog, 'not a stream')
      entryId = await sendControl(redis, keys, cmd('k2', 'k2'))
      await until('k2 applied', async () => live.manualModifiers().some((m) => m.id === 'k2'))
      await sleep(100)
    } finally {
      await consumer.close()
      await gen.kill()
    }
    expect(await readControlResult(redis, keys, 'k2')).toBeNull()
    expect(await redis.get(keys.controlCursor)).not.toBe(entryId)
    // The log as far as the snapshot covers it (the failed write replaced the stream):
    // one entry at the snapshot's position, so the entries after it still chain to it.
    const covered = (await readSnapshot(redis, keys))!.logId
    expect(covered).not.toBe('0-0')
    await redis.del(keys.controlLog)
    await redis.xadd(
      keys.controlLog,
      covered,
      'r',
      'k1',
      'a',
      'adjust_behavior',
      'p',
      '{}',
      'sim',
      '',
      'ok',
      '1',
      'prev',
      '0-0',
    )

    // The restart takes k2 from the control stream again: applied, stored and logged.
    const r = await restart(keys)
    expect(r.engine.manualModifiers().map((m) => m.id)).toEqual(['k1'])
    const again = startLoop(keys, r.engine, { controlLogId: r.controlLogId })
    const consumerConn2 = new Redis(t.handle.url, { maxRetriesPerRequest: null })
    consumerConn2.on('error', () => undefined)
    const consumer2 = new ControlConsumer({
      redis: consumerConn2,
      keys,
      log: silent,
      onCommand: (e) => again.loop.enqueue(e),
    })
    await again.loop.start()
    await consumer2.start()
    try {
      const k2 = await until('k2 committed', () => readControlResult(redis, keys, 'k2'))
      expect(k2.success).toBe(true)
      await sleep(30)
    } finally {
      await consumer2.close()
      await again.kill()
    }
    expect(r.engine.manualModifiers().map((m) => m.id)).toEqual(['k1', 'k2'])
    const logged = await readControlLog(redis, keys, covered, 10)
    expect(logged.map((e) => [e.command.requestId, e.ok, e.prev])).toEqual([['k2', true, covered]])
    expect(await redis.get(keys.controlCursor)).toBe(entryId)

    // …and a further restart has it: the same continuation as the engine that took it.
    const r2 = await restart(keys)
    // k2 is in the snapshot the restarted loop took after its first step, or logged after it
    expect(r2).toMatchObject({ from: 'snapshot', gap: false })
    expect(r2.commands).toBeLessThanOrEqual(1)
    expectSameContinuation(r2.engine, r.engine)
  }, 60_000)

  it('should report a gap when the control log was trimmed past the snapshot', async () => {
    const keys = createKeys(prefix, 'gap')
    const live = engine()
    const ids: string[] = []
    for (let i = 0; i < 250; i++) {
      const command: ControlCommand = {
        requestId: `g${i}`,
        action: 'adjust_behavior',
        payload: { stream: 'customer.*', type: 'multiplier', value: 1.5, id: 'g' },
      }
      const c = await commitControl(redis, keys, {
        entryId: `${i + 1}-0`,
        command,
        result: { requestId: command.requestId, action: command.action, success: true },
        simTime: START + i * 1000,
        log: true,
        maxLen: 10,
      })
      ids.push(c.logId!)
    }
    await writeSnapshot(redis, keys, {
      engine: live.snapshot(),
      logId: ids[0]!,
      worldHash: world.hash,
      world: 'tutoring',
      seed: SEED,
      warmupHours: 0,
      startedAt: START,
      simTime: START,
      takenAt: Date.now(),
    })
    const previous = { startedAt: START, resumeAt: START + HOUR, speed: 1, paused: false }
    const r = await restoreRun(redis, keys, { world, seed: SEED, warmupHours: 0, previous })
    expect(r).toMatchObject({ ok: true, from: 'snapshot', gap: true, controlLogId: ids.at(-1) })
    // covered up to the newest trimmed entry: no gap
    const kept = await readControlLog(redis, keys, '0-0', 1)
    await redis.hset(keys.snapshot, 'logId', kept[0]!.prev!)
    expect(
      await restoreRun(redis, keys, { world, seed: SEED, warmupHours: 0, previous }),
    ).toMatchObject({ ok: true, gap: false })
  })

  it('should not replay across a restore or a travel logged after the snapshot', async () => {
    const keys = createKeys(prefix, 'switched')
    const live = engine()
    await writeSnapshot(redis, keys, {
      engine: live.snapshot(),
      logId: '0-0',
      worldHash: world.hash,
      world: 'tutoring',
      seed: SEED,
      warmupHours: 0,
      startedAt: START,
      simTime: START,
      takenAt: Date.now(),
    })
    const log = async (i: number, action: ControlCommand['action'], payload: object) => {
      const command = { requestId: `s${i}`, action, payload } as ControlCommand
      await commitControl(redis, keys, {
        entryId: `${i}-0`,
        command,
        result: { requestId: command.requestId, action, success: true },
        simTime: START + i * MINUTE,
        log: true,
        maxLen: 100,
      })
    }
    const previous = { startedAt: START, resumeAt: START + HOUR, speed: 1, paused: false }
    // a preview switches nothing: replayed past
    await log(1, 'travel', { targetTime: new Date(START).toISOString(), dryRun: true })
    expect(
      await restoreRun(redis, keys, { world, seed: SEED, warmupHours: 0, previous }),
    ).toMatchObject({ ok: true })
    await log(2, 'restore_snapshot', { id: 'snap_1' })
    expect(await restoreRun(redis, keys, { world, seed: SEED, warmupHours: 0, previous })).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /^it switched timelines \(a restore or a travel\) after its last snapshot/,
      ),
    })
  })

  it('should refuse a snapshot taken with another config of the world', async () => {
    const keys = createKeys(prefix, 'changed')
    const live = engine()
    live.advance(START + HOUR)
    await writeSnapshot(redis, keys, {
      engine: live.snapshot(),
      logId: '0-0',
      worldHash: world.hash,
      world: 'tutoring',
      seed: SEED,
      warmupHours: 0,
      startedAt: START,
      simTime: live.now,
      takenAt: Date.now(),
    })
    const previous = { startedAt: START, resumeAt: START + HOUR, speed: 1, paused: false }

    const dir = mkdtempSync(path.join(tmpdir(), 'verisim-worlds-'))
    try {
      cpSync(path.join(DEFAULT_WORLDS_DIR, 'tutoring'), path.join(dir, 'tutoring'), {
        recursive: true,
      })
      const file = path.join(dir, 'tutoring', 'baseline-metrics.json')
      const json = JSON.parse(readFileSync(file, 'utf8')) as { growth: { monthly: number } }
      json.growth.monthly = 0.036
      writeFileSync(file, JSON.stringify(json))
      const changed = loadWorldById('tutoring', dir)
      expect(changed.hash).not.toBe(world.hash)

      const refused = await restoreRun(redis, keys, {
        world: changed,
        seed: SEED,
        warmupHours: 0,
        previous,
      })
      expect(refused).toEqual({
        ok: false,
        reason: expect.stringMatching(
          /^the world config changed since the run began \(config hash [0-9a-f]{12}… then, [0-9a-f]{12}… now\)$/,
        ),
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    // the same config continues
    const same = await restoreRun(redis, keys, { world, seed: SEED, warmupHours: 0, previous })
    expect(same).toMatchObject({ ok: true, from: 'snapshot', commands: 0, resumeAt: START + HOUR })
  })
})
