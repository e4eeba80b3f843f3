/**
 * The entity registry: students, tutors, bookings, sessions, payments, tickets,
 * chats, payouts and referrals, with the pools the engine picks from (active
 * students, per-cohort students, bookable tutors) and the counters the platform
 * snapshot and `stats()` report. Only entities that exist are ever referenced by an
 * event: ids come from here, and a tutor joins the bookable pool only once approved
 * and available.
 *
 * Ids are `<prefix><n>` with a counter per kind; the initial population (present
 * before the simulation starts) is numbered 1…N.
 */
import { DAY, Rng, SNAPSHOT, deriveKey, type SnapshotClass, type World } from '@verisim/sim'
import type { TutoringConfig } from './config.js'

export const TutorState = {
  applied: 0,
  approved: 1,
  available: 2,
  rejected: 3,
  deactivated: 4,
} as const
export type TutorState = (typeof TutorState)[keyof typeof TutorState]

interface Pooled {
  /** Index in the main pool (−1 when out). */
  p: number
  /** Index in the secondary (cohort) pool. */
  cp: number
}

export interface Student extends Pooled {
  readonly id: string
  readonly n: number
  readonly cohort: number
  readonly signupAt: number
  tutor: Tutor | null
  active: boolean
  /** Booking requests made so far (0 ⇒ the next one is the student's first). */
  bookings: number
}

export interface Tutor extends Pooled {
  readonly id: string
  readonly n: number
  state: TutorState
  /** Regular students (at most `maxStudentsPerTutor`). */
  roster: number
  rate: number
  readonly subject: string
}

export interface Booking {
  readonly id: string
  readonly student: Student
  readonly tutor: Tutor
  readonly requestedAt: number
  readonly startsAt: number
  readonly firstSession: boolean
}

export interface Session {
  readonly id: string
  readonly booking: Booking
  readonly student: Student
  readonly tutor: Tutor
  readonly startsAt: number
  readonly endsAt: number
  readonly durationMin: number
  readonly priceUsd: number
  readonly firstSession: boolean
  startedAt: number
}

export interface Payment {
  readonly id: string
  readonly student: Student
  readonly session: Session
}

export interface Ticket {
  readonly id: string
  readonly student: Student
  readonly createdAt: number
}

export interface Chat {
  readonly id: string
  readonly student: Student
  readonly startedAt: number
  messages: number
}

export interface Referral {
  readonly id: string
  readonly student: Student
}

/** An array with O(1) add, remove (swap with last) and uniform pick. */
export class Pool<T extends Pooled> {
  readonly items: T[] = []
  readonly #slot: 'p' | 'cp'

  /** Engine snapshots: the slot it keeps positions in, and its items (the entities, shared). */
  static readonly [SNAPSHOT]: SnapshotClass<Pool<Pooled>> = {
    name: 'tutoring.Pool',
    save: (p) => ({ slot: p.#slot, items: p.items }),
    load: (data) => {
      const d = data as { slot: 'p' | 'cp'; items: Pooled[] }
      const p = new Pool(d.slot)
      p.items.push(...d.items)
      return p
    },
  }

  constructor(slot: 'p' | 'cp' = 'p') {
    this.#slot = slot
  }
  get size(): number {
    return this.items.length
  }
  add(x: T): void {
    x[this.#slot] = this.items.length
    this.items.push(x)
  }
  remove(x: T): void {
    const i = x[this.#slot]
    if (i < 0) return
    const last = this.items.pop()!
    if (last !== x) {
      this.items[i] = last
      last[this.#slot] = i
    }
    x[this.#slot] = -1
  }
  pick(rng: Rng): T | undefined {
    const n = this.items.length
    return n === 0 ? undefined : this.items[rng.int(n)]
  }
}

const DEFAULT_PREFIX = {
  student: 'stu_',
  tutor: 'tut_',
  booking: 'bkg_',
  session: 'ses_',
  payment: 'pay_',
  ticket: 'tkt_',
  chat: 'cht_',
  payout: 'pyo_',
  referral: 'ref_',
} as const
export type EntityKindName = keyof typeof DEFAULT_PREFIX

export class Registry {
  readonly students = new Pool<Student>('p')
  readonly cohorts: Pool<Student>[]
  readonly tutors = new Pool<Tutor>('p')
  readonly maxRoster: number
  readonly initialStudents: number
  readonly initialTutors: number
  readonly #prefix: Record<EntityKindName, string>
  readonly #next: Record<EntityKindName, number>
  #erng = new Rng(0)
  readonly #seed: number

  pendingBookings = 0
  scheduledSessions = 0
  sessionsInProgress = 0
  openTickets = 0
  openChats = 0
  applicants = 0
  approvedWaiting = 0
  studentsTotal = 0
  tutorsTotal = 0

  /** Engine snapshots: the pools, id counters and figures. */
  static readonly [SNAPSHOT]: SnapshotClass<Registry> = {
    name: 'tutoring.Registry',
    save: (r) => ({
      world: r.#world,
      cfg: r.#cfg,
      seed: r.#seed,
      next: r.#next,
      erng: r.#erng,
      pools: { students: r.students, cohorts: r.cohorts, tutors: r.tutors },
      figures: {
        pendingBookings: r.pendingBookings,
        scheduledSessions: r.scheduledSessions,
        sessionsInProgress: r.sessionsInProgress,
        openTickets: r.openTickets,
        openChats: r.openChats,
        applicants: r.applicants,
        approvedWaiting: r.approvedWaiting,
        studentsTotal: r.studentsTotal,
        tutorsTotal: r.tutorsTotal,
      },
    }),
    load: (data) => {
      const d = data as {
        world: World
        cfg: TutoringConfig
        seed: number
        next: Record<EntityKindName, number>
        erng: Rng
        pools: Pick<Registry, 'students' | 'cohorts' | 'tutors'>
        figures: Partial<Registry>
      }
      const r = new Registry(d.world, d.cfg, d.seed, null)
      Object.assign(r.#next, d.next)
      r.#erng = d.erng
      return Object.assign(r, d.pools, d.figures)
    },
  }

  readonly #world: World
  readonly #cfg: TutoringConfig

  /** `start` null: no initial population (a snapshot's registry is loaded into it). */
  constructor(world: World, cfg: TutoringConfig, seed: number, start: number | null) {
    this.#world = world
    this.#cfg = cfg
    this.#seed = seed
    const ents = world.config.relationships.entities
    this.#prefix = { ...DEFAULT_PREFIX }
    for (const k of Object.keys(DEFAULT_PREFIX) as EntityKindName[]) {
      const e = ents[k]
      if (e) this.#prefix[k] = e.prefix
    }
    this.#next = {
      student: 1,
      tutor: 1,
      booking: 1,
      session: 1,
      payment: 1,
      ticket: 1,
      chat: 1,
      payout: 1,
      referral: 1,
    }
    this.cohorts = cfg.cohorts.map(() => new Pool<Student>('cp'))
    const pop = cfg.population
    this.maxRoster = pop.maxStudentsPerTutor
    this.initialTutors = pop.tutors
    this.initialStudents = pop.students
    if (start === null) return
    const subjects = cfg.subjects
    for (let i = 0; i < pop.tutors; i++) {
      const n = this.#next.tutor++
      const r = this.entityRng('tutor', n)
      const t: Tutor = {
        id: this.#prefix.tutor + n,
        n,
        state: TutorState.available,
        roster: 0,
        rate: cfg.sessions.hourlyRateUsd(r),
        subject: subjects[r.int(subjects.length)]!,
        p: -1,
        cp: -1,
      }
      this.tutors.add(t)
      this.tutorsTotal++
    }
    for (let i = 0; i < pop.students; i++) {
      const n = this.#next.student
      const r = this.entityRng('student', n)
      const cohort = this.pickCohort(cfg, r)
      // Everyone has a regular tutor at start; the first N tutors get one each so no roster is empty.
      const tutor = i < this.tutors.size ? this.tutors.items[i]! : this.tutorWithRoom(r)
      const s = this.newStudent(cohort, start - r.uniform(1, 720) * DAY, 1 + r.int(40))
      if (tutor) this.assign(s, tutor)
    }
  }

  /** The sub-stream of one entity (reuses one generator: draw from it before asking for another). */
  entityRng(kind: string, n: number): Rng {
    return this.#erng.reseed(deriveKey(this.#seed, kind, n))
  }

  nextId(kind: EntityKindName): string {
    return this.#prefix[kind] + this.#next[kind]++
  }

  nextNumber(kind: EntityKindName): number {
    return this.#next[kind]
  }

  pickCohort(cfg: TutoringConfig, r: Rng): number {
    const u = r.next()
    let acc = 0
    for (let c = 0; c < cfg.cohorts.length; c++) {
      acc += cfg.cohorts[c]!.share
      if (u < acc) return c
    }
    return cfg.cohorts.length - 1
  }

  /** Monthly churn intensity of the active students: Σ cohort size × its monthly churn. */
  churnPerMonth(cfg: TutoringConfig): number {
    let perMonth = 0
    const cs = cfg.cohorts
    for (let i = 0; i < cs.length; i++) perMonth += this.cohorts[i]!.size * cs[i]!.monthlyChurn
    return perMonth
  }

  newStudent(cohort: number, signupAt: number, bookings: number): Student {
    const n = this.#next.student++
    const s: Student = {
      id: this.#prefix.student + n,
      n,
      cohort,
      signupAt,
      tutor: null,
      active: true,
      bookings,
      p: -1,
      cp: -1,
    }
    this.students.add(s)
    this.cohorts[cohort]!.add(s)
    this.studentsTotal++
    return s
  }

  newTutor(subject: string): Tutor {
    const n = this.#next.tutor++
    this.tutorsTotal++
    return {
      id: this.#prefix.tutor + n,
      n,
      state: TutorState.applied,
      roster: 0,
      rate: 0,
      subject,
      p: -1,
      cp: -1,
    }
  }

  churn(s: Student): void {
    s.active = false
    this.students.remove(s)
    this.cohorts[s.cohort]!.remove(s)
    if (s.tutor) this.unassign(s)
  }

  assign(s: Student, t: Tutor): void {
    if (s.tutor) this.unassign(s)
    s.tutor = t
    t.roster++
  }

  unassign(s: Student): void {
    if (s.tutor) s.tutor.roster--
    s.tutor = null
  }

  /** A bookable tutor with room for another regular student (the less loaded of two random picks), or null. */
  tutorWithRoom(r: Rng): Tutor | null {
    for (let attempt = 0; attempt < 8; attempt++) {
      const a = this.tutors.pick(r)
      const b = this.tutors.pick(r)
      if (!a || !b) return null
      const t = b.roster < a.roster ? b : a
      if (t.roster < this.maxRoster) return t
    }
    return null
  }
}
