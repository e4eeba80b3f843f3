import { describe, expect, it } from 'vitest'
import { Cooldown } from '../../src/agents/cooldown.js'
import { AgentPopulation } from '../../src/agents/population.js'
import { HOUR } from '../../src/calendar.js'
import { Rng } from '../../src/rng.js'
import { expectProportional } from './helpers.js'

function setup(n: number, factor = 0.25): { pop: AgentPopulation; cd: Cooldown } {
  const pop = new AgentPopulation({ segments: ['a', 'b'], actions: ['visit', 'buy'] })
  const cd = new Cooldown(pop, { action: 1, durationMs: 10 * HOUR, factor })
  for (let i = 0; i < n; i++) {
    pop.spawn(i % 2, [1, 1 + (i % 3)])
    cd.register(i)
  }
  return { pop, cd }
}

describe('cooldown', () => {
  it('cooldown should cut the propensity for its duration, then restore it', () => {
    const { pop, cd } = setup(6)
    expect(cd.ceiling(0)).toBe(1 + 3 + 2)
    cd.begin(2, 0) // agent 2: base 3, segment 0
    expect(pop.propensity(2, 1)).toBe(0.75)
    expect(pop.propensity(2, 0)).toBe(1) // other actions untouched
    expect(pop.total(0, 1)).toBe(1 + 0.75 + 2)
    expect(cd.ceiling(0)).toBe(6)
    expect(cd.cooling(0)).toBe(1)
    expect(cd.isCooling(2, 5 * HOUR)).toBe(true)
    cd.restore(10 * HOUR - 1)
    expect(pop.propensity(2, 1)).toBe(0.75)
    cd.restore(10 * HOUR)
    expect(pop.propensity(2, 1)).toBe(3)
    expect(cd.cooling(0)).toBe(0)
    expect(cd.isCooling(2, 10 * HOUR)).toBe(false)
  })

  it('cooldown should start over when the agent acts again while cooling down', () => {
    const { pop, cd } = setup(4)
    cd.begin(1, 0)
    cd.begin(1, 6 * HOUR)
    expect(cd.cooling(1)).toBe(1)
    cd.restore(12 * HOUR) // the first cooldown's entry is stale
    expect(pop.propensity(1, 1)).toBe(0.5)
    cd.restore(16 * HOUR)
    expect(pop.propensity(1, 1)).toBe(2)
    expect(cd.cooling(1)).toBe(0)
    expect(() => cd.begin(0, HOUR)).toThrow(RangeError) // before the last begin
  })

  it('cooldown picks should thin to the current propensities (cooling agents at factor × base)', () => {
    const { pop, cd } = setup(40, 0.25)
    for (let i = 0; i < 40; i += 4) cd.begin(i, 0)
    const rng = new Rng(11)
    const counts = new Float64Array(40)
    let fired = 0
    const N = 200_000
    for (let k = 0; k < N; k++) {
      const id = cd.pick(0, HOUR, rng)
      if (id < 0) continue
      fired++
      counts[id]!++
    }
    // kept with probability total / ceiling
    const p = pop.total(0, 1) / cd.ceiling(0)
    expect(Math.abs(fired - N * p)).toBeLessThan(6 * Math.sqrt(N * p * (1 - p)))
    const w = Array.from({ length: 40 }, (_, i) =>
      i % 2 !== 0 ? 0 : (1 + (i % 3)) * (i % 4 === 0 ? 0.25 : 1),
    )
    expectProportional(counts, w)
  })

  it('cooldown should grow its queue and keep the due order', () => {
    const { pop, cd } = setup(500)
    for (let i = 0; i < 500; i++) cd.begin(i, i * 60_000)
    expect(cd.cooling(0) + cd.cooling(1)).toBe(500)
    cd.restore(10 * HOUR + 249 * 60_000)
    expect(cd.cooling(0) + cd.cooling(1)).toBe(250)
    for (let i = 0; i < 250; i++) expect(pop.propensity(i, 1)).toBe(cd.base(i))
    for (let i = 250; i < 500; i++) expect(pop.propensity(i, 1)).toBe(cd.base(i) * 0.25)
  })

  it('cooldown should move the ceiling with a new base and keep a cooling agent cut', () => {
    const { pop, cd } = setup(2)
    cd.begin(0, 0)
    cd.setBase(0, 4)
    expect(cd.ceiling(0)).toBe(4)
    expect(pop.propensity(0, 1)).toBe(1)
    cd.restore(10 * HOUR)
    expect(pop.propensity(0, 1)).toBe(4)
  })
})
