/**
 * scenario-definitions.json and external-events-library.json: the tutoring world's
 * nine scenarios and six categories load, and every validation rule names the file,
 * the JSON path and the rule.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  SimErrorCode,
  WORLD_FILES,
  WorldConfigError,
  compileWorld,
  parseIsoDuration,
  formatIsoDuration,
  HOUR,
  DAY,
  MINUTE,
} from '@verisim/sim'
import { TUTORING_DIR, tutoring, tutoringModule } from './helpers.js'

type Raw = Record<
  'streams' | 'baseline' | 'relationships' | 'cadences' | 'scenarios' | 'externalEvents',
  any
>
const read = (f: string) => JSON.parse(readFileSync(join(TUTORING_DIR, f), 'utf8'))
const original: Raw = {
  streams: read(WORLD_FILES.streams),
  baseline: read(WORLD_FILES.baseline),
  relationships: read(WORLD_FILES.relationships),
  cadences: read(WORLD_FILES.cadences),
  scenarios: read(WORLD_FILES.scenarios),
  externalEvents: read(WORLD_FILES.externalEvents),
}
const DIR = 'config/worlds/tutoring'
const SCEN = join(DIR, WORLD_FILES.scenarios)
const LIB = join(DIR, WORLD_FILES.externalEvents)

function errorFor(mutate: (raw: Raw) => void): WorldConfigError {
  const raw = structuredClone(original)
  mutate(raw)
  try {
    compileWorld(raw, tutoringModule, DIR)
  } catch (err) {
    expect(err).toBeInstanceOf(WorldConfigError)
    expect((err as WorldConfigError).code).toBe(SimErrorCode.worldInvalid)
    return err as WorldConfigError
  }
  throw new Error('expected the world to be rejected')
}
const scenarioAt = (raw: Raw, id: string): number =>
  raw.scenarios.scenarios.findIndex((s: { id: string }) => s.id === id)
const templateAt = (raw: Raw, id: string): number =>
  raw.externalEvents.templates.findIndex((s: { id: string }) => s.id === id)

describe('scenario and external-event config', () => {
  it('load should read the nine scenarios with durations, curves and events', () => {
    const world = tutoring()
    const ids = world.scenarioSet.scenarios.map((s) => s.info.id)
    expect(ids).toEqual([
      'exam-season-surge',
      'supply-crisis',
      'payment-outage',
      'quality-crisis',
      'support-overload',
      'churn-pattern',
      'recruiting-crisis',
      'competitor-disruption',
      'normal-operations',
    ])
    const byId = world.scenarioSet.byId
    expect(byId.get('exam-season-surge')!.info).toMatchObject({
      settleCurve: 'linear',
      durationMs: 12 * HOUR,
    })
    expect(byId.get('exam-season-surge')!.info.settleMs).toBeGreaterThanOrEqual(6 * HOUR)
    expect(byId.get('exam-season-surge')!.info.settleMs).toBeLessThanOrEqual(12 * HOUR)
    expect(byId.get('payment-outage')!.info).toMatchObject({
      settleCurve: 'immediate',
      settleMs: 2 * HOUR,
    })
    expect(byId.get('payment-outage')!.backlog.length).toBeGreaterThan(0)
    expect(byId.get('quality-crisis')!.info.settleCurve).toBe('exponential')
    expect(byId.get('quality-crisis')!.info.settleMs).toBeGreaterThanOrEqual(DAY)
    for (const s of world.scenarioSet.scenarios) {
      expect(s.events.length, s.info.id).toBeGreaterThan(0)
      expect(s.info.name.length).toBeGreaterThan(0)
      expect(parseIsoDuration(s.info.duration)).toBe(s.info.durationMs)
      if (s.info.id !== 'normal-operations')
        expect(s.modifiers.length + s.cascades.length, s.info.id).toBeGreaterThan(2)
    }
  })

  it('library should cover the six categories with expected impact, severity and icon', () => {
    const t = tutoring().scenarioSet.templates
    expect(new Set(t.map((x) => x.category))).toEqual(
      new Set(['marketing', 'product', 'infrastructure', 'academic', 'competitive', 'operational']),
    )
    for (const x of t) {
      expect(x.icon.length).toBeGreaterThan(0)
      expect(['info', 'warning', 'critical']).toContain(x.severity)
      expect(x.expectedImpact.streams.length).toBeGreaterThan(0)
      expect(parseIsoDuration(x.expectedImpact.duration)).toBeGreaterThan(0)
      expect(parseIsoDuration(x.expectedImpact.delay)).toBeGreaterThanOrEqual(0)
      expect(x.redHerring || x.modifiers.length > 0).toBe(true)
    }
    expect(t.filter((x) => x.redHerring).length).toBeGreaterThanOrEqual(2)
  })

  it('a world without the files should have no scenarios', () => {
    const raw = structuredClone(original) as Partial<Raw>
    delete raw.scenarios
    delete raw.externalEvents
    const w = compileWorld(raw as Raw, tutoringModule, DIR)
    expect(w.scenarioSet.scenarios).toEqual([])
    expect(w.scenarioSet.templates).toEqual([])
  })

  it('validation should reject an unknown stream, naming file, path and rule', () => {
    const e = errorFor((r) => (r.scenarios.scenarios[0].modifiers[1].stream = 'customer.teleport'))
    expect(e.file).toBe(SCEN)
    expect(e.path).toBe('/scenarios/0/modifiers/1/stream')
    expect(e.expected).toContain('a stream of world tutoring')
    expect(e.message).toContain('customer.teleport')
    // wildcards are fine, unknown domains are not
    const w = errorFor((r) => (r.scenarios.scenarios[0].modifiers[1].stream = 'billing.*'))
    expect(w.path).toBe('/scenarios/0/modifiers/1/stream')
  })

  it('validation should reject non-positive multipliers and out-of-range probabilities', () => {
    const e = errorFor((r) => (r.scenarios.scenarios[0].modifiers[0].value = -2))
    expect(e.path).toBe('/scenarios/0/modifiers/0/value')
    expect(e.expected).toBe('a positive multiplier')
    const zero = errorFor((r) => (r.scenarios.scenarios[0].modifiers[0].value = 0))
    expect(zero.expected).toBe('a positive multiplier')
    const p = scenarioAt(original, 'payment-outage')
    const prob = errorFor((r) => (r.scenarios.scenarios[p].modifiers[0].value = 1.4))
    expect(prob.path).toBe(`/scenarios/${p}/modifiers/0/value`)
    expect(prob.expected).toContain('probability between 0 and 1')
  })

  it('validation should reject a modifier on a parameter the stream does not have', () => {
    // probability on a stream that is no chain outcome
    const a = errorFor((r) =>
      r.scenarios.scenarios[0].modifiers.push({
        stream: 'customer.login',
        type: 'probabilityShift',
        value: 0.1,
      }),
    )
    expect(a.path).toMatch(/^\/scenarios\/0\/modifiers\/\d+\/stream$/)
    expect(a.expected).toContain('chain outcomes')
    // an additive rate on a stream without an arrival of its own
    const b = errorFor((r) =>
      r.scenarios.scenarios[0].modifiers.push({
        stream: 'session.completed',
        type: 'additive',
        value: 20,
      }),
    )
    expect(b.expected).toContain('poisson or state arrival')
    // additive on a probability: use probabilityShift
    const c = errorFor((r) =>
      r.scenarios.scenarios[0].modifiers.push({
        stream: 'customer.payment.failed',
        type: 'additive',
        target: 'probability',
        value: 0.1,
      }),
    )
    expect(c.path).toMatch(/\/type$/)
  })

  it('validation should reject events that are not in the library', () => {
    const e = errorFor((r) => (r.scenarios.scenarios[0].events[0].templateId = 'alien-invasion'))
    expect(e.file).toBe(SCEN)
    expect(e.path).toBe('/scenarios/0/events/0/templateId')
    expect(e.expected).toContain('external-events-library.json')
    const noLib = errorFor((r) => delete (r as Partial<Raw>).externalEvents)
    expect(noLib.path).toBe('/scenarios/0/events/0/templateId')
    expect(noLib.expected).toContain('no library loaded')
  })

  it('validation should reject looping cascades and cascades without a cause', () => {
    const loop = errorFor((r) => {
      const s = r.scenarios.scenarios[0]
      s.cascades = [
        {
          id: 'a',
          description: 'x',
          trigger: 'customer.tutor.search',
          delay: 'PT1H',
          modifiers: [{ stream: 'support.chat.started', type: 'multiplier', value: 1.2 }],
        },
        {
          id: 'b',
          description: 'y',
          trigger: 'support.chat.started',
          delay: 'PT1H',
          modifiers: [{ stream: 'tutor.login', type: 'multiplier', value: 1.2 }],
        },
        {
          id: 'c',
          description: 'z',
          trigger: 'tutor.login',
          delay: 'PT1H',
          modifiers: [{ stream: 'support.chat.started', type: 'multiplier', value: 1.1 }],
        },
      ]
    })
    expect(loop.file).toBe(SCEN)
    expect(loop.path).toMatch(/^\/scenarios\/0\/cascades\/[12]\/trigger$/)
    expect(loop.expected).toMatch(/do not loop \((b → c → b|c → b → c)\)/)
    const orphan = errorFor(
      (r) => (r.scenarios.scenarios[0].cascades[0].trigger = 'tutor.payout.processed'),
    )
    expect(orphan.path).toBe('/scenarios/0/cascades/0/trigger')
    expect(orphan.expected).toContain('follows from an effect')
    const late = errorFor((r) => (r.scenarios.scenarios[0].cascades[0].delay = 'P2D'))
    expect(late.path).toBe('/scenarios/0/cascades/0/delay')
    expect(late.expected).toContain('within the scenario')
  })

  it('validation should reject bad durations and impacts that outlast the scenario', () => {
    const d = errorFor((r) => (r.scenarios.scenarios[0].duration = 'P1M'))
    expect(d.path).toBe('/scenarios/0/duration')
    const z = errorFor((r) => (r.scenarios.scenarios[0].duration = 'PT0S'))
    expect(z.expected).toContain('positive ISO 8601 duration')
    const long = errorFor(
      (r) =>
        (r.scenarios.scenarios[0].events[0].overrides = { expectedImpact: { duration: 'P5D' } }),
    )
    expect(long.path).toBe('/scenarios/0/events/0/offset')
    expect(long.expected).toContain('over when the scenario has settled')
  })

  it('validation should check library templates: streams, coverage and direction', () => {
    const i = templateAt(original, 'viral-blog-post')
    const cover = errorFor(
      (r) => (r.externalEvents.templates[i].modifiers[0].stream = 'tutor.login'),
    )
    expect(cover.file).toBe(LIB)
    expect(cover.path).toBe(`/templates/${i}/modifiers/0/stream`)
    expect(cover.expected).toContain('listed in expectedImpact.streams')
    const dir = errorFor((r) => (r.externalEvents.templates[i].modifiers[0].value = 0.5))
    expect(dir.path).toBe(`/templates/${i}/modifiers/0/value`)
    expect(dir.expected).toContain('declared direction "increase"')
    const empty = errorFor((r) => (r.externalEvents.templates[i].modifiers = []))
    expect(empty.path).toBe(`/templates/${i}/modifiers`)
    expect(empty.expected).toContain('redHerring')
    const dup = errorFor((r) => (r.externalEvents.templates[i + 1].id = 'viral-blog-post'))
    expect(dup.path).toBe(`/templates/${i + 1}/id`)
    const cat = errorFor((r) => (r.externalEvents.templates[i].category = 'weather'))
    expect(cat.file).toBe(LIB)
    expect(cat.path).toBe(`/templates/${i}/category`)
    expect(cat.expected).toContain('"marketing"')
    const world = errorFor((r) => (r.externalEvents.world = 'dining'))
    expect(world.path).toBe('/world')
  })

  it('schema errors in the scenario file should name the path', () => {
    const e = errorFor((r) => (r.scenarios.scenarios[0].settlement.curve = 'sigmoid'))
    expect(e.file).toBe(SCEN)
    expect(e.path).toBe('/scenarios/0/settlement/curve')
    expect(e.expected).toContain('"linear"')
    const extra = errorFor((r) => (r.scenarios.scenarios[0].colour = 'red'))
    expect(extra.path).toBe('/scenarios/0/colour')
  })

  it('ISO 8601 durations should parse and format', () => {
    expect(parseIsoDuration('PT8H')).toBe(8 * HOUR)
    expect(parseIsoDuration('P1DT12H')).toBe(36 * HOUR)
    expect(parseIsoDuration('PT90M')).toBe(90 * MINUTE)
    expect(parseIsoDuration('P2W')).toBe(14 * DAY)
    expect(parseIsoDuration('-PT3H')).toBeUndefined()
    expect(parseIsoDuration('-PT3H', { signed: true })).toBe(-3 * HOUR)
    expect(parseIsoDuration('P1M')).toBeUndefined()
    expect(parseIsoDuration('PT')).toBeUndefined()
    expect(formatIsoDuration(20 * HOUR)).toBe('PT20H')
    expect(formatIsoDuration(4 * DAY)).toBe('P4D')
    expect(formatIsoDuration(DAY + 30 * MINUTE)).toBe('P1DT30M')
    expect(formatIsoDuration(0)).toBe('PT0S')
  })
})
