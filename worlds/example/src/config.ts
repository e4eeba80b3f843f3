/**
 * The example world's own part of baseline-metrics.json: the population (how many
 * agents, the persona segments with their share and their propensity per action),
 * the actions (which kind of venue, cooldowns), the venues and the review rule.
 * The kernel validates the file against its properties plus these (closed), then
 * {@link compileTownConfig} checks and compiles them, and maps every agent stream
 * of streams.json to its (segment, action).
 *
 * The persona segments and the actions are the module's vocabulary (its state
 * rates are named `<segment>.<action>`); their numbers are config.
 */
import { join } from 'node:path'
import { DAY, HOUR, Rng, SimErrorCode, WorldConfigError, deriveKey, type World } from '@verisim/sim'
import Type, { type Static } from 'typebox'

const closed = { additionalProperties: false } as const

/** Persona segments, in this order everywhere (state, stats, descriptions). */
export const SEGMENTS = ['commuter', 'student', 'family', 'retiree'] as const
export type SegmentId = (typeof SEGMENTS)[number]

/** What an agent does: visit a café, browse a shop, buy something. */
export const ACTIONS = ['visit', 'browse', 'purchase'] as const
export type ActionName = (typeof ACTIONS)[number]
export const Action = { visit: 0, browse: 1, purchase: 2 } as const

export const VENUE_KINDS = ['cafe', 'shop'] as const
export type VenueKind = (typeof VENUE_KINDS)[number]

const Propensity = Type.Object(
  {
    /** Mean actions per day of an agent of the segment at full propensity (time profile averaged). */
    perDay: Type.Number({ minimum: 0 }),
    /** σ of the log-normal spread of propensities across agents (0: all alike). */
    spread: Type.Number({ minimum: 0, maximum: 3 }),
  },
  closed,
)

const Segment = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.String(),
    /** Share of the initial population (shares sum to 1). */
    share: Type.Number({ minimum: 0, maximum: 1 }),
    /** Probability an agent goes to its favourite venue of the kind rather than any. */
    loyalty: Type.Number({ minimum: 0, maximum: 1 }),
    /** Probability an agent adopts a venue that is not its favourite as its new favourite after going there. */
    switchRate: Type.Number({ minimum: 0, maximum: 1 }),
    actions: Type.Object(
      Object.fromEntries(ACTIONS.map((a) => [a, Propensity])) as Record<
        ActionName,
        typeof Propensity
      >,
      closed,
    ),
  },
  closed,
)

const Cooldown = Type.Object(
  {
    /** How long after acting an agent stays less likely to act again. */
    hours: Type.Number({ exclusiveMinimum: 0 }),
    /** Its propensity meanwhile, relative to its own (0–1). */
    factor: Type.Number({ minimum: 0, maximum: 1 }),
  },
  closed,
)

const ActionConfig = Type.Object(
  {
    venueKind: Type.Union(VENUE_KINDS.map((k) => Type.Literal(k))),
    cooldown: Type.Optional(Cooldown),
  },
  closed,
)

export const TownBaselineProperties = {
  population: Type.Object(
    {
      /** Agents at start, spread over the segments by share. */
      agents: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      segments: Type.Object(
        Object.fromEntries(SEGMENTS.map((s) => [s, Segment])) as Record<SegmentId, typeof Segment>,
        closed,
      ),
    },
    closed,
  ),
  actions: Type.Object(
    Object.fromEntries(ACTIONS.map((a) => [a, ActionConfig])) as Record<
      ActionName,
      typeof ActionConfig
    >,
    closed,
  ),
  venues: Type.Array(
    Type.Object(
      {
        id: Type.String({ pattern: '^ven_[a-z0-9_]+$' }),
        name: Type.String({ minLength: 1 }),
        kind: Type.Union(VENUE_KINDS.map((k) => Type.Literal(k))),
      },
      closed,
    ),
    { minItems: 2, maxItems: 255 },
  ),
  reviews: Type.Object(
    {
      /** A review rating at or below this makes the agent drop the shop as its favourite. */
      unhappyAtOrBelow: Type.Number({ minimum: 0 }),
    },
    closed,
  ),
}
const TownBaseline = Type.Object(TownBaselineProperties, closed)
export type TownBaseline = Static<typeof TownBaseline>

export interface SegmentConfig {
  readonly id: SegmentId
  readonly name: string
  readonly description: string
  readonly share: number
  readonly loyalty: number
  readonly switchRate: number
  /** Per action (ACTIONS order). */
  readonly perDay: Float64Array
  readonly spread: Float64Array
}

export interface ActionConfig {
  readonly name: ActionName
  /** Index in VENUE_KINDS. */
  readonly venueKind: number
  readonly cooldown: { readonly ms: number; readonly factor: number } | null
}

export interface TownConfig {
  readonly agents: number
  readonly segments: readonly SegmentConfig[]
  readonly actions: readonly ActionConfig[]
  readonly venues: readonly { readonly id: string; readonly name: string; readonly kind: number }[]
  /** Venue indices per kind (VENUE_KINDS order). */
  readonly venuesByKind: readonly (readonly number[])[]
  readonly unhappyAtOrBelow: number
  /** Per stream index: the segment of an agent stream (−1 for other streams). */
  readonly streamSegment: Int16Array
  /**
   * Mean events per day of each (segment, action) for the initial population,
   * cooldowns included (`segment × ACTIONS.length + action`): the mean field.
   */
  readonly expectedPerDay: Float64Array
}

/** The compiled config of a loaded example world. */
export function townConfig(world: World): TownConfig {
  return world.ext as TownConfig
}

/**
 * An agent's long-run share of time cooling down and its mean actions per day, for
 * a propensity of `perDay` and a cooldown of `days` at `factor` (a renewal cycle:
 * an action, then a cooldown that starts over with every action during it).
 */
export function cooldownSteadyState(
  perDay: number,
  days: number,
  factor: number,
): { cooling: number; perDay: number } {
  if (!(perDay > 0)) return { cooling: 0, perDay: 0 }
  const mu = factor * perDay
  const grow = Math.exp(mu * days)
  const cooling = mu > 0 ? (grow - 1) / mu : days
  const cycle = 1 / perDay + cooling
  return { cooling: cooling / cycle, perDay: grow / cycle }
}

export function compileTownConfig(
  world: World,
  fail: (path: string, expected: string, found?: unknown) => never,
): TownConfig {
  const bf = world.config.baseline as unknown as TownBaseline
  const shareSum = SEGMENTS.reduce((a, s) => a + bf.population.segments[s].share, 0)
  if (Math.abs(shareSum - 1) > 1e-6)
    fail('/population/segments', 'segment shares summing to 1', Number(shareSum.toFixed(6)))

  const venues = bf.venues.map((v) => ({
    id: v.id,
    name: v.name,
    kind: VENUE_KINDS.indexOf(v.kind),
  }))
  const seen = new Set<string>()
  bf.venues.forEach((v, i) => {
    if (seen.has(v.id)) fail(`/venues/${i}/id`, 'a venue id not used before', v.id)
    seen.add(v.id)
  })
  const venuesByKind = VENUE_KINDS.map((_, k) =>
    venues.flatMap((v, i) => (v.kind === k ? [i] : [])),
  )
  const actions = ACTIONS.map((name): ActionConfig => {
    const a = bf.actions[name]
    const kind = VENUE_KINDS.indexOf(a.venueKind)
    if (venuesByKind[kind]!.length === 0)
      fail(`/actions/${name}/venueKind`, `a kind with at least one venue in /venues`, a.venueKind)
    return {
      name,
      venueKind: kind,
      cooldown: a.cooldown ? { ms: a.cooldown.hours * HOUR, factor: a.cooldown.factor } : null,
    }
  })
  const segments = SEGMENTS.map((id): SegmentConfig => {
    const s = bf.population.segments[id]
    return {
      id,
      name: s.name,
      description: s.description,
      share: s.share,
      loyalty: s.loyalty,
      switchRate: s.switchRate,
      perDay: Float64Array.from(ACTIONS, (a) => s.actions[a].perDay),
      spread: Float64Array.from(ACTIONS, (a) => s.actions[a].spread),
    }
  })

  // agent streams: a state arrival named <segment>.<action>, with that action's behaviour
  const streamsFile = join(world.dir, 'streams.json')
  const streamSegment = new Int16Array(world.streams.length).fill(-1)
  for (const s of world.streams) {
    if (!s.behavior.startsWith('agent.')) continue
    const rate = s.config.arrival?.kind === 'state' ? s.config.arrival.rate : undefined
    const [seg, act] = (rate ?? '').split('.')
    const si = SEGMENTS.indexOf(seg as SegmentId)
    if (rate === undefined || si < 0 || `agent.${act}` !== s.behavior)
      throw new WorldConfigError(
        SimErrorCode.worldInvalid,
        streamsFile,
        `/streams/${s.index}/arrival`,
        `a state arrival whose rate is "<segment>.${s.behavior.slice(6)}" (behaviour ${s.behavior}; segments ${SEGMENTS.join(', ')})`,
        JSON.stringify(s.config.arrival ?? null),
      )
    streamSegment[s.index] = si
  }

  // the mean field: E over the spread of the propensities (a fixed sample) of each agent's steady rate
  const expectedPerDay = new Float64Array(SEGMENTS.length * ACTIONS.length)
  const rng = new Rng(deriveKey(0, 'example', 'mean-field'))
  const K = 4096
  const z = Float64Array.from({ length: K }, () => rng.normal())
  segments.forEach((sc, si) => {
    actions.forEach((ac, ai) => {
      const m = sc.perDay[ai]!
      const sd = sc.spread[ai]!
      let mean = 0
      for (let k = 0; k < K; k++) {
        const p = m * Math.exp(sd * z[k]! - (sd * sd) / 2)
        mean += ac.cooldown
          ? cooldownSteadyState(p, ac.cooldown.ms / DAY, ac.cooldown.factor).perDay
          : p
      }
      expectedPerDay[si * ACTIONS.length + ai] = (bf.population.agents * sc.share * mean) / K
    })
  })

  return {
    agents: bf.population.agents,
    segments,
    actions,
    venues,
    venuesByKind,
    unhappyAtOrBelow: bf.reviews.unhappyAtOrBelow,
    streamSegment,
    expectedPerDay,
  }
}
