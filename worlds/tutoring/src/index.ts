/**
 * @verisim/world-tutoring — the tutoring marketplace as a world module: students
 * and tutors with cohorts, bookings, sessions, payments, tickets, chats and
 * referrals (seed 001/003). Its config lives in `config/worlds/tutoring/`.
 *
 * @example
 * import { loadWorld, createEngine } from '@verisim/sim'
 * import { tutoring } from '@verisim/world-tutoring'
 * const engine = createEngine({ world: loadWorld('config/worlds/tutoring', tutoring), seed: 42, start })
 */
import {
  MINUTE,
  MONTH,
  SimError,
  SimErrorCode,
  defineWorld,
  type Host,
  type World,
} from '@verisim/sim'
import Type from 'typebox'
import { BEHAVIORS, BEHAVIOR_CONTEXT } from './behaviors.js'
import { BEHAVIOR_DATA } from './data.js'
import {
  TutoringBaselineProperties,
  compileTutoringConfig,
  tutoringConfig,
  type TutoringConfig,
} from './config.js'
import { expectedSessionStarts } from './sessions.js'
import { initTutoring, type TutoringState } from './state.js'
import { Pool, Registry } from './entities.js'

export { BEHAVIOR_CONTEXT } from './behaviors.js'
export { TutorState, type Student, type Tutor, type Session, type Booking } from './entities.js'
export { tutoringConfig, type TutoringConfig, type SessionsConfig } from './config.js'
export type { TutoringState } from './state.js'

/** What `engine.stats().world` holds for tutoring. */
export interface TutoringStats {
  entities: {
    /** Active students / bookable tutors right now. */
    students: number
    tutors: number
    studentsTotal: number
    tutorsTotal: number
    studentsByCohort: Record<string, number>
    applicants: number
    approvedAwaitingAvailability: number
    pendingBookings: number
    scheduledSessions: number
    sessionsInProgress: number
    openTickets: number
    openChats: number
    /** Largest number of regular students of a bookable tutor. */
    maxStudentsPerTutor: number
  }
  /** The population present at start: students `stu_1…`, tutors `tut_1…` up to these counts. */
  initial: { students: number; tutors: number }
}

const SpawnStudentsPayload = Type.Object(
  {
    count: Type.Integer({ minimum: 1, maximum: 10_000, description: 'students to sign up now' }),
    cohort: Type.Optional(Type.String({ description: 'acquisition cohort (default: by share)' })),
  },
  { additionalProperties: false },
)

type H = Host<TutoringState>

export const tutoring = defineWorld<TutoringState, TutoringConfig>({
  id: 'tutoring',
  model: 'chain',
  description:
    'A tutoring marketplace: students search, book and attend sessions with tutors; payments, support, marketing and platform health follow.',
  warmupHours: 240,
  baselineProperties: TutoringBaselineProperties,
  compile: compileTutoringConfig,
  behaviors: Object.fromEntries(
    Object.entries(BEHAVIORS).map(([name, run]) => [
      name,
      { contract: BEHAVIOR_CONTEXT[name]!, run, data: BEHAVIOR_DATA[name] },
    ]),
  ),
  actors: {
    student: { field: 'studentId', pick: (h: H) => h.state.reg.students.pick(h.rng)?.id ?? null },
    tutor: { field: 'tutorId', pick: (h: H) => h.state.reg.tutors.pick(h.rng)?.id ?? null },
    campaign: {
      field: 'campaignId',
      pick: (h: H) => h.state.campaignIds[h.rng.int(h.state.campaignIds.length)]!,
    },
  },
  anchors: {
    start: {
      context: 'session',
      at: (ctx) => (ctx as { startsAt: number }).startsAt,
      offset: null,
    },
    end: {
      context: 'session',
      at: (ctx) => (ctx as { endsAt: number }).endsAt,
      offset: (world, rng) => tutoringConfig(world).sessions.durationMin(rng) * MINUTE,
    },
  },
  stateRates: {
    /** Σ over cohorts of active students × monthly churn. */
    cohortChurn: {
      behaviors: ['student.churn'],
      rate: (state) => state.reg.churnPerMonth(state.cfg) / MONTH,
      expected: (world) => {
        const cfg = tutoringConfig(world)
        const pop = cfg.population.students
        return (pop * cfg.cohorts.reduce((a, c) => a + c.share * c.monthlyChurn, 0)) / MONTH
      },
    },
  },
  categories: ['marketing', 'product', 'infrastructure', 'academic', 'competitive', 'operational'],
  calendarKinds: ['exam', 'summer', 'holiday', 'other'],
  meanField: {
    anchored: {
      behavior: 'booking.request',
      minLeadMs: (world) => tutoringConfig(world).sessions.minLeadMs,
      maxLeadMs: (world) => tutoringConfig(world).sessions.maxLeadMs,
      starts: (world, rates, req, t0, M, bucketMs) =>
        expectedSessionStarts(tutoringConfig(world).sessions, rates, req, t0, M, bucketMs),
    },
    fieldShare: (world, field, eq) => {
      if (field !== 'cohort') return undefined
      const c = tutoringConfig(world).cohorts.find((x) => x.name === eq)
      return c ? c.share : 0
    },
  },
  supply: {
    current: (state) => state.reg.tutors.size,
    initial: (state) => state.reg.initialTutors,
  },
  init: initTutoring,
  snapshotClasses: [Registry, Pool],
  entityFields: [
    'studentId',
    'tutorId',
    'sessionId',
    'bookingId',
    'ticketId',
    'chatId',
    'referralId',
    'paymentId',
    'payoutId',
    'campaignId',
  ],
  milestones: [
    { name: 'signup', label: 'Signed up', streams: ['customer.signup'], which: 'first' },
    {
      name: 'first_search',
      label: 'First tutor search',
      streams: ['customer.tutor.search'],
      which: 'first',
    },
    {
      name: 'first_booking',
      label: 'First booking request',
      streams: ['session.booking.requested'],
      which: 'first',
    },
    {
      name: 'first_confirmed',
      label: 'First booking confirmed',
      streams: ['session.booking.confirmed'],
      which: 'first',
    },
    { name: 'first_session', label: 'First session', streams: ['session.started'], which: 'first' },
    {
      name: 'first_payment',
      label: 'First payment',
      streams: ['customer.payment.succeeded'],
      which: 'first',
    },
    {
      name: 'subscribed',
      label: 'Subscribed',
      streams: ['customer.subscription.started'],
      which: 'first',
    },
    {
      name: 'first_rating',
      label: 'First rating',
      streams: ['session.rating.submitted'],
      which: 'first',
    },
    {
      name: 'tutor_approved',
      label: 'Tutor approved',
      streams: ['tutor.application.approved'],
      which: 'first',
    },
    { name: 'last_session', label: 'Last session', streams: ['session.completed'], which: 'last' },
    {
      name: 'churned',
      label: 'Churned',
      streams: ['customer.churned', 'tutor.deactivated'],
      which: 'first',
    },
  ],
  kpis: [
    { name: 'signups', label: 'Sign-ups', count: ['customer.signup'] },
    { name: 'booking_requests', label: 'Booking requests', count: ['session.booking.requested'] },
    {
      name: 'confirmation_rate',
      label: 'Confirmations per request',
      ratio: { of: ['session.booking.confirmed'], per: ['session.booking.requested'] },
    },
    { name: 'sessions_completed', label: 'Sessions completed', count: ['session.completed'] },
    {
      name: 'rating_rate',
      label: 'Ratings per completed session',
      ratio: { of: ['session.rating.submitted'], per: ['session.completed'] },
    },
    {
      name: 'payment_failure_rate',
      label: 'Failed payments per attempt',
      ratio: {
        of: ['customer.payment.failed'],
        per: ['customer.payment.succeeded', 'customer.payment.failed'],
      },
    },
    { name: 'tickets', label: 'Support tickets', count: ['support.ticket.created'] },
    { name: 'churned', label: 'Students churned', count: ['customer.churned'] },
  ],
  stats: (state): Record<string, unknown> & TutoringStats => {
    const reg = state.reg
    const byCohort: Record<string, number> = {}
    state.cfg.cohorts.forEach((c, i) => (byCohort[c.name] = reg.cohorts[i]!.size))
    let maxRoster = 0
    for (const t of reg.tutors.items) if (t.roster > maxRoster) maxRoster = t.roster
    return {
      entities: {
        students: reg.students.size,
        tutors: reg.tutors.size,
        studentsTotal: reg.studentsTotal,
        tutorsTotal: reg.tutorsTotal,
        studentsByCohort: byCohort,
        applicants: reg.applicants,
        approvedAwaitingAvailability: reg.approvedWaiting,
        pendingBookings: reg.pendingBookings,
        scheduledSessions: reg.scheduledSessions,
        sessionsInProgress: reg.sessionsInProgress,
        openTickets: reg.openTickets,
        openChats: reg.openChats,
        maxStudentsPerTutor: maxRoster,
      },
      initial: { students: reg.initialStudents, tutors: reg.initialTutors },
    }
  },
  actions: {
    spawn_students: {
      description:
        'Signs up `count` students now (a marketing push), in `cohort` or spread over the cohorts by share; each gets a regular tutor with room when there is one.',
      payload: SpawnStudentsPayload,
      apply: (h: H, payload: { count: number; cohort?: string }, t: number) => {
        const { reg, cfg } = h.state
        let cohort = -1
        if (payload.cohort !== undefined) {
          cohort = cfg.cohorts.findIndex((c) => c.name === payload.cohort)
          if (cohort < 0)
            throw new SimError(
              SimErrorCode.badArgument,
              `payload.cohort: expected one of ${cfg.cohorts.map((c) => c.name).join(', ')}, found ${JSON.stringify(payload.cohort)}`,
            )
        }
        const ids: string[] = []
        for (let i = 0; i < payload.count; i++) {
          const r = reg.entityRng('spawn', reg.nextNumber('student'))
          const c = cohort >= 0 ? cohort : reg.pickCohort(cfg, r)
          const st = reg.newStudent(c, t, 0)
          const tutor = reg.tutorWithRoom(r)
          if (tutor) reg.assign(st, tutor)
          ids.push(st.id)
        }
        return { spawned: ids.length, firstId: ids[0], lastId: ids[ids.length - 1] }
      },
    },
  },
  docBaseline: (world: World) => {
    const cfg = tutoringConfig(world)
    const pop = cfg.population
    return (
      `Initial population: ${pop.students} students, ${pop.tutors} tutors (at most ${pop.maxStudentsPerTutor} regular students each). ` +
      `Growth ${world.config.baseline.growth.monthly * 100} % a month. Cohorts: ${cfg.cohorts
        .map(
          (c) =>
            `${c.name} (${c.share * 100} % of signups, ${c.monthlyChurn * 100} % monthly churn)`,
        )
        .join(', ')}.`
    )
  },
})
