/**
 * The module: what the world describes about itself, its state rates (the sum of
 * the segment's propensities) and the world action spawn_agents — validated, raising
 * the affected rates in proportion, replayed identically from a snapshot.
 */
import { describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  SimErrorCode,
  createEngine,
  inspectSnapshot,
  restoreEngine,
  type Host,
  type World,
} from '@verisim/sim'
import { ACTIONS, SEGMENTS, type TownState, type TownStats } from '../src/index.js'
import { START, example, exampleModule, line, run } from './helpers.js'

/** The state rate (per day) of every (segment, action) stream of `st`. */
function rates(world: World, st: TownState): Map<string, number> {
  const m = new Map<string, number>()
  for (const s of world.streams) if (s.stateRate) m.set(s.name, s.stateRate.rate(st, world) * DAY)
  return m
}

describe('example world module', () => {
  it('should describe itself as an agent world with its segments, channels and action', () => {
    const engine = createEngine({ world: example(), seed: 1, start: START })
    const d = engine.describe()
    expect(d.model).toBe('agent')
    expect(d.segments.map((s) => s.id)).toEqual([...SEGMENTS])
    expect(d.segments.reduce((a, s) => a + s.agents!, 0)).toBe(6000)
    expect(d.channels).toEqual([
      'user_actions',
      'transactions',
      'social_interactions',
      'system_metrics',
    ])
    expect(d.actions.map((a) => a.name)).toEqual(['spawn_agents'])
    expect(d.streams).toHaveLength(SEGMENTS.length * ACTIONS.length + 2)
    expect(engine.scenarios().map((s) => s.id)).toEqual(['rainy-saturday'])
    const stats = engine.stats<TownStats>().world
    expect(stats.agents.total).toBe(6000)
    expect(stats.initial.agents).toBe(6000)
    expect(stats.cooling.purchase).toBeGreaterThan(0)
  })

  it('state rates should be the sums of the segment’s propensities (their ceiling under a cooldown)', () => {
    const world = example()
    const st = exampleModule.init(world, 42, START) as TownState
    const r = rates(world, st)
    SEGMENTS.forEach((seg, s) => {
      expect(r.get(`user_actions.${seg}.browse`)).toBeCloseTo(st.pop.total(s, 1), 9)
      let ceiling = 0
      for (let k = 0; k < st.pop.count(s); k++)
        ceiling += st.cooldowns[2]!.base(st.pop.member(s, k))
      expect(r.get(`purchases.${seg}.order`)).toBeCloseTo(ceiling, 6)
      // the cooling agents make the current total lower than the ceiling
      expect(st.pop.total(s, 2)).toBeLessThan(ceiling)
    })
  })

  it('spawn_agents should raise the rates of the segment’s streams in proportion, and only those', () => {
    const world = example()
    const st = exampleModule.init(world, 42, START) as TownState
    const before = rates(world, st)
    const n0 = st.pop.count(SEGMENTS.indexOf('student'))
    const res = exampleModule.actions!.spawn_agents!.apply(
      { state: st } as unknown as Host<TownState>,
      { segment: 'student', count: n0 } as never,
      START,
    )
    expect(res).toMatchObject({ spawned: n0, segment: 'student', firstId: 'agt_6001' })
    const after = rates(world, st)
    for (const [name, r] of after) {
      const ratio = r / before.get(name)!
      if (!name.includes('.student.')) expect(ratio, name).toBe(1)
      else expect(Math.abs(ratio - 2), name).toBeLessThan(0.2) // twice the students, give or take their draws
    }

    // through the engine: the next week has that many more student browses (Poisson, 5 σ)
    const count = (act: boolean): Map<string, number> => {
      const engine = createEngine({ world, seed: 42, start: START })
      engine.advance(START + 6 * HOUR)
      if (act) engine.act('spawn_agents', { segment: 'student', count: n0 })
      const m = new Map<string, number>()
      run(
        engine,
        START + 6 * HOUR + 7 * DAY,
        () => DAY,
        (e) => m.set(e.stream, (m.get(e.stream) ?? 0) + 1),
      )
      return m
    }
    const without = count(false)
    const withMore = count(true)
    for (const stream of ['user_actions.student.browse', 'user_actions.commuter.browse']) {
      const ratio = after.get(stream)! / before.get(stream)!
      const expected = without.get(stream)! * ratio
      const got = withMore.get(stream)!
      // two independent Poisson counts: var = expected + ratio² × without
      const sd = Math.sqrt(expected + ratio * ratio * without.get(stream)!)
      expect(Math.abs(got - expected), stream).toBeLessThan(5 * sd)
    }
  })

  it('spawn_agents should be replayed identically from a snapshot', () => {
    const world = example()
    const a = createEngine({ world, seed: 42, start: START })
    a.advance(START + 5 * HOUR)
    a.act('spawn_agents', { segment: 'family', count: 1500 })
    a.advance(START + 20 * HOUR)
    a.act('spawn_agents', { segment: 'retiree', count: 3 })
    a.advance(START + 26 * HOUR)
    const b = restoreEngine(world, a.snapshot())
    expect(b.now).toBe(a.now)
    expect(b.stats<TownStats>().world.agents.total).toBe(6000 + 1503)
    const end = START + 3 * DAY
    const la: string[] = []
    const lb: string[] = []
    run(
      a,
      end,
      () => HOUR,
      (e) => la.push(line(e)),
    )
    run(
      b,
      end,
      () => 7 * HOUR,
      (e) => lb.push(line(e)),
    )
    expect(la.length).toBeGreaterThan(10_000)
    expect(lb).toEqual(la)
    expect(la.some((x) => /"agt_7(0|5)\d\d"/.test(x))).toBe(true) // the spawned agents act
  })

  it('spawn_agents should refuse an unknown segment or a bad count, changing nothing', () => {
    const engine = createEngine({ world: example(), seed: 1, start: START })
    for (const payload of [
      { segment: 'tourist', count: 3 },
      { segment: 'student', count: 0 },
      { segment: 'student', count: 2.5 },
      { segment: 'student' },
      { segment: 'student', count: 3, extra: true },
    ])
      expect(() => engine.act('spawn_agents', payload)).toThrow(
        expect.objectContaining({ code: SimErrorCode.badArgument }),
      )
    expect(engine.stats<TownStats>().world.agents.total).toBe(6000)
    const snap = inspectSnapshot(engine.snapshot())
    expect(snap.journal).toEqual([])
  })
})
