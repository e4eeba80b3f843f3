/**
 * Tutoring's own part of baseline-metrics.json: the initial population, the
 * acquisition cohorts, the session rules, campaigns and subjects. The kernel
 * validates the file against its properties plus these (closed), then
 * {@link compileTutoringConfig} checks and compiles them.
 */
import {
  DistributionParamError,
  HOUR,
  compileDistribution,
  type Sampler,
  type World,
} from '@verisim/sim'
import { DistributionSchema } from '@verisim/schema'
import Type, { type Static } from 'typebox'

const closed = { additionalProperties: false } as const

export const TutoringBaselineProperties = {
  population: Type.Object(
    {
      students: Type.Integer({ minimum: 1 }),
      tutors: Type.Integer({ minimum: 1 }),
      maxStudentsPerTutor: Type.Integer({ minimum: 1 }),
    },
    closed,
  ),
  /** Acquisition cohorts of students: share of signups and monthly churn. */
  cohorts: Type.Record(
    Type.String(),
    Type.Object(
      {
        share: Type.Number({ minimum: 0, maximum: 1 }),
        monthlyChurn: Type.Number({ minimum: 0, maximum: 1 }),
      },
      closed,
    ),
  ),
  sessions: Type.Object(
    {
      /** Bookings are made at least this far ahead (the tutor's response deadline fits before). */
      minLeadHours: Type.Number({ minimum: 0 }),
      maxLeadHours: Type.Number({ minimum: 1 }),
      /** Preference for sooner slots: weight e^(−lead/decay). */
      leadDecayHours: Type.Number({ exclusiveMinimum: 0 }),
      /** Session slot start times are multiples of this many minutes. */
      slotMinutes: Type.Integer({ minimum: 1, maximum: 60 }),
      /** Seasonality profile the chosen slot times follow. */
      slotProfile: Type.String(),
      durationMin: DistributionSchema,
      hourlyRateUsd: DistributionSchema,
      /** Probability a returning student books their regular tutor rather than a new one. */
      regularTutorShare: Type.Number({ minimum: 0, maximum: 1 }),
    },
    closed,
  ),
  campaigns: Type.Array(
    Type.Object({ id: Type.String(), channel: Type.String(), name: Type.String() }, closed),
    { minItems: 1 },
  ),
  subjects: Type.Array(Type.String(), { minItems: 1 }),
}
const TutoringBaseline = Type.Object(TutoringBaselineProperties, closed)
export type TutoringBaseline = Static<typeof TutoringBaseline>

export interface SessionsConfig {
  readonly minLeadMs: number
  readonly maxLeadMs: number
  readonly leadDecayHours: number
  readonly slotMs: number
  readonly slotProfile: number
  readonly durationMin: Sampler<number>
  readonly hourlyRateUsd: Sampler<number>
  readonly regularTutorShare: number
}

export interface TutoringConfig {
  readonly population: TutoringBaseline['population']
  readonly cohorts: readonly {
    readonly name: string
    readonly share: number
    readonly monthlyChurn: number
  }[]
  readonly sessions: SessionsConfig
  readonly campaignIds: readonly string[]
  readonly subjects: readonly string[]
}

/** The compiled tutoring config of a loaded world. */
export function tutoringConfig(world: World): TutoringConfig {
  return world.ext as TutoringConfig
}

export function compileTutoringConfig(
  world: World,
  fail: (path: string, expected: string, found?: unknown) => never,
): TutoringConfig {
  const bf = world.config.baseline as unknown as TutoringBaseline
  const cohortNames = Object.keys(bf.cohorts)
  if (cohortNames.length === 0) fail('/cohorts', 'at least one cohort')
  const shareSum = cohortNames.reduce((a, n) => a + bf.cohorts[n]!.share, 0)
  if (Math.abs(shareSum - 1) > 1e-6) fail('/cohorts', 'cohort shares summing to 1', shareSum)
  const s = bf.sessions
  const slotProfile = world.profileIndex.get(s.slotProfile)
  if (slotProfile === undefined)
    fail(
      '/sessions/slotProfile',
      `one of the profiles ${[...world.profileIndex.keys()].join(', ')}`,
      s.slotProfile,
    )
  if (s.maxLeadHours <= s.minLeadHours)
    fail('/sessions/maxLeadHours', `more than minLeadHours (${s.minLeadHours})`, s.maxLeadHours)
  const numeric = (
    path: string,
    d: TutoringBaseline['sessions']['durationMin'],
  ): Sampler<number> => {
    try {
      const c = compileDistribution(d)
      if (!c.numeric) return fail(`${path}/values`, 'numeric values', d.values)
      return c.numeric
    } catch (err) {
      if (err instanceof DistributionParamError)
        return fail(`${path}/${err.param}`, err.expected, (d as Record<string, unknown>)[err.param])
      throw err
    }
  }
  return {
    population: bf.population,
    cohorts: cohortNames.map((name) => ({ name, ...bf.cohorts[name]! })),
    sessions: {
      minLeadMs: s.minLeadHours * HOUR,
      maxLeadMs: s.maxLeadHours * HOUR,
      leadDecayHours: s.leadDecayHours,
      slotMs: s.slotMinutes * 60_000,
      slotProfile: slotProfile!,
      durationMin: numeric('/sessions/durationMin', s.durationMin),
      hourlyRateUsd: numeric('/sessions/hourlyRateUsd', s.hourlyRateUsd),
      regularTutorShare: s.regularTutorShare,
    },
    campaignIds: bf.campaigns.map((c) => c.id),
    subjects: bf.subjects,
  }
}
