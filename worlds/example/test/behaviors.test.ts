/**
 * The agent pipeline against the population it draws from: who acts is drawn in
 * proportion to propensities, cooldowns cut an agent's rate to factor × its own for
 * their duration and no longer, and the mean field (cooldownSteadyState) predicts
 * the long-run rates.
 */
import { describe, expect, it } from 'vitest'
import { DAY, HOUR, createEngine } from '@verisim/sim'
import { ACTIONS, SEGMENTS, townConfig, type TownState } from '../src/index.js'
import { START, agentNumber, compiled, example, exampleModule, rawConfig, run } from './helpers.js'

const BROWSE = ACTIONS.indexOf('browse')
const PURCHASE = ACTIONS.indexOf('purchase')

describe('agent pipeline', () => {
  it('browsing students should be picked in proportion to their propensity to browse', () => {
    const world = example()
    const seed = 42
    const st = exampleModule.init(world, seed, START) as TownState
    const seg = SEGMENTS.indexOf('student')
    const counts = new Float64Array(st.pop.size)
    const engine = createEngine({ world, seed, start: START })
    const DAYS = 14 // whole weeks: the profile averages 1
    let n = 0
    run(
      engine,
      START + DAYS * DAY,
      () => 6 * HOUR,
      (e) => {
        if (e.stream !== 'user_actions.student.browse') return
        counts[agentNumber(e.data.agentId) - 1]!++
        n++
      },
    )
    const members = Array.from({ length: st.pop.count(seg) }, (_, k) => st.pop.member(seg, k))
    const w = members.map((id) => st.pop.propensity(id, BROWSE))
    const c = members.map((id) => counts[id]!)
    // nobody outside the segment
    expect(c.reduce((a, b) => a + b, 0)).toBe(n)
    // Pearson χ² over the segment's agents
    const total = w.reduce((a, b) => a + b, 0)
    let chi2 = 0
    for (let k = 0; k < w.length; k++) {
      const e = (n * w[k]!) / total
      chi2 += (c[k]! - e) ** 2 / e
    }
    const df = w.length - 1
    expect(chi2).toBeLessThan(df + 6 * Math.sqrt(2 * df))
    // and the volume: Σ propensities × days (Poisson, 5 σ)
    const expected = total * DAYS
    expect(Math.abs(n - expected)).toBeLessThan(5 * Math.sqrt(expected))
  })

  it('a cooldown should cut an agent’s purchase rate to factor × its own for the cooldown, exactly', () => {
    // all agents of a segment alike and a flat profile: the rates are constants to check against
    const raw = rawConfig()
    const pop = raw.baseline.population as {
      agents: number
      segments: Record<string, { actions: Record<string, { perDay: number; spread: number }> }>
    }
    pop.agents = 3000
    for (const s of Object.values(pop.segments)) s.actions.purchase!.spread = 0
    for (const s of raw.streams.streams)
      if ((s.name as string).startsWith('purchases.'))
        (s.arrival as { profile: string }).profile = 'flat'
    const world = compiled(raw)
    const cfg = townConfig(world)
    const cd = cfg.actions[PURCHASE]!.cooldown!
    const engine = createEngine({ world, seed: 5, start: START })
    const DAYS = 28
    const times = new Map<number, number[]>()
    const segOf = new Map<number, number>()
    run(
      engine,
      START + DAYS * DAY,
      () => DAY,
      (e) => {
        if (!e.stream.startsWith('purchases.')) return
        const id = agentNumber(e.data.agentId)
        const list = times.get(id) ?? []
        list.push(e.ts)
        times.set(id, list)
        segOf.set(id, SEGMENTS.indexOf(e.data.segment as (typeof SEGMENTS)[number]))
      },
    )
    // measured from the time every initial cooldown is over: cooling ⇔ bought within the duration
    const from = START + cd.ms
    const to = START + DAYS * DAY
    const st = exampleModule.init(world, 5, START) as TownState
    const free = { n: 0, e: 0 }
    const cooling = { n: 0, e: 0 }
    for (let id = 1; id <= st.pop.size; id++) {
      const s = st.pop.segmentOf(id - 1)
      const p = cfg.segments[s]!.perDay[PURCHASE]! / DAY
      const ts = times.get(id) ?? []
      let coolingUntil = -Infinity
      let t = from
      for (const x of ts) {
        if (x <= from) {
          coolingUntil = x + cd.ms
          continue
        }
        // [t, x): cooling until coolingUntil, then free
        const c = Math.max(0, Math.min(x, coolingUntil) - t)
        cooling.e += c * p * cd.factor
        free.e += (x - t - c) * p
        if (x < coolingUntil) cooling.n++
        else free.n++
        t = x
        coolingUntil = x + cd.ms
      }
      const c = Math.max(0, Math.min(to, coolingUntil) - t)
      cooling.e += c * p * cd.factor
      free.e += (to - t - c) * p
    }
    // Poisson counts against their exposure, 5 σ
    expect(Math.abs(free.n - free.e)).toBeLessThan(5 * Math.sqrt(free.e))
    expect(Math.abs(cooling.n - cooling.e)).toBeLessThan(5 * Math.sqrt(cooling.e))
    expect(cooling.n).toBeGreaterThan(200)
    // the mean field (steady state of the renewal cycle) predicts the volume
    let n = 0
    let expected = 0
    for (const ts of times.values()) n += ts.filter((x) => x > from).length
    SEGMENTS.forEach((_, s) => {
      expected += (cfg.expectedPerDay[s * ACTIONS.length + PURCHASE]! * (to - from)) / DAY
    })
    expect(Math.abs(n / expected - 1)).toBeLessThan(0.03)
  })

  it('a review should follow an earlier order of the same agent and shop', () => {
    const engine = createEngine({ world: example(), seed: 9, start: START })
    const orders = new Map<string, { agentId: unknown; venueId: unknown; ts: number }>()
    let reviews = 0
    let bad = 0
    const problems: string[] = []
    run(
      engine,
      START + 7 * DAY,
      () => 12 * HOUR,
      (e) => {
        if (e.stream.startsWith('purchases.')) {
          orders.set(e.data.orderId as string, {
            agentId: e.data.agentId,
            venueId: e.data.venueId,
            ts: e.ts,
          })
        } else if (e.stream === 'feedback.review.posted') {
          reviews++
          if ((e.data.rating as number) <= 2) bad++
          const o = orders.get(e.data.orderId as string)
          if (!o || o.agentId !== e.data.agentId || o.venueId !== e.data.venueId || o.ts > e.ts)
            problems.push(JSON.stringify(e.data))
        }
      },
    )
    expect(problems).toEqual([])
    expect(reviews).toBeGreaterThan(300)
    expect(bad).toBeGreaterThan(20)
  })
})
