import { describe, expect, it } from 'vitest'
import { AgentPopulation } from '../../src/agents/population.js'
import { Rng } from '../../src/rng.js'
import { expectProportional } from './helpers.js'

const SEGMENTS = ['commuter', 'student', 'retiree']
const ACTIONS = ['visit', 'browse', 'buy']

function town(n: number, seed = 1): { pop: AgentPopulation; w: number[][] } {
  const pop = new AgentPopulation({ segments: SEGMENTS, actions: ACTIONS })
  const r = new Rng(seed)
  const w: number[][] = []
  for (let i = 0; i < n; i++) {
    const p = [r.uniform(0, 3), r.next() < 0.1 ? 0 : r.uniform(0, 1), r.exp()]
    expect(pop.spawn(r.int(3), p)).toBe(i)
    w.push(p)
  }
  return { pop, w }
}

describe('agent population', () => {
  it('population should number agents in spawn order and keep their segments', () => {
    const pop = new AgentPopulation({ segments: SEGMENTS, actions: ACTIONS })
    expect(pop.spawn(1, [1, 1, 1])).toBe(0)
    expect(pop.spawn(0, [1, 1, 1])).toBe(1)
    expect(pop.spawn(1, [1, 1, 1])).toBe(2)
    expect(pop.size).toBe(3)
    expect([pop.count(0), pop.count(1), pop.count(2)]).toEqual([1, 2, 0])
    expect([pop.segmentOf(0), pop.segmentOf(1), pop.segmentOf(2)]).toEqual([1, 0, 1])
    expect([pop.member(1, 0), pop.member(1, 1), pop.member(0, 0)]).toEqual([0, 2, 1])
    expect(pop.segmentIndex('student')).toBe(1)
    expect(pop.actionIndex('buy')).toBe(2)
    expect(pop.pick(2, 0, new Rng(1))).toBe(-1) // nobody in the segment
  })

  it('population totals should be the sums of propensities per (segment, action), also after updates', () => {
    const { pop, w } = town(3000)
    const r = new Rng(5)
    for (let k = 0; k < 2000; k++) {
      const id = r.int(pop.size)
      const a = r.int(3)
      const x = r.next() < 0.3 ? 0 : r.uniform(0, 4)
      pop.setPropensity(id, a, x)
      w[id]![a] = x
    }
    for (let s = 0; s < 3; s++)
      for (let a = 0; a < 3; a++) {
        let sum = 0
        for (let id = 0; id < pop.size; id++) if (pop.segmentOf(id) === s) sum += w[id]![a]!
        expect(pop.total(s, a)).toBeCloseTo(sum, 8)
      }
    for (let id = 0; id < pop.size; id += 97)
      for (let a = 0; a < 3; a++) expect(pop.propensity(id, a)).toBe(w[id]![a])
  })

  it('population picks should be proportional to propensities within the segment', () => {
    const { pop, w } = town(600, 2)
    const rng = new Rng(42)
    for (const [s, a] of [
      [0, 0],
      [1, 1],
      [2, 2],
    ] as const) {
      const members = Array.from({ length: pop.count(s) }, (_, k) => pop.member(s, k))
      const index = new Map(members.map((id, k) => [id, k]))
      const counts = new Float64Array(members.length)
      let strangers = 0
      for (let k = 0; k < 300_000; k++) {
        const id = pop.pick(s, a, rng)
        const i = index.get(id)
        if (i === undefined) strangers++
        else counts[i]!++
      }
      expect(strangers, 'agents picked from another segment').toBe(0)
      expectProportional(
        counts,
        members.map((id) => w[id]![a]!),
      )
    }
  })

  it('population picks should follow a changed propensity at once', () => {
    const pop = new AgentPopulation({ segments: ['only'], actions: ['buy'] })
    for (let i = 0; i < 10; i++) pop.spawn(0, [1])
    pop.setPropensity(3, 0, 10) // agent 3 now holds half the weight
    pop.setPropensity(4, 0, 0)
    const rng = new Rng(7)
    const counts = new Float64Array(10)
    for (let k = 0; k < 100_000; k++) counts[pop.pick(0, 0, rng)]!++
    expectProportional(counts, [1, 1, 1, 10, 0, 1, 1, 1, 1, 1])
  })

  it('population should grow beyond its reservation, columns with it', () => {
    const pop = new AgentPopulation({ segments: ['a', 'b'], actions: ['x'], reserve: [4, 4] })
    const fav = pop.addColumn(Uint8Array)
    const since = pop.addColumn(Float64Array, -Infinity)
    for (let i = 0; i < 1000; i++) {
      const id = pop.spawn(i % 2, [i % 2 === 0 ? 1 : 2])
      fav.values[id] = i % 251
    }
    expect(pop.size).toBe(1000)
    expect(fav.values.length).toBeGreaterThanOrEqual(1000)
    for (let i = 0; i < 1000; i++) {
      expect(fav.values[i]).toBe(i % 251)
      expect(since.values[i]).toBe(-Infinity)
    }
    expect(pop.total(0, 0)).toBe(500)
    expect(pop.total(1, 0)).toBe(1000)
    expect(pop.member(1, 499)).toBe(999)
  })

  it('population should hold 100,000 agents with 4 actions in at most 200 bytes each', () => {
    const S = ['a', 'b', 'c', 'd']
    const pop = new AgentPopulation({ segments: S, actions: ['w', 'x', 'y', 'z'] })
    pop.addColumn(Uint8Array)
    pop.addColumn(Float64Array)
    const r = new Rng(1)
    const p = new Float64Array(4)
    for (let i = 0; i < 100_000; i++) {
      for (let a = 0; a < 4; a++) p[a] = r.next()
      pop.spawn(i & 3, p)
    }
    expect(pop.byteLength / pop.size).toBeLessThanOrEqual(200)
  })

  it('population should refuse bad segments, propensity counts and agent ids', () => {
    const pop = new AgentPopulation({ segments: ['a'], actions: ['x', 'y'] })
    expect(() => pop.spawn(1, [1, 1])).toThrow(RangeError)
    expect(() => pop.spawn(0, [1])).toThrow(RangeError)
    expect(() => pop.spawn(0, [1, -1])).toThrow(RangeError)
    expect(pop.size).toBe(0) // nothing half-spawned
    pop.spawn(0, [1, 1])
    expect(() => pop.setPropensity(1, 0, 1)).toThrow(RangeError)
    expect(() => new AgentPopulation({ segments: [], actions: ['x'] })).toThrow(RangeError)
  })
})
