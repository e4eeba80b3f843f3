/**
 * The "Current state" panel's model: the running scenario's row (name, start,
 * time remaining, status) and the modified streams with their modifiers, from
 * the state as the generator writes it (types of @verisim/schema).
 */
import { describe, expect, it } from 'vitest'
import type { ActiveModifier, ScenarioStatus } from '@verisim/schema'
import { modifiedStreams, modifierEffect, scenarioRows } from '../src/lib/state-view.js'
import { readState } from '../src/lib/model.js'

const T0 = Date.parse('2026-11-02T08:00:00Z')
const HOUR = 3_600_000

const mod = (m: Partial<ActiveModifier>): ActiveModifier => ({
  source: 'scenario:payment-outage',
  stream: 'system.api.error',
  type: 'multiplier',
  target: 'rate',
  value: 5,
  declaredValue: 5,
  strength: 1,
  status: 'active',
  remainingMs: 4 * HOUR,
  ...m,
})

const scenario = (s: Partial<ScenarioStatus>): ScenarioStatus => ({
  runId: 'run_1',
  id: 'payment-outage',
  name: 'Payment outage',
  status: 'active',
  startedAt: T0,
  activeUntil: T0 + 2 * HOUR,
  settledBy: T0 + 4 * HOUR,
  nextTransition: { to: 'settling', at: T0 + 2 * HOUR },
  deviation: 4,
  modifiers: [],
  ...s,
})

describe('scenarioRows', () => {
  it('should give the active scenario its name, start, time to the end of its active phase and status', () => {
    expect(scenarioRows(scenario({}), T0 + 30 * 60_000)).toEqual([
      {
        id: 'payment-outage',
        runId: 'run_1',
        name: 'Payment outage',
        status: 'active',
        startedAt: T0,
        phaseEndsAt: T0 + 2 * HOUR,
        remainingMs: 90 * 60_000,
      },
    ])
  })

  it('should count a settling scenario down to its settlement, and show nothing once settled', () => {
    const settling = scenario({
      status: 'settling',
      settlingStartedAt: T0 + HOUR,
      settledBy: T0 + 3 * HOUR,
    })
    expect(scenarioRows(settling, T0 + 2 * HOUR)[0]).toMatchObject({
      status: 'settling',
      remainingMs: HOUR,
    })
    expect(scenarioRows(settling, T0 + 5 * HOUR)[0]!.remainingMs).toBe(0)
    expect(scenarioRows(scenario({ status: 'settled' }), T0)).toEqual([])
    expect(scenarioRows(null, T0)).toEqual([])
  })
})

describe('modifiedStreams', () => {
  it('should describe each modifier in effect as stream, target and effect, by stream then source', () => {
    const lines = modifiedStreams([
      mod({}),
      mod({ stream: 'customer.tutor.search', value: 2.5, source: 'scenario:exam-season-surge' }),
      mod({
        stream: 'customer.payment.failed',
        type: 'override',
        target: 'probability',
        value: 0.6,
      }),
      mod({ stream: 'support.chat.started', status: 'pending', value: 2 }),
      mod({ stream: 'system.api.request.log', status: 'settling', value: 1.25, strength: 0.5 }),
    ])
    expect(lines.map((l) => l.text)).toEqual([
      'customer.payment.failed probability = 0.6',
      'customer.tutor.search rate ×2.5',
      'system.api.error rate ×5',
      'system.api.request.log rate ×1.25',
    ])
    expect(lines[1]).toMatchObject({ source: 'scenario:exam-season-surge', status: 'active' })
    expect(lines[3]!.status).toBe('settling')
  })

  it('should sign additive and probability shifts', () => {
    expect(modifierEffect({ type: 'additive', value: 3 })).toBe('+3')
    expect(modifierEffect({ type: 'probabilityShift', value: -0.15 })).toBe('−0.15')
  })
})

describe('readState with the server state', () => {
  it("should keep the server's modifiers and read them into rows by source, stream and remainingMs", () => {
    const s = readState({
      currentSimulationTime: new Date(T0).toISOString(),
      scenario: scenario({}),
      activeModifiers: [mod({}), { nonsense: true }],
      activeEvents: [],
      recentAnomalies: [],
    })!
    expect(s.modifiers).toEqual([mod({})])
    expect(s.activeModifiers[0]).toMatchObject({
      name: 'payment-outage',
      scenarioId: 'payment-outage',
      status: 'active',
      timeRemaining: 4 * HOUR,
      streams: ['system.api.error'],
    })
    expect(s.scenario).toMatchObject({ name: 'Payment outage', status: 'active' })
  })
})
