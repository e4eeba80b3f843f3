/**
 * `verisim generate` writes what the live stream carries: the generator loop
 * (warmed up the same way, a scenario started through the control path while it
 * runs) against Redis, and a generation of the same world, seed, start and
 * commands, give the same envelopes byte for byte except the ids — the live
 * ones come from the wall clock, generated ones from the simulation clock.
 */
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareIds, createKeys, readControlLog, sendControl, type WorldKeys } from '@verisim/bus'
import { openTestRedis, testPrefix, type TestRedis } from '@verisim/bus/testing'
import { GeneratorLoop, SimClock, createMetrics } from '@verisim/generator'
import { createEngine } from '@verisim/sim'
import { loadWorldById } from '@verisim/worlds'
import { generatePlan } from '../src/generate/plan.js'
import { runGeneration } from '../src/generate/run.js'
import type { Sink } from '../src/generate/sinks.js'

const HOUR = 3_600_000
const START = Date.UTC(2026, 2, 2, 6)
const WARMUP_HOURS = 24
const world = loadWorldById('tutoring')
const prefix = testPrefix()
const keys: WorldKeys = createKeys(prefix, 'tutoring')
let t: TestRedis
let redis: Redis

beforeAll(async () => {
  t = await openTestRedis(prefix)
  redis = t.redis
})
afterAll(() => t?.close())

const withoutId = (json: string) => json.replace(/^\{"id":"[^"]+",/, '{')

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('verisim generate against the live stream', () => {
  it('should give the live envelopes byte for byte (ids aside), a scenario started mid-run included', async () => {
    // the generator's engine: warmed up to START like createWarmEngine, then run by the loop
    const engine = createEngine({ world, seed: 42, start: START - WARMUP_HOURS * HOUR })
    while (engine.now < START) engine.advance(Math.min(engine.now + HOUR, START))
    const clock = new SimClock({ start: START, speed: 3600, wallNow: Date.now() })
    const loop = new GeneratorLoop({
      redis,
      keys,
      engine,
      clock,
      world: 'tutoring',
      seed: 42,
      retention: 1_000_000,
      tickMs: 20,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
    })
    await loop.start()
    await until(() => engine.now >= START + HOUR / 2)
    const command = {
      requestId: 'live-identical-1',
      action: 'set_scenario' as const,
      payload: { scenarioId: 'exam-season-surge' },
    }
    loop.enqueue({ entryId: await sendControl(redis, keys, command), command })
    await until(() => engine.now >= START + 2 * HOUR)
    await loop.close()
    const end = engine.now

    const [logged] = (await readControlLog(redis, keys, '0-0', 10)).filter(
      (x) => x.command.action === 'set_scenario',
    )
    expect(logged?.ok).toBe(true)
    const at = logged!.simTime
    expect(at).toBeGreaterThan(START)

    // every channel's stream, merged in id order (the generator's order), without the control channel
    const live: { id: string; json: string }[] = []
    for (const channel of new Set(world.streams.map((s) => s.channel)).add('external')) {
      for (const [id, fields] of await redis.xrange(keys.channel(channel), '-', '+')) {
        const json = fields[fields.indexOf('e') + 1]!
        live.push({ id, json })
      }
    }
    live.sort((a, b) => compareIds(a.id, b.id))

    const plan = generatePlan(
      {
        seed: '42',
        start: new Date(START).toISOString(),
        end: new Date(end).toISOString(),
        warmupHours: String(WARMUP_HOURS),
        scenario: [`exam-season-surge@${new Date(at).toISOString()}`],
      },
      {},
      0,
      process.cwd(),
    )
    const generated: string[] = []
    const sink: Sink = {
      add: (r) => void generated.push(r.json),
      full: false,
      flush: async () => undefined,
      close: async () => [],
    }
    const r = await runGeneration({ plan, world, sink })

    expect(live.length).toBeGreaterThan(10_000)
    expect(r.events).toBe(live.length)
    const liveText = live.map((x) => withoutId(x.json))
    const genText = generated.map(withoutId)
    for (let i = 0; i < liveText.length; i++)
      if (liveText[i] !== genText[i]) expect(genText[i]).toBe(liveText[i])
    expect(genText.filter((j) => j.includes('scenario:exam-season-surge')).length).toBeGreaterThan(
      100,
    )
  }, 120_000)
})
