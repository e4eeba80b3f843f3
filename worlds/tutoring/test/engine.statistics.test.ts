/**
 * Statistical checks of a baseline run (the seed's "Data Quality Validation"):
 * 21 simulated days of the whole world from a fixed seed. Session volumes are
 * measured on the last 14 days (bookings are made 25 h–8 days ahead, so the first
 * week fills the session pipeline); ratio metrics count the denominators of the
 * first 13 days and every numerator linked to them by id, so late outcomes (a
 * session completing a week after its booking) are not cut off. Every metric of
 * baseline-metrics.json must land in its range; bookings must add up; no event
 * may reference an entity not created by an earlier event (or part of the initial
 * population / a static catalog); lifecycles must be respected.
 *
 * To keep the run short, `system.api.request.log` (two thirds of all events, no
 * relationships) is thinned to 10 % with a rate modifier; the checks that involve
 * its volume scale it back by exactly that factor (a thinned Poisson process).
 */
import type { TutoringStats } from '../src/index.js'
import { beforeAll, describe, expect, it } from 'vitest'
import type { EventSelector } from '@verisim/schema'
import {
  DAY,
  HOUR,
  createEngine,
  dayOfWeek,
  hourOfDay,
  type EngineStats,
  type SimEvent,
} from '@verisim/sim'
import { START, tutoring } from './helpers.js'

const DAYS = 21
const WARMUP_DAYS = 7
const STEADY_DAYS = DAYS - WARMUP_DAYS
const END = START + DAYS * DAY
const STEADY = START + WARMUP_DAYS * DAY
const RATIO_DEN_END = START + 13 * DAY
/** Id fields linking a numerator event to its denominator event, most specific first. */
const LINK_FIELDS = [
  'bookingId',
  'sessionId',
  'paymentId',
  'ticketId',
  'chatId',
  'referralId',
  'tutorId',
  'studentId',
]

const API = 'system.api.request.log'
const API_SCALE = 0.1

const world = tutoring()
const metrics = world.config.baseline.metrics
const rel = world.config.relationships

const matches = (sel: EventSelector, ev: SimEvent): boolean => {
  if (sel.where) for (const k in sel.where) if (ev.data[k] !== sel.where[k]) return false
  return true
}

interface Tally {
  /** Ratio: denominator count and ids; others: plain count. */
  den: number
  denIds: Map<string, unknown[]>
  /** Numerators by their most specific link field. */
  nums: Map<string, unknown[]>
  all: number
  steady: number
  sum: number
  daily: number[]
  hourly: number[]
}

type Role = 'num' | 'den' | 'of'
const tallies = new Map<string, Tally>()
/** stream → what to tally for it */
const byStream = new Map<string, { name: string; role: Role; sel: EventSelector }[]>()

const r = {
  events: 0,
  perStream: new Map<string, number>(),
  steadyPerStream: new Map<string, number>(),
  /** Weighted by 1 / API_SCALE for the thinned stream. */
  normalizedInRange: 0,
  weightedEvents: 0,
  normalizedSum: new Map<string, { n: number; sum: number }>(),
  orphans: [] as string[],
  lifecycleViolations: [] as string[],
  outOfOrder: 0,
  samples: [] as EngineStats<TutoringStats>[],
  final: undefined as EngineStats<TutoringStats> | undefined,
  requested: 0,
  answered: 0,
}

beforeAll(() => {
  for (const [name, m] of Object.entries(metrics)) {
    tallies.set(name, {
      den: 0,
      denIds: new Map(),
      nums: new Map(),
      all: 0,
      steady: 0,
      sum: 0,
      daily: new Array(DAYS).fill(0),
      hourly: new Array(24).fill(0),
    })
    const add = (role: Role, sels?: EventSelector[]) =>
      sels?.forEach((sel) => {
        const list = byStream.get(sel.stream) ?? []
        list.push({ name, role, sel })
        byStream.set(sel.stream, list)
      })
    add('num', m.measure.numerator)
    add('den', m.measure.denominator)
    add('of', m.measure.of)
  }
  const engine = createEngine({ world, seed: 20250224, start: START })
  engine.setModifiers([{ stream: API, multiplier: API_SCALE, cause: 'test:thin-api-log' }])
  const apiIndex = world.streamIndex.get(API)!
  const kinds = Object.entries(rel.entities)
  const initial = engine.stats<TutoringStats>().world.initial
  const initialCount: Record<string, number> = { student: initial.students, tutor: initial.tutors }
  const staticIds = new Set(world.config.baseline.campaigns.map((c) => c.id))
  const transitions = new Map<
    string,
    {
      entity: string
      idField: string
      from: string[]
      to: string
      initialState?: string
      terminal: boolean
    }[]
  >()
  for (const l of rel.lifecycles) {
    for (const t of l.transitions) {
      const list = transitions.get(t.stream) ?? []
      // A state no transition leaves is terminal: the entity is forgotten there (keeps the maps small).
      const terminal = !l.transitions.some((x) => x.from.includes(t.to))
      list.push({
        entity: l.entity,
        idField: rel.entities[l.entity]!.idField,
        from: t.from,
        to: t.to,
        initialState: l.initialState,
        terminal,
      })
      transitions.set(t.stream, list)
    }
  }
  const states = new Map<string, Map<string, string>>(
    rel.lifecycles.map((l) => [l.entity, new Map()]),
  )

  const isInitial = (id: string, kind: string): boolean => {
    const e = rel.entities[kind]!
    if (!e.initial) return false
    const n = Number(id.slice(e.prefix.length))
    return Number.isInteger(n) && n >= 1 && n <= (initialCount[kind] ?? 0)
  }

  const kindOfIdField: Record<string, string | undefined> = Object.create(null)
  for (const [k, e] of kinds) kindOfIdField[e.idField] = k
  const prefixOf: Record<string, string> = Object.fromEntries(kinds.map(([k, e]) => [k, e.prefix]))
  // The initial population exists before any event.
  const maxCreated: Record<string, number> = Object.fromEntries(
    kinds.map(([k]) => [k, initialCount[k] ?? 0]),
  )
  const createsKind = world.streams.map(
    (s) => new Set(kinds.filter(([, e]) => e.createdBy.includes(s.name)).map(([k]) => k)),
  )
  const transitionsBy = world.streams.map((s) => transitions.get(s.name))
  const usesBy = world.streams.map((s) => byStream.get(s.name))
  // Streams that never carry entity ids (generic, no actors) skip the id bookkeeping.
  const mayHaveIds = world.streams.map((s) => s.behavior !== 'generic' || s.actors.length > 0)
  const counts = new Float64Array(world.streams.length)
  const steadyCounts = new Float64Array(world.streams.length)
  const nsum = new Float64Array(world.streams.length)
  let lastTs = START
  const onEvent = (ev: SimEvent) => {
    r.events++
    if (ev.ts < lastTs) r.outOfOrder++
    lastTs = ev.ts
    const si = world.streamIndex.get(ev.stream)!
    const steady = ev.ts > STEADY
    counts[si] = counts[si]! + 1
    if (steady) steadyCounts[si] = steadyCounts[si]! + 1
    nsum[si] = nsum[si]! + ev.normalizedValue
    // The thinned API log runs at a tenth of its rate on purpose: its signal rightly
    // reads far below the baseline, so it is left out of the normalized figures.
    if (si !== apiIndex) {
      r.weightedEvents++
      if (ev.normalizedValue >= 30 && ev.normalizedValue <= 70) r.normalizedInRange++
    }
    // orphans: every id refers to an entity created earlier (or initial / static)
    if (mayHaveIds[si]) {
      const creates = createsKind[si]!
      for (const key in ev.data) {
        const kind = kindOfIdField[key]
        if (kind === undefined) continue
        const id = ev.data[key] as string
        if (staticIds.has(id)) continue
        // Ids are <prefix><n>, numbered in creation order: a creation takes the next number,
        // a reference must name a number already created (the initial population is 1…N).
        const n = Number(id.slice(prefixOf[kind]!.length))
        if (creates.has(kind)) {
          if (n !== maxCreated[kind]! + 1)
            r.orphans.push(`${ev.stream} created ${id} out of sequence`)
          else maxCreated[kind] = n
        } else if (!(Number.isInteger(n) && n >= 1 && n <= maxCreated[kind]!)) {
          r.orphans.push(`${ev.stream} references unknown ${key} ${id}`)
        }
      }
    }
    // lifecycles: every transition starts from an allowed state
    const ts = transitionsBy[si]
    if (ts) {
      for (const t of ts) {
        const id = ev.data[t.idField] as string
        const map = states.get(t.entity)!
        const cur = map.get(id) ?? (isInitial(id, t.entity) ? t.initialState : undefined)
        const ok =
          t.from.length === 0 ? cur === undefined : cur !== undefined && t.from.includes(cur)
        if (!ok && r.lifecycleViolations.length < 20)
          r.lifecycleViolations.push(`${ev.stream} on ${id} in state ${cur}`)
        if (t.terminal) map.delete(id)
        else map.set(id, t.to)
      }
    }
    if (ev.stream === 'session.booking.requested') r.requested++
    else if (
      ev.stream === 'session.booking.confirmed' ||
      ev.stream === 'session.booking.declined' ||
      ev.stream === 'session.booking.expired'
    )
      r.answered++
    const uses = usesBy[si]
    if (!uses) return
    for (const u of uses) {
      if (!matches(u.sel, ev)) continue
      const t = tallies.get(u.name)!
      const me = metrics[u.name]!.measure
      if (u.role === 'den') {
        if (ev.ts > RATIO_DEN_END) continue
        t.den++
        for (const f of LINK_FIELDS) {
          const v = ev.data[f]
          if (v === undefined) continue
          let list = t.denIds.get(f)
          if (!list) t.denIds.set(f, (list = []))
          list.push(v)
        }
      } else if (u.role === 'num') {
        if (me.kind === 'ratio') {
          const f = LINK_FIELDS.find((k) => ev.data[k] !== undefined)!
          let list = t.nums.get(f)
          if (!list) t.nums.set(f, (list = []))
          list.push(ev.data[f])
        }
        t.all++
        if (steady) t.steady++
      } else {
        t.all++
        if (me.field) t.sum += ev.data[me.field] as number
        t.daily[Math.floor((ev.ts - 1 - START) / DAY)]!++
        t.hourly[hourOfDay(ev.ts - 1)]!++
      }
    }
  }

  for (let h = 1; h <= DAYS * 24; h++) {
    const to = START + h * HOUR
    for (const ev of engine.advance(to)) onEvent(ev)
    if (h % 24 === 0) r.samples.push(engine.stats<TutoringStats>())
  }
  r.final = engine.stats<TutoringStats>()
  world.streams.forEach((s, i) => {
    const scale = i === apiIndex ? 1 / API_SCALE : 1
    r.perStream.set(s.name, counts[i]! * scale)
    r.steadyPerStream.set(s.name, steadyCounts[i]! * scale)
    r.normalizedSum.set(s.name, { n: counts[i]!, sum: nsum[i]! })
  })
}, 180_000)

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const population = (samples: EngineStats<TutoringStats>[], entity: string): number =>
  mean(
    samples.map((s) => {
      if (entity === 'students') return s.world.entities.students
      if (entity === 'tutors') return s.world.entities.tutors
      if (entity.startsWith('students.'))
        return s.world.entities.studentsByCohort[entity.slice('students.'.length)]!
      throw new Error(`unknown entity ${entity}`)
    }),
  )

/** Measures one metric of baseline-metrics.json from the run. */
function measure(name: string): number {
  const m = metrics[name]!.measure
  const t = tallies.get(name)!
  switch (m.kind) {
    case 'ratio': {
      let linked = 0
      for (const [field, values] of t.nums) {
        const list = t.denIds.get(field)
        if (!list) throw new Error(`${name}: no denominator carries ${field}`)
        const ids = new Set(list)
        for (const v of values) if (ids.has(v)) linked++
      }
      return linked / t.den
    }
    case 'mean':
      return t.sum / t.all
    case 'perEntityDay': {
      // Session volumes need the pipeline filled: measure them on the steady part only.
      const steadyOnly = m.numerator!.every((s) => s.stream.startsWith('session.'))
      const samples = steadyOnly ? r.samples.filter((s) => s.now > STEADY) : r.samples
      return (
        ((steadyOnly ? t.steady : t.all) /
          (steadyOnly ? STEADY_DAYS : DAYS) /
          population(samples, m.entity!)) *
        (m.scale ?? 1)
      )
    }
    case 'population':
      return population(r.samples, m.entity!) / (m.per ? population(r.samples, m.per) : 1)
    case 'weekendUplift': {
      const we: number[] = []
      const wd: number[] = []
      for (let d = WARMUP_DAYS; d < DAYS; d++) {
        const dow = dayOfWeek(START + d * DAY)
        ;(dow === 0 || dow === 6 ? we : wd).push(t.daily[d]!)
      }
      return mean(we) / mean(wd) - 1
    }
    case 'peakRatio':
      return mean(t.hourly.slice(8, 22)) / mean([t.hourly[23]!, ...t.hourly.slice(0, 7)])
    case 'growth': {
      const w1 = t.daily.slice(WARMUP_DAYS, WARMUP_DAYS + 7).reduce((a, b) => a + b, 0)
      const w2 = t.daily.slice(WARMUP_DAYS + 7, WARMUP_DAYS + 14).reduce((a, b) => a + b, 0)
      return Math.pow(w2 / w1, 30 / 7) - 1
    }
  }
}

describe('engine statistics over 21 simulated days', () => {
  it('engine should produce every stream, in non-decreasing time, at about 10 events per second', () => {
    expect(r.final!.modifiers).toBe(1)
    expect(r.outOfOrder).toBe(0)
    for (const s of world.streams) expect(r.perStream.get(s.name) ?? 0, s.name).toBeGreaterThan(0)
    const steadyTotal = [...r.steadyPerStream.values()].reduce((a, b) => a + b, 0)
    const perSecond = steadyTotal / (STEADY_DAYS * 86_400)
    expect(perSecond).toBeGreaterThan(5)
    expect(perSecond).toBeLessThan(100)
    const busiest = [...r.steadyPerStream.entries()].sort((a, b) => b[1] - a[1])[0]![0]
    expect(busiest).toBe('system.api.request.log')
  })

  it('engine should reference only entities created by earlier events (no orphans)', () => {
    expect(r.orphans.slice(0, 10)).toEqual([])
  })

  it('engine should keep entity lifecycles in causal order', () => {
    expect(r.lifecycleViolations).toEqual([])
  })

  it('engine bookings should add up: requested = confirmed + declined + expired + pending', () => {
    expect(r.requested).toBeGreaterThan(100_000)
    expect(r.requested).toBe(r.answered + r.final!.world.entities.pendingBookings)
  })

  it('engine should land every baseline metric inside its range', () => {
    const results = Object.entries(metrics).map(([name, m]) => ({
      name,
      value: Number(measure(name).toFixed(4)),
      ...m.range,
    }))
    const outside = results.filter((x) => !(x.value >= x.min && x.value <= x.max))
    expect(outside, JSON.stringify(results)).toEqual([])
  })

  it('engine should keep at most maxStudentsPerTutor regular students per tutor', () => {
    for (const s of r.samples)
      expect(s.world.entities.maxStudentsPerTutor).toBeLessThanOrEqual(
        world.config.baseline.population.maxStudentsPerTutor,
      )
  })

  it('engine should keep each stream inside its cadence group', () => {
    const groups = world.config.cadences.groups
    const hours = STEADY_DAYS * 24
    const wrong = world.streams
      .map((s) => ({
        name: s.name,
        cadence: s.cadence,
        perHour: (r.steadyPerStream.get(s.name) ?? 0) / hours,
      }))
      .filter(
        (x) =>
          x.perHour < groups[x.cadence].eventsPerHour.min ||
          x.perHour > groups[x.cadence].eventsPerHour.max,
      )
    expect(wrong).toEqual([])
  })

  it('engine should put most normalized values between 30 and 70, centred on 50 per stream', () => {
    expect(r.normalizedInRange / r.weightedEvents).toBeGreaterThanOrEqual(0.8)
    const offCentre = [...r.normalizedSum.entries()]
      .filter(([name, s]) => s.n >= 200 && name !== API)
      .map(([name, s]) => ({ name, mean: s.sum / s.n }))
      .filter((x) => Math.abs(x.mean - 50) > 6)
    expect(offCentre).toEqual([])
  })
})
