/**
 * What each behaviour puts in its events' `data` (behaviors.ts returns it; the
 * kernel then adds the stream's configured fields and its primary value): the
 * declaration `verisim types` turns into TypeScript, checked against real events
 * by the CLI's tests. Change it with the behaviour.
 */
import type { DataFieldSpec, DataSpec, World, WorldStream } from '@verisim/sim'
import { TICKET_REASON } from './behaviors.js'
import { tutoringConfig, type TutoringBaseline } from './config.js'

const id: DataFieldSpec = { type: 'id' }
const ids = (...names: string[]): DataSpec => Object.fromEntries(names.map((n) => [n, id]))

const cohort = (world: World): DataFieldSpec => ({
  type: 'string',
  values: tutoringConfig(world).cohorts.map((c) => c.name),
  description: "The student's acquisition cohort.",
})
const subject = (world: World): DataFieldSpec => ({
  type: 'string',
  values: tutoringConfig(world).subjects,
  description: "The tutor's subject.",
})
const startsAt: DataFieldSpec = {
  type: 'number',
  unit: 'epoch ms',
  description: 'When the session is scheduled to start (simulation time, ms since 1970 UTC).',
}
const firstSession: DataFieldSpec = {
  type: 'boolean',
  description: "The student's first booking.",
}

/** A session's length: the values of baseline-metrics.json `sessions.durationMin` when it lists them. */
function durationMin(world: World): DataFieldSpec {
  const d = (world.config.baseline as unknown as TutoringBaseline).sessions.durationMin
  return {
    type: 'number',
    ...(d.type === 'categorical' && d.values ? { values: d.values } : {}),
    unit: 'minutes',
    description: 'The booked length of the session.',
  }
}

/**
 * A ticket's reason: `inquiry` when it arrives on its own, otherwise from the
 * behaviour of the stream whose chain opened it (the trigger's name when that
 * behaviour has no reason of its own).
 */
function ticketReasons(world: World, stream: WorldStream): string[] {
  const out = new Set<string>()
  if (stream.config.arrival) out.add('inquiry')
  for (const s of world.streams)
    for (const c of s.chains)
      if (c.outcomes.some((o) => o.stream === stream.index))
        out.add(TICKET_REASON[s.behavior]?.reason ?? s.name)
  return [...out]
}

/** Ticket fields set when a chain opens the ticket (the configured draw fills them otherwise). */
function ticketFromChain(
  world: World,
  stream: WorldStream,
  key: 'category' | 'priority',
): DataFieldSpec {
  const values = new Set<string>()
  for (const s of world.streams)
    for (const c of s.chains)
      if (c.outcomes.some((o) => o.stream === stream.index)) {
        const v = TICKET_REASON[s.behavior]?.[key]
        if (v) values.add(v)
      }
  return { type: 'string', values: [...values], optional: true }
}

/** Drops enumerated fields without any value (a world whose chains never set them). */
const nonEmpty = (spec: DataSpec): DataSpec =>
  Object.fromEntries(Object.entries(spec).filter(([, f]) => f.values?.length !== 0))

/** `data` of each behaviour, by behaviour name. */
export const BEHAVIOR_DATA: Readonly<
  Record<string, DataSpec | ((world: World, stream: WorldStream) => DataSpec)>
> = {
  'student.signup': (w) => ({ studentId: id, cohort: cohort(w) }),
  'student.churn': (w) => ({
    studentId: id,
    cohort: cohort(w),
    tenureDays: { type: 'number', unit: 'days', description: 'Days since the student signed up.' },
    reason: {
      type: 'string',
      values: ['support-escalation'],
      optional: true,
      description: 'Why the student left (`support-escalation` after an escalated ticket).',
    },
  }),
  'tutor.apply': (w) => ({ tutorId: id, subject: subject(w) }),
  'tutor.approve': (w) => ({
    tutorId: id,
    subject: subject(w),
    hourlyRateUsd: { type: 'number', unit: 'USD per hour', description: "The tutor's rate." },
  }),
  'tutor.reject': ids('tutorId'),
  'tutor.availability': {
    tutorId: id,
    firstTime: {
      type: 'boolean',
      description: 'The tutor becomes bookable for the first time (after approval).',
    },
  },
  'tutor.deactivate': {
    tutorId: id,
    regularStudents: {
      type: 'number',
      description: 'Students who had the tutor as their regular tutor.',
    },
  },
  'tutor.payout': ids('payoutId', 'tutorId'),
  'booking.request': (w) => ({
    ...ids('bookingId', 'studentId', 'tutorId'),
    subject: subject(w),
    startsAt,
    firstSession,
  }),
  'booking.confirm': (w) => ({
    ...ids('bookingId', 'sessionId', 'studentId', 'tutorId'),
    startsAt,
    durationMin: durationMin(w),
    priceUsd: {
      type: 'number',
      unit: 'USD',
      description: "The session's price (hourly rate × duration).",
    },
    firstSession,
  }),
  'booking.decline': ids('bookingId', 'studentId', 'tutorId'),
  'booking.expire': ids('bookingId', 'studentId', 'tutorId'),
  'session.cancel': ids('sessionId', 'bookingId', 'studentId', 'tutorId'),
  'session.remind': { ...ids('sessionId', 'studentId', 'tutorId'), startsAt },
  'session.start': (w) => ({
    ...ids('sessionId', 'studentId', 'tutorId'),
    subject: subject(w),
    firstSession,
  }),
  'session.complete': { ...ids('sessionId', 'studentId', 'tutorId'), firstSession },
  'session.noshow.tutor': ids('sessionId', 'studentId', 'tutorId'),
  'session.noshow.student': ids('sessionId', 'studentId', 'tutorId'),
  'session.rate': ids('sessionId', 'studentId', 'tutorId'),
  'session.monitor': ids('sessionId'),
  'payment.charge': ids('paymentId', 'sessionId', 'studentId'),
  'ticket.create': (w, s) =>
    nonEmpty({
      ...ids('ticketId', 'studentId'),
      reason: {
        type: 'string',
        values: ticketReasons(w, s),
        description: 'What opened the ticket (`inquiry`: the student on their own).',
      },
      category: ticketFromChain(w, s, 'category'),
      priority: ticketFromChain(w, s, 'priority'),
      paymentId: { ...id, optional: true, description: 'The failed payment that opened it.' },
      sessionId: { ...id, optional: true, description: 'The session that opened it.' },
    }),
  'ticket.update': ids('ticketId', 'studentId'),
  'ticket.resolve': ids('ticketId', 'studentId'),
  'chat.start': ids('chatId', 'studentId'),
  'chat.message': ids('chatId', 'studentId'),
  'chat.end': {
    ...ids('chatId', 'studentId'),
    messages: { type: 'number', description: 'Messages in the chat.' },
  },
  'referral.send': ids('referralId', 'studentId'),
  'referral.convert': ids('referralId', 'studentId'),
  'campaign.conversion': ids('campaignId', 'studentId'),
  'platform.snapshot': Object.fromEntries(
    [
      ['activeStudents', 'Active students.'],
      ['bookableTutors', 'Tutors students can book.'],
      ['pendingBookings', 'Booking requests awaiting the tutor.'],
      ['scheduledSessions', 'Confirmed sessions not started yet.'],
      ['sessionsInProgress', 'Sessions running now.'],
      ['openTickets', 'Support tickets not resolved.'],
      ['openChats', 'Live chats running now.'],
    ].map(([name, description]) => [name, { type: 'number', description } as DataFieldSpec]),
  ),
}
