/**
 * The example world on the engine: output independent of how time is sliced (also
 * around world actions), the same seed giving the same events and another seed
 * others, every stream alive within a week, and events referring only to agents
 * that exist at their time.
 */
import { describe, expect, it } from 'vitest'
import { DAY, HOUR, MINUTE, Rng, createEngine, type Engine } from '@verisim/sim'
import { townConfig, type TownStats } from '../src/index.js'
import { START, agentNumber, example, line, run } from './helpers.js'

/** Runs to `end` in steps of `step`, stopping exactly at each action's time to apply it. */
function collect(
  engine: Engine,
  end: number,
  step: (now: number) => number,
  actions: readonly { at: number; name: string; payload: unknown }[] = [],
): string[] {
  const out: string[] = []
  for (const a of [...actions, { at: end, name: '', payload: null }]) {
    run(
      engine,
      a.at,
      (now) => Math.min(step(now), a.at - now),
      (e) => out.push(line(e)),
    )
    if (a.name) engine.act(a.name, a.payload)
  }
  return out
}

const SPAWNS = [
  {
    at: START + 30 * HOUR + 17 * MINUTE,
    name: 'spawn_agents',
    payload: { segment: 'family', count: 800 },
  },
  { at: START + 49 * HOUR + 1, name: 'spawn_agents', payload: { segment: 'commuter', count: 50 } },
]

describe('example world on the engine', () => {
  it('should give the same events in 1 h steps and in random steps, world actions included', () => {
    const end = START + 3 * DAY
    const hourly = collect(
      createEngine({ world: example(), seed: 42, start: START }),
      end,
      () => HOUR,
      SPAWNS,
    )
    const r = new Rng(11)
    const uneven = collect(
      createEngine({ world: example(), seed: 42, start: START }),
      end,
      () => 1 + r.int(4) * r.int(40 * MINUTE),
      SPAWNS,
    )
    expect(hourly.length).toBeGreaterThan(20_000)
    expect(uneven.length).toBe(hourly.length)
    const i = hourly.findIndex((x, k) => x !== uneven[k])
    expect(i, `first difference: ${hourly[i]} vs ${uneven[i]}`).toBe(-1)
  })

  it('should give the same events for the same seed and others for another seed', () => {
    const end = START + DAY
    const a = collect(createEngine({ world: example(), seed: 7, start: START }), end, () => HOUR)
    const b = collect(createEngine({ world: example(), seed: 7, start: START }), end, () => HOUR)
    const c = collect(createEngine({ world: example(), seed: 8, start: START }), end, () => HOUR)
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
    // different agents act: not merely shifted times
    const agents = (xs: string[]) =>
      xs.slice(0, 200).map((x) => JSON.stringify(JSON.parse(x)[2].agentId))
    expect(agents(c)).not.toEqual(agents(a))
  })

  it('should fire every stream within a simulated week, near its mean-field rate', () => {
    const world = example()
    const engine = createEngine({ world, seed: 42, start: START })
    const counts = new Map<string, number>()
    run(
      engine,
      START + 7 * DAY,
      () => 6 * HOUR,
      (e) => counts.set(e.stream, (counts.get(e.stream) ?? 0) + 1),
    )
    const silent = world.streams.map((s) => s.name).filter((n) => !counts.has(n))
    expect(silent).toEqual([])
    // agent streams: within 15 % of the mean field (which ignores how cooldowns meet the time profile)
    const off: string[] = []
    for (const s of world.streams) {
      if (!s.stateRate) continue
      const expected = s.stateRate.expected(world) * 7 * DAY
      const n = counts.get(s.name)!
      if (Math.abs(n / expected - 1) > 0.15) off.push(`${s.name}: ${n} vs ${expected.toFixed(0)}`)
    }
    expect(off).toEqual([])
  })

  it('events should refer only to agents that exist at their time, spawned ones included', () => {
    const engine = createEngine({ world: example(), seed: 3, start: START })
    const initial = townConfig(example()).agents
    let size = engine.stats<TownStats>().world.agents.total
    expect(size).toBe(initial)
    const bad: string[] = []
    const spawnedSeen = new Set<number>()
    const check = (to: number) =>
      run(
        engine,
        to,
        () => 2 * HOUR,
        (e) => {
          if (!('agentId' in e.data)) return
          const n = agentNumber(e.data.agentId)
          if (!(Number.isInteger(n) && n >= 1 && n <= size) && bad.length < 5)
            bad.push(`${e.stream} ${String(e.data.agentId)} with ${size} agents`)
          if (n > initial) spawnedSeen.add(n)
        },
      )
    check(START + DAY)
    for (const [segment, count] of [
      ['student', 300],
      ['retiree', 1],
      ['family', 2000],
    ] as const) {
      const r = engine.act('spawn_agents', { segment, count }) as { lastId: string; agents: number }
      expect(agentNumber(r.lastId)).toBe(size + count)
      size = r.agents
      check(engine.now + DAY)
    }
    expect(bad).toEqual([])
    expect(spawnedSeen.size).toBeGreaterThan(500) // the newcomers do act
    expect(engine.stats<TownStats>().world.agents.total).toBe(initial + 2301)
  })
})
