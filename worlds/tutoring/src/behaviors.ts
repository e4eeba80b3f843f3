/**
 * What each kind of stream does to the world when it fires: which entities it
 * picks or creates, which lifecycle step it applies, which ids and state-derived
 * fields its event carries, and what context it hands to the chains it triggers.
 * Streams name their behavior in streams.json; `generic` (the kernel's) streams
 * only pick their actors (see `actors` in index.ts) and draw their fields.
 *
 * A behavior returns the event's `data` (ids first; the engine then adds the
 * configured fields and the primary value), or `null` to skip the event when its
 * precondition fails (no active student, a student who already left …).
 */
import { DAY, HOUR, MINUTE, type Behavior, type BehaviorContract, type Host } from '@verisim/sim'
import type {
  Booking,
  Chat,
  Payment,
  Referral,
  Session,
  Student,
  Ticket,
  Tutor,
} from './entities.js'
import { TutorState } from './entities.js'
import { sessionStart } from './sessions.js'
import type { TutoringState } from './state.js'

type ContextKind =
  'none' | 'student' | 'tutor' | 'booking' | 'session' | 'payment' | 'ticket' | 'chat' | 'referral'

const c = (
  accepts: readonly ContextKind[] | 'any',
  gives: ContextKind,
  observes: BehaviorContract['observes'] = 'no',
): BehaviorContract => ({
  accepts,
  gives,
  observes,
})

/** Which context each behaviour accepts and hands on (checked against the chains at load). */
export const BEHAVIOR_CONTEXT: Readonly<Record<string, BehaviorContract>> = {
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

type TutoringHost = Host<TutoringState>
type TutoringBehavior = Behavior<TutoringState>

const r1 = (x: number): number => Math.round(x * 10) / 10
const r2 = (x: number): number => Math.round(x * 100) / 100

/** Ticket reasons by the behavior of the stream that triggered the ticket. */
export const TICKET_REASON: Readonly<
  Record<string, { reason: string; category: string; priority: string }>
> = {
  'payment.charge': { reason: 'payment_failed', category: 'billing', priority: 'high' },
  'session.rate': { reason: 'low_rating', category: 'quality', priority: 'normal' },
  'session.noshow.tutor': { reason: 'tutor_no_show', category: 'scheduling', priority: 'high' },
}

export const BEHAVIORS: Readonly<Record<string, TutoringBehavior>> = {
  'student.signup': (h, _s, _ctx, t) => {
    const cohort = h.state.reg.pickCohort(h.state.cfg, h.rng)
    const st = h.state.reg.newStudent(cohort, t, 0)
    const tutor = h.state.reg.tutorWithRoom(h.rng)
    if (tutor) h.state.reg.assign(st, tutor)
    h.child = st
    return { studentId: st.id, cohort: h.state.cfg.cohorts[cohort]!.name }
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
      const cs = h.state.cfg.cohorts
      const total = h.state.reg.churnPerMonth(h.state.cfg)
      if (total <= 0) return null
      let u = h.rng.next() * total
      let ci = cs.length - 1
      for (let i = 0; i < cs.length; i++) {
        u -= h.state.reg.cohorts[i]!.size * cs[i]!.monthlyChurn
        if (u < 0) {
          ci = i
          break
        }
      }
      st = h.state.reg.cohorts[ci]!.pick(h.rng)
      if (!st) return null
    }
    h.state.reg.churn(st)
    h.child = st
    return {
      studentId: st.id,
      cohort: h.state.cfg.cohorts[st.cohort]!.name,
      tenureDays: r1((t - st.signupAt) / DAY),
      reason,
    }
  },

  'tutor.apply': (h) => {
    const subjects = h.state.cfg.subjects
    const tutor = h.state.reg.newTutor(subjects[h.rng.int(subjects.length)]!)
    h.state.reg.applicants++
    h.child = tutor
    return { tutorId: tutor.id, subject: tutor.subject }
  },

  'tutor.approve': (h, _s, ctx) => {
    const tutor = ctx as Tutor
    if (tutor.state !== TutorState.applied) return null
    tutor.state = TutorState.approved
    tutor.rate = h.state.cfg.sessions.hourlyRateUsd(h.rng)
    h.state.reg.applicants--
    h.state.reg.approvedWaiting++
    h.child = tutor
    return { tutorId: tutor.id, subject: tutor.subject, hourlyRateUsd: tutor.rate }
  },

  'tutor.reject': (h, _s, ctx) => {
    const tutor = ctx as Tutor
    if (tutor.state !== TutorState.applied) return null
    tutor.state = TutorState.rejected
    h.state.reg.applicants--
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
      h.state.reg.approvedWaiting--
      h.state.reg.tutors.add(tutor)
      firstTime = true
    } else {
      tutor = h.state.reg.tutors.pick(h.rng)
      if (!tutor) return null
    }
    h.child = tutor
    return { tutorId: tutor.id, firstTime }
  },

  'tutor.deactivate': (h) => {
    if (h.state.reg.tutors.size <= 1) return null
    const tutor = h.state.reg.tutors.pick(h.rng)!
    tutor.state = TutorState.deactivated
    h.state.reg.tutors.remove(tutor)
    h.child = tutor
    return { tutorId: tutor.id, regularStudents: tutor.roster }
  },

  'tutor.payout': (h) => {
    const tutor = h.state.reg.tutors.pick(h.rng)
    if (!tutor) return null
    return { payoutId: h.state.reg.nextId('payout'), tutorId: tutor.id }
  },

  'booking.request': (h, _s, _ctx, t) => {
    const reg = h.state.reg
    const st = reg.students.pick(h.rng)
    if (!st) return null
    let tutor = st.tutor
    const regular = tutor !== null && tutor.state === TutorState.available
    if (!regular || h.rng.next() >= h.state.cfg.sessions.regularTutorShare) {
      const other = reg.tutorWithRoom(h.rng) ?? reg.tutors.pick(h.rng)
      if (!other) return null
      if (!regular && other.roster < reg.maxRoster) reg.assign(st, other)
      tutor = other
    }
    const firstSession = st.bookings === 0
    st.bookings++
    const startsAt = sessionStart(h.state, h.rates, t, h.rng)
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
    const reg = h.state.reg
    reg.pendingBookings--
    const durationMin = h.state.cfg.sessions.durationMin(h.rng)
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
    h.state.reg.pendingBookings--
    h.value = r2((t - b.requestedAt) / HOUR)
    h.child = b
    return { bookingId: b.id, studentId: b.student.id, tutorId: b.tutor.id }
  },

  'booking.expire': (h, _s, ctx) => {
    const b = ctx as Booking
    h.state.reg.pendingBookings--
    h.value = r1((b.startsAt - b.requestedAt) / HOUR)
    h.child = b
    return { bookingId: b.id, studentId: b.student.id, tutorId: b.tutor.id }
  },

  'session.cancel': (h, _s, ctx, t) => {
    const ses = ctx as Session
    h.state.reg.scheduledSessions--
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
    h.state.reg.scheduledSessions--
    h.state.reg.sessionsInProgress++
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
    h.state.reg.sessionsInProgress--
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
    const p: Payment = { id: h.state.reg.nextId('payment'), student: ses.student, session: ses }
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
      const id = h.state.reg.nextId('ticket')
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
      st = h.state.reg.students.pick(h.rng)
      if (!st) return null
      data = {
        ticketId: h.state.reg.nextId('ticket'),
        studentId: st.id,
        reason: 'inquiry',
        category: undefined,
        priority: undefined,
      }
    }
    const ticket: Ticket = { id: data.ticketId as string, student: st, createdAt: t }
    h.state.reg.openTickets++
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
    h.state.reg.openTickets--
    h.value = r2((t - tk.createdAt) / HOUR)
    h.child = tk
    return { ticketId: tk.id, studentId: tk.student.id }
  },

  'chat.start': (h, _s, _ctx, t) => {
    const st = h.state.reg.students.pick(h.rng)
    if (!st) return null
    const chat: Chat = { id: h.state.reg.nextId('chat'), student: st, startedAt: t, messages: 0 }
    h.state.reg.openChats++
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
    h.state.reg.openChats--
    h.value = r1((t - chat.startedAt) / MINUTE)
    h.child = chat
    return { chatId: chat.id, studentId: chat.student.id, messages: chat.messages }
  },

  'referral.send': (h) => {
    const st = h.state.reg.students.pick(h.rng)
    if (!st) return null
    const ref: Referral = { id: h.state.reg.nextId('referral'), student: st }
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
    return {
      campaignId: h.state.campaignIds[h.rng.int(h.state.campaignIds.length)],
      studentId: st.id,
    }
  },

  'platform.snapshot': (h) => {
    const reg = h.state.reg
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

function noShow(h: TutoringHost, ses: Session, t: number): Record<string, unknown> {
  h.state.reg.scheduledSessions--
  h.value = r1((t - ses.startsAt) / MINUTE)
  h.child = ses
  return { sessionId: ses.id, studentId: ses.student.id, tutorId: ses.tutor.id }
}
