/**
 * @verisim/world-example — Maple Street, a small town of café-goers and shoppers
 * in four persona segments: the example of the agent model (DESIGN.md "Two arrival
 * models, one kernel"). Each (segment, action) is one stream at the population
 * level — Σ of the segment's propensities × its time profile × modifiers — and
 * when it fires one agent is picked in proportion to its propensity and runs the
 * pipeline (behaviors.ts). Its config lives in `config/worlds/example/`.
 *
 * @example
 * import { loadWorld, createEngine } from '@verisim/sim'
 * import { example } from '@verisim/world-example'
 * const engine = createEngine({ world: loadWorld('config/worlds/example', example), seed: 42, start })
 * engine.act('spawn_agents', { segment: 'student', count: 500 })
 */
import {
  DAY,
  defineWorld,
  type Host,
  type StateRateSpec,
  type World,
  type WorldDescription,
} from '@verisim/sim'
import Type from 'typebox'
import { BEHAVIORS, BEHAVIOR_CONTEXT } from './behaviors.js'
import { BEHAVIOR_DATA } from './data.js'
import {
  ACTIONS,
  SEGMENTS,
  TownBaselineProperties,
  compileTownConfig,
  townConfig,
  type SegmentId,
  type TownConfig,
} from './config.js'
import { agentId, agentRng, initTown, spawnAgent, type TownState } from './state.js'

export { BEHAVIOR_CONTEXT, type OrderContext } from './behaviors.js'
export {
  ACTIONS,
  SEGMENTS,
  VENUE_KINDS,
  cooldownSteadyState,
  townConfig,
  type ActionName,
  type SegmentId,
  type TownConfig,
} from './config.js'
export { AGENT_PREFIX, agentId, type TownState } from './state.js'

/** What `engine.stats().world` holds for the example world. */
export interface TownStats {
  agents: {
    total: number
    bySegment: Record<string, number>
  }
  /** Agents cooling down per action with a cooldown (as of the last look at them). */
  cooling: Record<string, number>
  orders: number
  reviews: number
  /** The population present at start: agents `agt_1…` up to this count. */
  initial: { agents: number }
}

const SpawnAgentsPayload = Type.Object(
  {
    segment: Type.Union(
      SEGMENTS.map((s) => Type.Literal(s)),
      { description: 'persona segment of the newcomers' },
    ),
    count: Type.Integer({ minimum: 1, maximum: 100_000, description: 'agents to add now' }),
  },
  { additionalProperties: false },
)

type H = Host<TownState>

/**
 * One state rate per (segment, action), `<segment>.<action>`: the segment's
 * propensities for the action in events per day — their ceiling when the action
 * has a cooldown, which thins the draws back to the current propensities.
 */
const STATE_RATES: Record<string, StateRateSpec<TownState>> = {}
SEGMENTS.forEach((seg, s) =>
  ACTIONS.forEach((action, a) => {
    STATE_RATES[`${seg}.${action}`] = {
      behaviors: [`agent.${action}`],
      rate: (st) => {
        const cd = st.cooldowns[a]
        return (cd ? cd.ceiling(s) : st.pop.total(s, a)) / DAY
      },
      expected: (world) => townConfig(world).expectedPerDay[s * ACTIONS.length + a]! / DAY,
    }
  }),
)

function segments(world: World): WorldDescription['segments'] {
  const cfg = townConfig(world)
  return cfg.segments.map((s) => ({
    id: s.id,
    name: s.name,
    agents: Math.round(cfg.agents * s.share),
  }))
}

export const example = defineWorld<TownState, TownConfig>({
  id: 'example',
  model: 'agent',
  description:
    'Maple Street, a small town: commuters, students, families and retirees visit cafés, browse shops and buy; some review what they bought. An agent world: each persona × action is one population-level stream, one agent acting per event.',
  // longer than the longest cooldown (48 h), so warm-up reaches the steady state
  warmupHours: 96,
  baselineProperties: TownBaselineProperties,
  compile: compileTownConfig,
  behaviors: Object.fromEntries(
    Object.entries(BEHAVIORS).map(([name, run]) => [
      name,
      { contract: BEHAVIOR_CONTEXT[name]!, run, data: BEHAVIOR_DATA[name] },
    ]),
  ),
  actors: {
    /** Any agent, uniformly (for generic streams). */
    agent: {
      field: 'agentId',
      pick: (h: H) => {
        const n = h.state.pop.size
        return n === 0 ? null : agentId(h.rng.int(n))
      },
    },
  },
  anchors: {},
  stateRates: STATE_RATES,
  categories: ['weather', 'local', 'operational', 'marketing'],
  calendarKinds: ['holiday', 'event'],
  init: initTown,
  stats: (st): Record<string, unknown> & TownStats => {
    const pop = st.pop
    const bySegment: Record<string, number> = {}
    SEGMENTS.forEach((s, i) => (bySegment[s] = pop.count(i)))
    const cooling: Record<string, number> = {}
    st.cooldowns.forEach((cd, a) => {
      if (!cd) return
      let n = 0
      for (let s = 0; s < SEGMENTS.length; s++) n += cd.cooling(s)
      cooling[ACTIONS[a]!] = n
    })
    return {
      agents: { total: pop.size, bySegment },
      cooling,
      orders: st.ordersTotal,
      reviews: st.reviewsTotal,
      initial: { agents: st.initialAgents },
    }
  },
  actions: {
    spawn_agents: {
      description:
        'Adds `count` agents of persona `segment` now (newcomers, a marketing push), each with propensities and favourite venues of their own; the segment’s streams speed up in proportion.',
      payload: SpawnAgentsPayload,
      apply: (h: H, payload: { segment: SegmentId; count: number }) => {
        const st = h.state
        const seg = SEGMENTS.indexOf(payload.segment)
        const first = st.pop.size
        for (let i = 0; i < payload.count; i++) spawnAgent(st, seg, agentRng(st, st.pop.size))
        return {
          spawned: payload.count,
          segment: payload.segment,
          firstId: agentId(first),
          lastId: agentId(st.pop.size - 1),
          agents: st.pop.size,
        }
      },
    },
  },
  docBaseline: (world: World) => {
    const cfg = townConfig(world)
    const cooldowns = cfg.actions
      .filter((a) => a.cooldown)
      .map(
        (a) =>
          `${a.name} for ${a.cooldown!.ms / 3_600_000} h at ${a.cooldown!.factor * 100} % propensity`,
      )
    return (
      `Initial population: ${cfg.agents} agents — ${cfg.segments
        .map((s) => `${s.name.toLowerCase()} ${Math.round(s.share * 100)} %`)
        .join(', ')}. ` +
      `Each agent has its own propensity per action (log-normal around its segment's mean). ` +
      `Cooldowns after acting: ${cooldowns.join('; ') || 'none'}. No growth: the population changes only through spawn_agents.`
    )
  },
  segments,
})
