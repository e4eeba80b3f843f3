/**
 * The town's state: the agent population (kernel {@link AgentPopulation}, one
 * propensity per action), a {@link Cooldown} per action that has one, each
 * agent's favourite venue per kind and its order count, and the counters the
 * metrics snapshot reports. Everything an agent is made of is drawn from its own
 * sub-stream (`agent`, id), so an agent is the same whenever it is spawned.
 *
 * Agent ids are `agt_<n>` with n = population index + 1: the initial population
 * is `agt_1 … agt_N`, spawned agents follow.
 */
import {
  AgentPopulation,
  Cooldown,
  Rng,
  deriveKey,
  type AgentColumn,
  type World,
} from '@verisim/sim'
import {
  ACTIONS,
  SEGMENTS,
  VENUE_KINDS,
  cooldownSteadyState,
  townConfig,
  type TownConfig,
} from './config.js'
import { DAY } from '@verisim/sim'

export const AGENT_PREFIX = 'agt_'

/** Events since the last metrics snapshot, per action, and reviews. */
export interface IntervalCounts {
  readonly actions: Float64Array
  reviews: number
  revenueUsd: number
}

export interface TownState {
  readonly cfg: TownConfig
  readonly seed: number
  readonly pop: AgentPopulation
  /** Per action (ACTIONS order); null for actions without a cooldown. */
  readonly cooldowns: readonly (Cooldown | null)[]
  /** Favourite venue (index in cfg.venues) per venue kind (VENUE_KINDS order). */
  readonly favourite: readonly AgentColumn<Uint8Array>[]
  /** Orders placed so far per agent (saturates at 65,535). */
  readonly orders: AgentColumn<Uint16Array>
  readonly initialAgents: number
  ordersTotal: number
  reviewsTotal: number
  readonly interval: IntervalCounts
  /** Scratch: one agent's propensities. */
  readonly props: Float64Array
  readonly agentRng: Rng
}

/** The id of agent `i` in events. */
export function agentId(i: number): string {
  return AGENT_PREFIX + (i + 1)
}

/** The sub-stream of agent `i` (reuses one generator: draw from it before asking for another). */
export function agentRng(st: TownState, i: number): Rng {
  return st.agentRng.reseed(deriveKey(st.seed, 'agent', i))
}

/**
 * Adds one agent of segment `seg`, drawing its propensities (log-normal around the
 * segment's means) and favourite venues from `rng`; returns its index.
 */
export function spawnAgent(st: TownState, seg: number, rng: Rng): number {
  const sc = st.cfg.segments[seg]!
  const p = st.props
  for (let a = 0; a < ACTIONS.length; a++) {
    const sd = sc.spread[a]!
    p[a] = sc.perDay[a]! * Math.exp(sd * rng.normal() - (sd * sd) / 2)
  }
  const id = st.pop.spawn(seg, p)
  for (const cd of st.cooldowns) cd?.register(id)
  VENUE_KINDS.forEach((_, k) => {
    const vs = st.cfg.venuesByKind[k]!
    st.favourite[k]!.values[id] = vs[rng.int(vs.length)]!
  })
  return id
}

function pickSegment(cfg: TownConfig, rng: Rng): number {
  const u = rng.next()
  let acc = 0
  for (let s = 0; s < cfg.segments.length; s++) {
    acc += cfg.segments[s]!.share
    if (u < acc) return s
  }
  return cfg.segments.length - 1
}

/**
 * The town at `start`: the initial agents, each already cooling down with its
 * steady-state probability (since a uniform time within the cooldown), so the
 * first hours look like any later ones.
 */
export function initTown(world: World, seed: number, start: number): TownState {
  const cfg = townConfig(world)
  const pop = new AgentPopulation({
    segments: SEGMENTS,
    actions: ACTIONS,
    reserve: cfg.segments.map((s) => Math.ceil(cfg.agents * s.share * 1.05) + 16),
  })
  const st: TownState = {
    cfg,
    seed,
    pop,
    cooldowns: cfg.actions.map((a, i) =>
      a.cooldown
        ? new Cooldown(pop, { action: i, durationMs: a.cooldown.ms, factor: a.cooldown.factor })
        : null,
    ),
    favourite: VENUE_KINDS.map(() => pop.addColumn(Uint8Array)),
    orders: pop.addColumn(Uint16Array),
    initialAgents: cfg.agents,
    ordersTotal: 0,
    reviewsTotal: 0,
    interval: { actions: new Float64Array(ACTIONS.length), reviews: 0, revenueUsd: 0 },
    props: new Float64Array(ACTIONS.length),
    agentRng: new Rng(0),
  }
  const pending = cfg.actions.map(() => ({ ids: [] as number[], at: [] as number[] }))
  for (let i = 0; i < cfg.agents; i++) {
    const rng = agentRng(st, i)
    const id = spawnAgent(st, pickSegment(cfg, rng), rng)
    cfg.actions.forEach((a, ai) => {
      if (!a.cooldown) return
      const days = a.cooldown.ms / DAY
      const { cooling } = cooldownSteadyState(pop.propensity(id, ai), days, a.cooldown.factor)
      if (rng.next() < cooling) {
        pending[ai]!.ids.push(id)
        pending[ai]!.at.push(start - rng.next() * a.cooldown.ms)
      }
    })
  }
  // cooldowns begin in time order
  pending.forEach((p, ai) => {
    const cd = st.cooldowns[ai]
    if (!cd) return
    const order = p.ids.map((_, k) => k).sort((x, y) => p.at[x]! - p.at[y]! || x - y)
    for (const k of order) cd.begin(p.ids[k]!, p.at[k]!)
  })
  return st
}
