/**
 * A generator restart continues the run: same simulation time line, the
 * scenario in progress (same runId) and its BullMQ transitions, no id reused —
 * restored from the run's engine snapshot. With the world's config changed in
 * between, the run is not continued: a new one starts, and the log says why.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  freePort,
  rest,
  startProcess,
  startStack,
  type Proc,
  type Stack,
  waitReady,
} from './harness.js'

let stack: Stack
let second: Proc | null = null
let third: Proc | null = null

beforeAll(async () => {
  stack = await startStack({ env: { VERISIM_SPEED: '600' } })
})
afterAll(async () => {
  await third?.stop()
  await second?.stop()
  await stack?.stop()
})

const { call, state } = rest(() => stack)

describe('generator restart', () => {
  it('should continue the run and its scenario, then settle it through BullMQ', async () => {
    const started = await call('POST', '/api/simulation/scenario', {
      scenarioId: 'exam-season-surge',
    })
    expect(started.status).toBe(200)
    const runId = started.body.runId as string
    await new Promise((r) => setTimeout(r, 1500))
    const before = await state()
    const lastBefore = (await stack.redis.get(`${stack.prefix}:{tutoring}:last-id`))!

    expect(await stack.generator.stop('SIGTERM')).toBe(0)
    const port = await freePort()
    second = startProcess('generator', {
      REDIS_URL: stack.redisUrl,
      VERISIM_PREFIX: stack.prefix,
      HOST: '127.0.0.1',
      VERISIM_WARMUP_HOURS: '0',
      VERISIM_SPEED: '600',
      GENERATOR_PORT: String(port),
      LOG_LEVEL: 'info',
    })
    await waitReady(`http://127.0.0.1:${port}/health/ready`).catch((err: Error) => {
      throw new Error(`${err.message}\n${second!.output.join('')}`)
    })
    await new Promise((r) => setTimeout(r, 1500))
    const after = await state()
    expect(after.startedAt).toBe(before.startedAt)
    expect(Date.parse(after.currentSimulationTime)).toBeGreaterThanOrEqual(
      Date.parse(before.currentSimulationTime),
    )
    expect(after.scenario).toMatchObject({ id: 'exam-season-surge', runId, status: 'active' })
    expect(second.output.join('')).toContain('continuing the previous run')
    expect(second.output.join('')).toContain('"from":"snapshot"')

    // New events carry on after the last id, still shaped by the scenario.
    const lastAfter = (await stack.redis.get(`${stack.prefix}:{tutoring}:last-id`))!
    const [bm, bs] = lastBefore.split('-').map(Number) as [number, number]
    const [am, as] = lastAfter.split('-').map(Number) as [number, number]
    expect(am > bm || (am === bm && as > bs)).toBe(true)

    // And the transitions still run: stop, then BullMQ settles it at simulation speed.
    await call('POST', '/api/simulation/speed', { multiplier: 3600 })
    const stopped = await call('POST', '/api/simulation/stop')
    expect(stopped.status).toBe(200)
    const deadline = Date.now() + 60_000
    for (;;) {
      const s = (await state()).scenario
      if (s === null || s?.status === 'settled') break
      if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify(s)}`)
      await new Promise((r) => setTimeout(r, 250))
    }
  })

  it('should begin a new run, saying why, when the world config changed', async () => {
    const before = await state()
    expect(await second!.stop('SIGTERM')).toBe(0)
    const worlds = path.resolve(
      path.dirname(fileURLToPath(import.meta.url)),
      '../../../config/worlds',
    )
    const dir = mkdtempSync(path.join(tmpdir(), 'verisim-worlds-'))
    try {
      cpSync(path.join(worlds, 'tutoring'), path.join(dir, 'tutoring'), { recursive: true })
      const file = path.join(dir, 'tutoring', 'baseline-metrics.json')
      const json = JSON.parse(readFileSync(file, 'utf8')) as { growth: { monthly: number } }
      json.growth.monthly = 0.036
      writeFileSync(file, JSON.stringify(json))
      const port = await freePort()
      third = startProcess('generator', {
        REDIS_URL: stack.redisUrl,
        VERISIM_PREFIX: stack.prefix,
        HOST: '127.0.0.1',
        VERISIM_WARMUP_HOURS: '0',
        VERISIM_CONFIG_DIR: dir,
        GENERATOR_PORT: String(port),
        LOG_LEVEL: 'info',
      })
      await waitReady(`http://127.0.0.1:${port}/health/ready`).catch((err: Error) => {
        throw new Error(`${err.message}\n${third!.output.join('')}`)
      })
      const out = third.output.join('')
      expect(out).toContain('not continuing the previous run: the world config changed')
      expect(out).not.toContain('continuing the previous run (set VERISIM_START')
      // the new run's state replaces the old one within a step or two
      const deadline = Date.now() + 10_000
      let after = await state()
      while (after.startedAt === before.startedAt && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
        after = await state()
      }
      expect(after.startedAt).not.toBe(before.startedAt)
      expect(after.scenario).toBeNull()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
