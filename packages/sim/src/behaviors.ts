/**
 * What each kind of stream does to the world when it fires: which entities it
 * picks or creates, which lifecycle step it applies, which ids and state-derived
 * fields its event carries, and what context it hands to the chains it triggers.
 * Streams name their behavior in streams.json; `generic` streams only pick their
 * actors and draw their fields.
 *
 * A behavior returns the event's `data` (ids first; the engine then adds the
 * configured fields and the primary value), or `null` to skip the event when its
 * precondition fails (no active student, a student who already left …).
 */
import type { StreamBehavior } from '@verisim/schema'
import { DAY, HOUR, MINUTE } from './calendar.js'
import type {
  Booking,
  Chat,
  Payment,
  Referral,
  Registry,
  Session,
  Student,
  Ticket,
  Tutor,
} from './entities.js'
import { TutorState } from './entities.js'
import type { Rng } from './rng.js'
import type { World, WorldStream } from './world/load.js'

/** The context a chain carries from its trigger to its outcomes (`none` for arrivals). */
export type ContextKind =
  'none' | 'student' | 'tutor' | 'booking' | 'session' | 'payment' | 'ticket' | 'chat' | 'referral'

export interface BehaviorContract {
  /** Contexts the behavior can run with (`none` = on its own, as an arrival). */
  readonly accepts: readonly ContextKind[] | 'any'
  /** Context it hands to the chains it triggers. */
  readonly gives: ContextKind
  /** Whether the primary value comes from the simulation state (`observed` in streams.json). */
  readonly observes: 'yes' | 'no' | 'either'
}

const c = (
  accepts: readonly ContextKind[] | 'any',
  gives: ContextKind,
  observes: BehaviorContract['observes'] = 'no',
): BehaviorContract => ({
  accepts,
  gives,
  observes,
})

export const BEHAVIOR_CONTEXT: Readonly<Record<StreamBehavior, BehaviorContract>> = {
  generic: c('any', 'none'),
  'student.signup': c(['none'], 'student'),
  'student.churn': c(['none', 'ticket'], 'student'),
  'tutor.apply': c(['none'], 'tutor'),
  'tutor.approve': c(['tutor'], 'tutor'),
  'tutor.reject': c(['tutor'], 'tutor'),
  'tutor.availability': c(['none', 'tutor'], 'tutor'),
  'tutor.deactivate': c(['none'], 'tutor'),
  'tutor.payout': c(['none'], 'none'),
  'booking.request': c(['none'], 'booking', 'yes'),
  'booking.confirm': c(['booking'], 'session', 'yes'),
  'booking.decline': c(['booking'], 'booking', 'yes'),
  'booking.expire': c(['booking'], 'booking', 'yes'),
  'session.cancel': c(['session'], 'session', 'yes'),
  'session.remind': c(['session'], 'session', 'yes'),
  'session.start': c(['session'], 'session', 'yes'),
  'session.complete': c(['session'], 'session', 'yes'),
  'session.noshow.tutor': c(['session'], 'session', 'yes'),
  'session.noshow.student': c(['session'], 'session', 'yes'),
  'session.rate': c(['session'], 'session'),
  'session.monitor': c(['session'], 'session'),
  'payment.charge': c(['session'], 'payment', 'yes'),
  'ticket.create': c(['none', 'payment', 'session'], 'ticket'),
  'ticket.update': c(['ticket'], 'ticket', 'either'),
  'ticket.resolve': c(['ticket'], 'ticket', 'yes'),
  'chat.start': c(['none'], 'chat'),
  'chat.message': c(['chat'], 'chat'),
  'chat.end': c(['chat'], 'chat', 'yes'),
  'referral.send': c(['none'], 'referral'),
  'referral.convert': c(['referral'], 'referral'),
  'campaign.conversion': c(['student'], 'student'),
  'platform.snapshot': c(['none'], 'none', 'yes'),
}

/** Whether a behavior may have an arrival of its own. */
export function canArrive(b: StreamBehavior): boolean {
  const a = BEHAVIOR_CONTEXT[b].accepts
  return a === 'any' || a.includes('none')
}

/** What the engine exposes to behaviors while one event is being built. */
export interface Host {
  readonly world: World
  readonly reg: Registry
  /** The firing stream's sub-stream. */
  rng: Rng
  /** The primary value: pre-drawn from the stream's distribution (NaN when observed); behaviors may set it. */
  value: number
  /** Context handed to the chains this event triggers. */
  child: unknown
  /** A session start time for a booking requested at `t` (slot profile × preference for sooner slots). */
  sessionStart(t: number, rng: Rng): number
  readonly campaignIds: readonly string[]
}

export type Behavior = (
  h: Host,
  s: WorldStream,
  ctx: unknown,
  t: number,
  trigger: number,
) => Record<string, unknown> | null

const r1 = (x: number): number => Math.round(x * 10) / 10
const r2 = (x: number): number => Math.round(x * 100) / 100

/** Ticket reasons by the behavior of the stream that triggered the ticket. */
const TICKET_REASON: Partial<
  Record<StreamBehavior, { reason: string; category: string; priority: string }>
> = {
  'payment.charge': { reason: 'payment_failed', category: 'billing', priority: 'high' },
  'session.rate': { reason: 'low_rating', category: 'quality', priority: 'normal' },
  'session.noshow.tutor': { reason: 'tutor_no_show', category: 'scheduling', priority: 'high' },
}

const generic: Behavior = (h, s) => {
  const data: Record<string, unknown> = {}
  for (const a of s.actors) {
    if (a === 'student') {
      const st = h.reg.students.pick(h.rng)
      if (!st) return null
      data.studentId = st.id
    } else if (a === 'tutor') {
      const t = h.reg.tutors.pick(h.rng)
      if (!t) return null
      data.tutorId = t.id
    } else {
      data.campaignId = h.campaignIds[h.rng.int(h.campaignIds.length)]
    }
  }
  return data
}

export const BEHAVIORS: Readonly<Record<StreamBehavior, Behavior>> = {
  generic,

  'student.signup': (h, _s, _ctx, t) => {
    const cohort = h.reg.pickCohort(h.world, h.rng)
    const st = h.reg.newStudent(cohort, t, 0)
    const tutor = h.reg.tutorWithRoom(h.rng)
    if (tutor) h.reg.assign(st, tutor)
    h.child = st
    return { studentId: st.id, cohort: h.world.cohorts[cohort]!.name }
  },

  'student.churn': (h, _s, ctx, t) => {
    let st: Student | undefined
    let reason: string | undefined
    if (ctx) {
      st = (ctx as Ticket).student
      if (!st.active) return null
      reason = 'support-escalation'
    } else {
      // Pick the cohort in proportion to its churn intensity, then a member.
      const cs = h.world.cohorts
      let total = 0
      for (let i = 0; i < cs.length; i++) total += h.reg.cohorts[i]!.size * cs[i]!.monthlyChurn
      if (total <= 0) return null
      let u = h.rng.next() * total
      let ci = cs.length - 1
      for (let i = 0; i < cs.length; i++) {
        u -= h.reg.cohorts[i]!.size * cs[i]!.monthlyChurn
        if (u < 0) {
          ci = i
          break
        }
      }
      st = h.reg.cohorts[ci]!.pick(h.rng)
      if (!st) return null
    }
    h.reg.churn(st)
    h.child = st
    return {
      studentId: st.id,
      cohort: h.world.cohorts[st.cohort]!.name,
      tenureDays: r1((t - st.signupAt) / DAY),
      reason,
    }
  },

  'tutor.apply': (h) => {
    const subjects = h.world.config.baseline.subjects
    const tutor = h.reg.newTutor(subjects[h.rng.int(subjects.length)]!)
    h.reg.applicants++
    h.child = tutor
    return { tutorId: tutor.id, subject: tutor.subject }
  },

  'tutor.approve': (h, _s, ctx) => {
    const tutor = ctx as Tutor
    if (tutor.state !== TutorState.applied) return null
    tutor.state = TutorState.approved
    tutor.rate = h.world.sessions.hourlyRateUsd(h.rng)
    h.reg.applicants--
    h.reg.approvedWaiting++
    h.child = tutor
    return { tutorId: tutor.id, subject: tutor.subject, hourlyRateUsd: tutor.rate }
  },

  'tutor.reject': (h, _s, ctx) => {
    const tutor = ctx as Tutor
    if (tutor.state !== TutorState.applied) return null
    tutor.state = TutorState.rejected
    h.reg.applicants--
    h.child = tutor
    return { tutorId: tutor.id }
  },

  'tutor.availability': (h, _s, ctx) => {
    let tutor: Tutor | undefined
    let firstTime = false
    if (ctx) {
      tutor = ctx as Tutor
      if (tutor.state !== TutorState.approved) return null
      tutor.state = TutorState.available
      h.reg.approvedWaiting--
      h.reg.tutors.add(tutor)
      firstTime = true
    } else {
      tutor = h.reg.tutors.pick(h.rng)
      if (!tutor) return null
    }
    h.child = tutor
    return { tutorId: tutor.id, firstTime }
  },

  'tutor.deactivate': (h) => {
    if (h.reg.tutors.size <= 1) return null
    const tutor = h.reg.tutors.pick(h.rng)!
    tutor.state = TutorState.deactivated
    h.reg.tutors.remove(tutor)
    h.child = tutor
    return { tutorId: tutor.id, regularStudents: tutor.roster }
  },

  'tutor.payout': (h) => {
    const tutor = h.reg.tutors.pick(h.rng)
    if (!tutor) return null
    return { payoutId: h.reg.nextId('payout'), tutorId: tutor.id }
  },

  'booking.request': (h, _s, _ctx, t) => {
    const reg = h.reg
    const st = reg.students.pick(h.rng)
    if (!st) return null
    let tutor = st.tutor
    const regular = tutor !== null && tutor.state === TutorState.available
    if (!regular || h.rng.next() >= h.world.sessions.regularTutorShare) {
      const other = reg.tutorWithRoom(h.rng) ?? reg.tutors.pick(h.rng)
      if (!other) return null
      if (!regular && other.roster < reg.maxRoster) reg.assign(st, other)
      tutor = other
    }
    const firstSession = st.bookings === 0
    st.bookings++
    const startsAt = h.sessionStart(t, h.rng)
    const b: Booking = {
      id: reg.nextId('booking'),
      student: st,
      tutor: tutor!,
      requestedAt: t,
      startsAt,
      firstSession,
    }
    reg.pendingBookings++
    h.value = r1((startsAt - t) / HOUR)
    h.child = b
    return {
      bookingId: b.id,
      studentId: st.id,
      tutorId: b.tutor.id,
      subject: b.tutor.subject,
      startsAt,
      firstSession,
    }
  },

  'booking.confirm': (h, _s, ctx, t) => {
    const b = ctx as Booking
    const reg = h.reg
    reg.pendingBookings--
    const durationMin = h.world.sessions.durationMin(h.rng)
    const ses: Session = {
      id: reg.nextId('session'),
      booking: b,
      student: b.student,
      tutor: b.tutor,
      startsAt: b.startsAt,
      endsAt: b.startsAt + durationMin * MINUTE,
      durationMin,
      priceUsd: r2((b.tutor.rate * durationMin) / 60),
      firstSession: b.firstSession,
      startedAt: NaN,
    }
    reg.scheduledSessions++
    h.value = r2((t - b.requestedAt) / HOUR)
    h.child = ses
    return {
      bookingId: b.id,
      sessionId: ses.id,
      studentId: b.student.id,
      tutorId: b.tutor.id,
      startsAt: b.startsAt,
      durationMin,
      priceUsd: ses.priceUsd,
      firstSession: b.firstSession,
    }
  },

  'booking.decline': (h, _s, ctx, t) => {
    const b = ctx as Booking
    h.reg.pendingBookings--
    h.value = r2((t - b.requestedAt) / HOUR)
    h.child = b
    return { bookingId: b.id, studentId: b.student.id, tutorId: b.tutor.id }
  },

  'booking.expire': (h, _s, ctx) => {
    const b = ctx as Booking
    h.reg.pendingBookings--
    h.value = r1((b.startsAt - b.requestedAt) / HOUR)
    h.child = b
    return { bookingId: b.id, studentId: b.student.id, tutorId: b.tutor.id }
  },

  'session.cancel': (h, _s, ctx, t) => {
    const ses = ctx as Session
    h.reg.scheduledSessions--
    h.value = r1((ses.startsAt - t) / HOUR)
    h.child = ses
    return {
      sessionId: ses.id,
      bookingId: ses.booking.id,
      studentId: ses.student.id,
      tutorId: ses.tutor.id,
    }
  },

  'session.remind': (h, _s, ctx, t) => {
    const ses = ctx as Session
    h.value = Math.round((ses.startsAt - t) / MINUTE)
    h.child = ses
    return {
      sessionId: ses.id,
      studentId: ses.student.id,
      tutorId: ses.tutor.id,
      startsAt: ses.startsAt,
    }
  },

  'session.start': (h, _s, ctx, t) => {
    const ses = ctx as Session
    h.reg.scheduledSessions--
    h.reg.sessionsInProgress++
    ses.startedAt = t
    h.value = r1((t - ses.startsAt) / MINUTE)
    h.child = ses
    return {
      sessionId: ses.id,
      studentId: ses.student.id,
      tutorId: ses.tutor.id,
      subject: ses.tutor.subject,
      firstSession: ses.firstSession,
    }
  },

  'session.noshow.tutor': (h, _s, ctx, t) => noShow(h, ctx as Session, t),
  'session.noshow.student': (h, _s, ctx, t) => noShow(h, ctx as Session, t),

  'session.complete': (h, _s, ctx, t) => {
    const ses = ctx as Session
    h.reg.sessionsInProgress--
    h.value = r1((t - ses.startedAt) / MINUTE)
    h.child = ses
    return {
      sessionId: ses.id,
      studentId: ses.student.id,
      tutorId: ses.tutor.id,
      firstSession: ses.firstSession,
    }
  },

  'session.rate': (h, _s, ctx) => {
    const ses = ctx as Session
    h.child = ses
    return { sessionId: ses.id, studentId: ses.student.id, tutorId: ses.tutor.id }
  },

  'session.monitor': (h, _s, ctx) => {
    const ses = ctx as Session
    h.child = ses
    return { sessionId: ses.id }
  },

  'payment.charge': (h, _s, ctx) => {
    const ses = ctx as Session
    const p: Payment = { id: h.reg.nextId('payment'), student: ses.student, session: ses }
    h.value = ses.priceUsd
    h.child = p
    return { paymentId: p.id, sessionId: ses.id, studentId: ses.student.id }
  },

  'ticket.create': (h, _s, ctx, t, trigger) => {
    let st: Student | undefined
    let data: Record<string, unknown>
    if (ctx) {
      const how = TICKET_REASON[h.world.streams[trigger]!.behavior]
      const related = ctx as Payment | Session
      st = related.student
      const id = h.reg.nextId('ticket')
      data = {
        ticketId: id,
        studentId: st.id,
        reason: how?.reason ?? h.world.streams[trigger]!.name,
        category: how?.category,
        priority: how?.priority,
      }
      if ('session' in related) data.paymentId = related.id
      else data.sessionId = related.id
    } else {
      st = h.reg.students.pick(h.rng)
      if (!st) return null
      data = {
        ticketId: h.reg.nextId('ticket'),
        studentId: st.id,
        reason: 'inquiry',
        category: undefined,
        priority: undefined,
      }
    }
    const ticket: Ticket = { id: data.ticketId as string, student: st, createdAt: t }
    h.reg.openTickets++
    h.child = ticket
    return data
  },

  'ticket.update': (h, s, ctx, t) => {
    const tk = ctx as Ticket
    // Observed values are the time the ticket has been open, in the stream's unit.
    if (!s.valueSampler)
      h.value = s.unit === 'hours' ? r2((t - tk.createdAt) / HOUR) : r1((t - tk.createdAt) / MINUTE)
    h.child = tk
    return { ticketId: tk.id, studentId: tk.student.id }
  },

  'ticket.resolve': (h, _s, ctx, t) => {
    const tk = ctx as Ticket
    h.reg.openTickets--
    h.value = r2((t - tk.createdAt) / HOUR)
    h.child = tk
    return { ticketId: tk.id, studentId: tk.student.id }
  },

  'chat.start': (h, _s, _ctx, t) => {
    const st = h.reg.students.pick(h.rng)
    if (!st) return null
    const chat: Chat = { id: h.reg.nextId('chat'), student: st, startedAt: t, messages: 0 }
    h.reg.openChats++
    h.child = chat
    return { chatId: chat.id, studentId: st.id }
  },

  'chat.message': (h, _s, ctx) => {
    const chat = ctx as Chat
    chat.messages++
    h.child = chat
    return { chatId: chat.id, studentId: chat.student.id }
  },

  'chat.end': (h, _s, ctx, t) => {
    const chat = ctx as Chat
    h.reg.openChats--
    h.value = r1((t - chat.startedAt) / MINUTE)
    h.child = chat
    return { chatId: chat.id, studentId: chat.student.id, messages: chat.messages }
  },

  'referral.send': (h) => {
    const st = h.reg.students.pick(h.rng)
    if (!st) return null
    const ref: Referral = { id: h.reg.nextId('referral'), student: st }
    h.child = ref
    return { referralId: ref.id, studentId: st.id }
  },

  'referral.convert': (h, _s, ctx) => {
    const ref = ctx as Referral
    h.child = ref
    return { referralId: ref.id, studentId: ref.student.id }
  },

  'campaign.conversion': (h, _s, ctx) => {
    const st = ctx as Student
    h.child = st
    return { campaignId: h.campaignIds[h.rng.int(h.campaignIds.length)], studentId: st.id }
  },

  'platform.snapshot': (h) => {
    const reg = h.reg
    const tutors = reg.tutors.size
    h.value = tutors > 0 ? r2(reg.students.size / tutors) : 0
    return {
      activeStudents: reg.students.size,
      bookableTutors: tutors,
      pendingBookings: reg.pendingBookings,
      scheduledSessions: reg.scheduledSessions,
      sessionsInProgress: reg.sessionsInProgress,
      openTickets: reg.openTickets,
      openChats: reg.openChats,
    }
  },
}

function noShow(h: Host, ses: Session, t: number): Record<string, unknown> {
  h.reg.scheduledSessions--
  h.value = r1((t - ses.startsAt) / MINUTE)
  h.child = ses
  return { sessionId: ses.id, studentId: ses.student.id, tutorId: ses.tutor.id }
}
