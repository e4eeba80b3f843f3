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
})
