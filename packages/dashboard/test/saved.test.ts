import { describe, expect, it } from 'vitest'
import {
  loadSaved,
  makeSaved,
  parseImport,
  replayPlan,
  SAVED_KEY,
  storeSaved,
  upsert,
} from '../src/lib/saved.js'

const NOW = Date.parse('2026-11-23T10:00:00Z')

function memoryStorage() {
  const m = new Map<string, string>()
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    m,
  }
}

describe('saved scenarios', () => {
  const saved = makeSaved(
    'demo',
    'tutoring',
    NOW,
    [
      { id: 'm1', scenarioId: 'payment-outage', status: 'active' },
      { id: 'm2', stream: 'customer.signup', type: 'multiplier', value: 2 },
    ],
    [
      {
        timestamp: '2026-11-23T12:00:00Z',
        raw: { id: 'evt_1', title: 'Launch', timestamp: '2026-11-23T12:00:00Z', actualImpact: {} },
      },
    ],
  )

  it('should store events as offsets from the simulation time of saving', () => {
    expect(saved.events[0]!.offsetMs).toBe(2 * 3_600_000)
    expect(saved.simTime).toBe('2026-11-23T10:00:00.000Z')
  })

  it('should round-trip through storage and export/import, replacing by name', () => {
    const storage = memoryStorage()
    storeSaved(upsert(upsert([], saved), { ...saved, modifiers: [] }), storage)
    const back = loadSaved(storage)
    expect(back).toHaveLength(1)
    expect(back[0]!.modifiers).toEqual([])
    expect(
      parseImport(JSON.stringify([saved, { ...saved, name: 'other' }])).map((s) => s.name),
    ).toEqual(['demo', 'other'])
    storage.m.set(SAVED_KEY, 'not json')
    expect(loadSaved(storage)).toEqual([])
  })

  it('should refuse an import that is not a saved scenario, saying why', () => {
    expect(() => parseImport('{')).toThrow(/not JSON/)
    expect(() => parseImport('{"name":"x"}')).toThrow(/format/)
    expect(() => parseImport(JSON.stringify({ ...saved, events: [{}] }))).toThrow(/offsetMs/)
  })

  it('should plan a replay re-timed to now: scenarios by id, other modifiers, events without ids', () => {
    const plan = replayPlan(saved, NOW + 86_400_000)
    expect(plan.scenarioIds).toEqual(['payment-outage'])
    expect(plan.streamModifiers).toEqual([
      { id: 'm2', stream: 'customer.signup', type: 'multiplier', value: 2 },
    ])
    expect(plan.events).toEqual([{ title: 'Launch', timestamp: '2026-11-24T12:00:00.000Z' }])
  })

  it("should replay the state's modifiers as adjust_behavior payloads and scenarios by their source", () => {
    const s = makeSaved(
      'state',
      'tutoring',
      NOW,
      [
        {
          source: 'scenario:exam-season-surge',
          stream: 'customer.tutor.search',
          type: 'multiplier',
          target: 'rate',
          value: 1.8,
          declaredValue: 1.8,
          strength: 1,
          status: 'active',
          remainingMs: 3_600_000,
        },
        { source: 'external:evt_1', stream: 'session.*', type: 'multiplier', value: 1.2 },
        {
          source: 'manual:mod_1',
          id: 'mod_1',
          stream: 'support.ticket.created',
          type: 'additive',
          target: 'rate',
          value: 10,
          declaredValue: 10,
          strength: 1,
          status: 'active',
          remainingMs: 90 * 60_000,
          startTime: '2026-11-23T09:30:00.000Z',
          endsAt: '2026-11-23T11:30:00.000Z',
          description: 'manual: support.ticket.created rate +10',
        },
        {
          source: 'manual:open',
          id: 'open',
          stream: 'customer.*',
          type: 'multiplier',
          target: 'value',
          value: 0.5,
          declaredValue: 0.5,
          remainingMs: null,
        },
      ],
      [],
    )
    const plan = replayPlan(s, NOW)
    expect(plan.scenarioIds).toEqual(['exam-season-surge'])
    expect(plan.streamModifiers).toEqual([
      {
        stream: 'support.ticket.created',
        type: 'additive',
        target: 'rate',
        value: 10,
        duration: 'PT1H30M',
        id: 'mod_1',
      },
      { stream: 'customer.*', type: 'multiplier', target: 'value', value: 0.5, id: 'open' },
    ])
  })
})
