/**
 * applyCommand for `set_scenario` (409 while active, a settling one replaced) and
 * for `adjust_behavior`: the payload is checked against its schema
 * (the add form or the clear form) and then against the world, errors name the
 * field, and the result carries the modifier and the new state.
 */
import { loadWorldById } from '@verisim/worlds'
import { describe, expect, it } from 'vitest'
import type { ControlCommand } from '@verisim/schema'
import { createEngine, HOUR, type Engine } from '@verisim/sim'
import { SimClock } from '../src/clock.js'
import { applyCommand, ControlError } from '../src/control.js'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24, 9)

function setup(): { engine: Engine; apply: (payload: unknown) => Record<string, any> } {
  const engine = createEngine({ world, seed: 42, start: START })
  engine.setModifiers([{ stream: 'system.api.request.log', multiplier: 0.02 }])
  const clock = new SimClock({ start: START, speed: 1, wallNow: 0 })
  const target = {
    clock,
    engine,
    state: () => ({ activeModifiers: engine.activeModifiers() }),
  }
  let n = 0
  const apply = (payload: unknown) => {
    const cmd: ControlCommand = {
      requestId: `r${++n}`,
      action: 'adjust_behavior',
      payload: payload as Record<string, unknown>,
    }
    return applyCommand(cmd, target, 0) as Record<string, any>
  }
  return { engine, apply }
}

function refused(fn: () => unknown): ControlError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ControlError)
    return err as ControlError
  }
  throw new Error('expected a ControlError')
}

describe('adjust_behavior', () => {
  it('should add a manual modifier at the simulation time reached and return it with the state', () => {
    const { engine, apply } = setup()
    engine.advance(START + HOUR)
    const r = apply({
      stream: 'customer.tutor.search',
      type: 'multiplier',
      value: 1.5,
      duration: 'PT2H',
    })
    expect(r.success).toBe(true)
    expect(r.modifier).toMatchObject({
      id: 'mod_1',
      cause: 'manual:mod_1',
      target: 'rate',
      startTime: new Date(START + HOUR).toISOString(),
      endsAt: new Date(START + 3 * HOUR).toISOString(),
    })
    expect(r.state.activeModifiers).toEqual([
      expect.objectContaining({ source: 'manual:mod_1', status: 'active', remainingMs: 2 * HOUR }),
    ])
    const events = engine.advance(START + 2 * HOUR)
    const search = events.filter((e) => e.stream === 'customer.tutor.search')
    expect(search.length).toBeGreaterThan(0)
    expect(search.every((e) => e.causes.includes('manual:mod_1'))).toBe(true)
  })

  it('should clear one modifier by id, or all of them', () => {
    const { engine, apply } = setup()
    apply({ stream: 'customer.*', type: 'multiplier', value: 2, id: 'demand' })
    apply({ stream: 'support.ticket.created', type: 'additive', value: 10 })
    const one = apply({ clear: 'demand' })
    expect(one).toMatchObject({ success: true, cleared: [{ id: 'demand' }] })
    expect(one.state.activeModifiers.map((m: { id: string }) => m.id)).toEqual(['mod_1'])
    const all = apply({ clear: true })
    expect(all.cleared.map((m: { id: string }) => m.id)).toEqual(['mod_1'])
    expect(engine.activeModifiers()).toEqual([])
    const e = refused(() => apply({ clear: 'demand' }))
    expect(e).toMatchObject({ code: 'VS_SIM_UNKNOWN_MODIFIER', status: 404 })
  })

  it('should refuse a payload its schema rejects, naming the field of the form meant', () => {
    const { apply } = setup()
    const bad = (payload: unknown) => refused(() => apply(payload))
    const type = bad({ stream: 'customer.tutor.search', type: 'times', value: 2 })
    expect(type).toMatchObject({ code: 'VS_GEN_INVALID_PAYLOAD', status: 400 })
    expect(type.message).toBe(
      'invalid payload for "adjust_behavior": /type: must be one of "multiplier", "additive", "override", "probabilityShift"',
    )
    expect(bad({ stream: 'customer.tutor.search', type: 'multiplier' }).message).toContain(
      'missing required field "value"',
    )
    expect(
      bad({ stream: 'customer.tutor.search', type: 'multiplier', value: 2, foo: 1 }).message,
    ).toContain('unexpected field "foo"')
    const clear = bad({ clear: false })
    expect(clear.message).toContain('/clear')
    expect(clear.message).not.toContain('"stream"')
    expect(bad({ clear: true, stream: 'x' }).message).toContain('unexpected field "stream"')
  })

  it('should refuse what the world rejects with 400 naming the field and the expectation', () => {
    const { engine, apply } = setup()
    const bad = (payload: unknown) => refused(() => apply(payload))
    const stream = bad({ stream: 'customer.nothing', type: 'multiplier', value: 2 })
    expect(stream).toMatchObject({ code: 'VS_SIM_BAD_ARGUMENT', status: 400 })
    expect(stream.message).toBe(
      'stream: expected a stream of world tutoring (an exact name, "<domain>.*" or "*"), found "customer.nothing"',
    )
    expect(
      bad({ stream: 'customer.tutor.search', type: 'multiplier', value: 2, duration: '2h' })
        .message,
    ).toMatch(/^duration: expected a positive ISO 8601 duration/)
    expect(bad({ stream: 'customer.tutor.search', type: 'multiplier', value: 0 }).message).toBe(
      'value: expected a positive multiplier, found 0',
    )
    expect(engine.manualModifiers()).toEqual([])
  })
})

describe('set_scenario', () => {
  function run(engine: Engine, action: ControlCommand['action'], payload = {}) {
    const clock = new SimClock({ start: START, speed: 1, wallNow: 0 })
    const cmd: ControlCommand = { requestId: 'r', action, payload }
    return applyCommand(cmd, { clock, engine, state: () => ({}) }, 0) as Record<string, any>
  }

  it('should answer 409 VS_SIM_SCENARIO_ACTIVE while another scenario is active', () => {
    const { engine } = setup()
    run(engine, 'set_scenario', { scenarioId: 'exam-season-surge' })
    const err = refused(() => run(engine, 'set_scenario', { scenarioId: 'payment-outage' }))
    expect(err).toMatchObject({ code: 'VS_SIM_SCENARIO_ACTIVE', status: 409 })
  })

  it('should replace a settling scenario and say so in the answer', () => {
    const { engine } = setup()
    const first = run(engine, 'set_scenario', { scenarioId: 'exam-season-surge' })
    expect(first).not.toHaveProperty('replaced')
    engine.advance(START + HOUR)
    run(engine, 'stop_scenario')
    engine.advance(START + 2 * HOUR)
    const r = run(engine, 'set_scenario', { scenarioId: 'payment-outage' })
    expect(r).toMatchObject({
      success: true,
      scenario: { id: 'payment-outage' },
      runId: 'run_2',
      replaced: { scenarioId: 'exam-season-surge', runId: first.runId, phase: 'settling' },
    })
    // the old run's settling job, when it fires, is a no-op
    const t = run(engine, 'scenario_transition', { runId: first.runId, to: 'settled' })
    expect(t).toMatchObject({ applied: false, scenario: { runId: 'run_2', status: 'active' } })
  })
})
