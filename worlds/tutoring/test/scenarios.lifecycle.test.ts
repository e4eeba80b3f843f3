/**
 * Scenario lifecycle through the Engine API: activation, one at a time (409-type
 * errors while one is active, a settling one replaced), stop → settling, transitions that no longer apply, settlement curves,
 * reset back to the baseline, and scenarios in sequence.
 */
import { describe, expect, it } from 'vitest'
import {
  HOUR,
  MINUTE,
  SimError,
  SimErrorCode,
  createEngine,
  restoreEngine,
  settleStrength,
  settleStepMs,
  type Engine,
  type SimEvent,
} from '@verisim/sim'
import { START, tutoring } from './helpers.js'

const world = tutoring()
const THIN = { stream: 'system.api.request.log', multiplier: 0.02 }
const T0 = START + 6 * HOUR

function engine(seed = 3): Engine {
  const e = createEngine({ world, seed, start: START })
  e.setModifiers([THIN])
  e.advance(T0)
  return e
}

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SimError)
    return (err as SimError).code
  }
  throw new Error('expected an error')
}

const count = (evs: readonly SimEvent[], stream: string) =>
  evs.filter((e) => e.stream === stream).length

describe('scenario lifecycle', () => {
  it('scenarios() should list every scenario with its durations', () => {
    const list = engine().scenarios()
    expect(list).toHaveLength(9)
    const exam = list.find((s) => s.id === 'exam-season-surge')!
    expect(exam).toEqual({
      id: 'exam-season-surge',
      name: 'Exam season surge',
      description: expect.any(String),
      duration: 'PT12H',
      durationMs: 12 * HOUR,
      settleCurve: 'linear',
      settleDuration: 'PT8H',
      settleMs: 8 * HOUR,
    })
  })

  it('activateScenario should start a run at now and report its schedule, events and conflicts', () => {
    const e = engine()
    const a = e.activateScenario('exam-season-surge')
    expect(a.runId).toBe('run_1')
    expect(a.scenario.id).toBe('exam-season-surge')
    expect(a.activeUntil).toBe(T0 + 12 * HOUR)
    expect(a.settledBy).toBe(T0 + 20 * HOUR)
    expect(a.estimatedDuration).toBe('PT20H')
    expect(a.events.map((x) => x.type)).toEqual(['ib-exam-season', 'sat-exam-date'])
    expect(a.events.map((x) => x.id)).toEqual(['evt_1', 'evt_2'])
    expect(a.events[1]!.at).toBe(T0 + 4 * HOUR)
    expect(a.events[1]!.timing).toBe('future')
    // the IB event multiplies onto the scenario's own search and booking modifiers: reported, resolution "composed"
    const search = a.warnings.find(
      (w) => w.stream === 'customer.tutor.search' && w.target === 'rate',
    )!
    expect(search.sources).toEqual(['scenario:exam-season-surge', 'external:evt_1'])
    expect(search.resolution).toBe('composed')
    expect(e.stats().modifierConflicts).toEqual(a.warnings)
    const st = e.scenarioStatus()!
    expect(st).toMatchObject({
      runId: 'run_1',
      id: 'exam-season-surge',
      status: 'active',
      startedAt: T0,
      nextTransition: { to: 'settling', at: T0 + 12 * HOUR },
    })
    // cascades not yet started are listed as pending
    const chat = st.modifiers.find((m) => m.stream === 'support.chat.started')!
    expect(chat).toMatchObject({ status: 'pending', role: 'cascade:support-strain', strength: 0 })
    e.advance(T0 + 2 * HOUR)
    expect(
      e.scenarioStatus()!.modifiers.find((m) => m.stream === 'support.chat.started'),
    ).toMatchObject({ status: 'active', strength: 1, value: 1.5 })
    const mods = e.activeModifiers()
    expect(
      mods.find((m) => m.source === 'external:evt_1' && m.stream === 'customer.tutor.search'),
    ).toMatchObject({ status: 'active', value: 1.25, remainingMs: 10 * HOUR })
    expect(mods.find((m) => m.source === 'external:evt_2')).toMatchObject({ status: 'pending' })
    expect(
      mods.find(
        (m) => m.source === 'scenario:exam-season-surge' && m.stream === 'customer.tutor.search',
      )!.remainingMs,
    ).toBe(18 * HOUR)
  })

  it('activateScenario should refuse an unknown id and a second scenario while one is active', () => {
    const e = engine()
    expect(code(() => e.activateScenario('alien-invasion'))).toBe(SimErrorCode.unknownScenario)
    expect(code(() => e.activateScenario('alien-invasion'))).toBe('VS_SIM_UNKNOWN_SCENARIO')
    e.activateScenario('payment-outage')
    expect(code(() => e.activateScenario('exam-season-surge'))).toBe('VS_SIM_SCENARIO_ACTIVE')
    // the refusal changed nothing
    expect(e.scenarioStatus()).toMatchObject({ runId: 'run_1', status: 'active' })
    e.stopScenario()
    expect(code(() => e.stopScenario())).toBe('VS_SIM_NO_ACTIVE_SCENARIO')
    const st = e.scenarioStatus()!
    e.advance(st.nextTransition!.at)
    expect(e.transitionScenario(st.runId, 'settled')).toBe(true)
    // settled: the next one starts, replacing nothing
    const a = e.activateScenario('exam-season-surge')
    expect(a.runId).toBe('run_2')
    expect(a.replaced).toBeUndefined()
  })

  it('activateScenario should replace a settling scenario: it ends now, its transitions become no-ops', () => {
    const e = engine()
    const old = e.activateScenario('exam-season-surge')
    e.advance(T0 + 3 * HOUR)
    e.stopScenario()
    e.advance(T0 + 4 * HOUR)
    expect(e.scenarioStatus()).toMatchObject({ runId: old.runId, status: 'settling' })
    const T1 = T0 + 4 * HOUR
    const a = e.activateScenario('payment-outage')
    expect(a.replaced).toEqual({
      scenarioId: 'exam-season-surge',
      runId: old.runId,
      phase: 'settling',
    })
    expect(e.scenarioStatus()).toMatchObject({
      runId: a.runId,
      id: 'payment-outage',
      status: 'active',
      startedAt: T1,
    })
    // the old run's modifiers are gone from now on, its scheduled transition does nothing
    const sources = new Set(e.activeModifiers().map((m) => m.source))
    expect(sources.has('scenario:exam-season-surge')).toBe(false)
    expect(sources.has('scenario:payment-outage')).toBe(true)
    expect(e.transitionScenario(old.runId, 'settled')).toBe(false)
    expect(e.scenarioStatus()).toMatchObject({ runId: a.runId, status: 'active' })
    // the old run's external events (one still to come, one running) no longer shape events
    const oldEvents = new Set(old.events.map((x) => `external:${x.id}`))
    const later = e.advance(T1 + 6 * HOUR)
    expect(later.length).toBeGreaterThan(0)
    const causes = new Set(later.flatMap((x) => x.causes))
    expect(causes.has('scenario:exam-season-surge')).toBe(false)
    expect([...causes].filter((c) => oldEvents.has(c))).toEqual([])
    expect(causes.has('scenario:payment-outage')).toBe(true)
    // a search well after the replacement is back to the baseline rate's causes: none
    expect(
      later.filter((x) => x.stream === 'customer.tutor.search').every((x) => x.causes.length === 0),
    ).toBe(true)
  })

  it('a replacement should replay the same from a snapshot', () => {
    const run = (e: Engine): SimEvent[] => e.advance(T0 + 12 * HOUR)
    const e = engine()
    e.activateScenario('exam-season-surge')
    e.advance(T0 + 2 * HOUR)
    e.stopScenario()
    e.advance(T0 + 3 * HOUR)
    e.activateScenario('payment-outage')
    e.advance(T0 + 3 * HOUR + 30 * MINUTE)
    const copy = restoreEngine(world, e.snapshot())
    expect(copy.scenarioStatus()).toEqual(e.scenarioStatus())
    expect(run(copy)).toEqual(run(e))
  })

  it('stopScenario should need an active scenario and start settling now', () => {
    const e = engine()
    expect(code(() => e.stopScenario())).toBe('VS_SIM_NO_ACTIVE_SCENARIO')
    const a = e.activateScenario('exam-season-surge')
    e.advance(T0 + 3 * HOUR)
    const s = e.stopScenario()
    expect(s).toEqual({ runId: a.runId, settlingUntil: T0 + 3 * HOUR + 8 * HOUR })
    const st = e.scenarioStatus()!
    expect(st.status).toBe('settling')
    expect(st.settlingStartedAt).toBe(T0 + 3 * HOUR)
    expect(st.nextTransition).toEqual({ to: 'settled', at: T0 + 11 * HOUR })
    expect(st.modifiers.every((m) => m.status === 'settling')).toBe(true)
    // the SAT event (due at +4 h) belonged to the script: cancelled; the IB event keeps its window
    expect(e.externalEvents().map((x) => x.type)).toEqual(['ib-exam-season'])
    // the scheduled active → settling transition of this run no longer applies
    expect(e.transitionScenario(a.runId, 'settling')).toBe(false)
    expect(e.transitionScenario('run_99', 'settled')).toBe(false)
  })

  it('settling should follow the curve: linear steps down, exponential decays, immediate ends at once', () => {
    const e = engine()
    const a = e.activateScenario('exam-season-surge')
    e.advance(a.activeUntil)
    expect(e.transitionScenario(a.runId, 'settling')).toBe(true)
    const strengths: number[] = []
    for (let t = a.activeUntil; t <= a.settledBy; t += HOUR) {
      e.advance(t)
      const m = e
        .scenarioStatus()!
        .modifiers.find((x) => x.stream === 'customer.tutor.search' && x.role === 'direct')
      strengths.push(m ? m.strength : 0)
    }
    // 15-minute steps evaluated at their midpoints: 1 − (k + 0.5)/32 at the start of each hour
    expect(strengths.slice(0, 8)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((h) => 1 - (h * 4 + 0.5) / 32),
    )
    expect(strengths[8]).toBe(0)
    expect(e.scenarioStatus()!.deviation).toBe(0)
    expect(e.activeModifiers().filter((m) => m.source.startsWith('scenario:'))).toEqual([])
    expect(e.scenarioStatus()!.status).toBe('settling') // until the generator applies the transition
    expect(e.transitionScenario(a.runId, 'settled')).toBe(true)
    expect(e.scenarioStatus()).toMatchObject({
      status: 'settled',
      settledAt: a.settledBy,
      nextTransition: null,
    })
    expect(e.transitionScenario(a.runId, 'settled')).toBe(false)

    // pure functions of time since settling started
    expect(settleStepMs(8 * HOUR)).toBe(15 * MINUTE)
    expect(settleStepMs(2 * HOUR)).toBe(5 * MINUTE)
    expect(settleStrength('immediate', 2 * HOUR, 10, 0)).toBe(0)
    const D = 72 * HOUR
    const dev = 2 // quality-crisis: tutor no-shows × 3
    const first = settleStrength('exponential', D, dev, 0)
    const last = settleStrength('exponential', D, dev, D - 1)
    expect(first).toBeGreaterThan(0.95)
    expect(dev * last).toBeGreaterThan(0.05) // still just above 5 % in the last step …
    expect(dev * last).toBeLessThan(0.052)
    expect(settleStrength('exponential', D, dev, D)).toBe(0) // … and at baseline from the settlement duration on
  })

  it('transitionScenario should be a no-op for another run and after reset', () => {
    const e = engine()
    const a = e.activateScenario('churn-pattern')
    expect(e.transitionScenario('run_7', 'settling')).toBe(false)
    expect(e.scenarioStatus()!.status).toBe('active')
    e.reset()
    expect(e.scenarioStatus()).toBeNull()
    expect(e.transitionScenario(a.runId, 'settling')).toBe(false)
    expect(e.transitionScenario(a.runId, 'settled')).toBe(false)
  })

  it('reset should clear scenario, modifiers and injected events and restore the baseline', () => {
    const e = engine(5)
    const base = engine(5)
    e.activateScenario('exam-season-surge')
    e.injectExternalEvent({ templateId: 'tiktok-mention', timestamp: T0 + HOUR })
    e.advance(T0 + 2 * HOUR)
    base.advance(T0 + 2 * HOUR)
    expect(e.activeModifiers().length).toBeGreaterThan(3)
    e.reset()
    expect(e.scenarioStatus()).toBeNull()
    expect(e.activeModifiers()).toEqual([])
    expect(e.externalEvents()).toEqual([])
    expect(e.stats().modifiers).toBe(1) // setModifiers' thinning stays
    expect(e.stats().modifierConflicts).toEqual([])
    const later = T0 + 2 * HOUR + 4 * HOUR
    const ea = e.advance(later)
    const eb = base.advance(later)
    // no causes anywhere after the reset
    expect(
      ea.filter((x) =>
        x.causes.some((c) => c.startsWith('scenario:') || c.startsWith('external:')),
      ),
    ).toEqual([])
    // rates back to baseline (independent draws now: within noise)
    for (const s of [
      'customer.tutor.search',
      'customer.tutor.profile.view',
      'customer.login',
      'session.booking.requested',
    ]) {
      const r = count(ea, s) / count(eb, s)
      expect(Math.abs(r - 1), s).toBeLessThan(
        0.05 + 3 * Math.sqrt(1 / count(ea, s) + 1 / count(eb, s)),
      )
    }
    // a reset engine can start again; run and event ids keep counting
    const again = e.activateScenario('payment-outage')
    expect(again.runId).toBe('run_2')
    expect(again.events[0]!.id).toBe('evt_4')
  })

  it('scenarios should run in sequence, not concurrently', () => {
    const e = engine()
    for (const id of ['payment-outage', 'normal-operations', 'payment-outage']) {
      const a = e.activateScenario(id)
      e.advance(a.activeUntil)
      expect(e.transitionScenario(a.runId, 'settling')).toBe(true)
      const st = e.scenarioStatus()!
      e.advance(st.nextTransition!.at)
      expect(e.transitionScenario(a.runId, 'settled')).toBe(true)
      expect(e.scenarioStatus()!.status).toBe('settled')
    }
    expect(e.scenarioStatus()!.runId).toBe('run_3')
  })

  it('a transition applied late should start settling when it is applied (the control log records that time)', () => {
    const e = engine()
    const a = e.activateScenario('payment-outage')
    e.advance(a.activeUntil + 10 * MINUTE) // the job fired late
    expect(e.scenarioStatus()!.status).toBe('active')
    expect(e.transitionScenario(a.runId, 'settling')).toBe(true)
    expect(e.scenarioStatus()!.settlingStartedAt).toBe(a.activeUntil + 10 * MINUTE)
    expect(e.scenarioStatus()!.nextTransition!.at).toBe(a.activeUntil + 10 * MINUTE + 2 * HOUR)
  })
})
