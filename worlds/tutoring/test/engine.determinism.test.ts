/**
 * Determinism: the same world, seed and start give the same events whatever the
 * step pattern of advance() (the generator calls it every ~50 ms of wall time with
 * variable steps), including modifier changes made at the same simulation time;
 * another seed gives other events.
 */
import { describe, expect, it } from 'vitest'
import {
  DAY,
  HOUR,
  MINUTE,
  createEngine,
  createRng,
  type Engine,
  type SimEvent,
} from '@verisim/sim'
import { START, fnv, tutoring } from './helpers.js'

const world = tutoring()
/** Two thirds of all events are this log stream (no relationships); thinning it keeps the 7-day runs short. */
const THIN_API = { stream: 'system.api.request.log', multiplier: 0.1 }
const THIN_MORE = { stream: 'system.api.request.log', multiplier: 0.02 }

function sameEvent(a: SimEvent, b: SimEvent): boolean {
  if (
    a.ts !== b.ts ||
    a.stream !== b.stream ||
    a.normalizedValue !== b.normalizedValue ||
    a.anomalyFlag !== b.anomalyFlag
  )
    return false
  if (a.causes.length !== b.causes.length || a.causes.some((c, i) => c !== b.causes[i]))
    return false
  let n = 0
  for (const k in a.data) {
    n++
    if (a.data[k] !== b.data[k]) return false
  }
  for (const _ in b.data) n--
  return n === 0
}

/**
 * Drives `a` in fixed steps and `b` with `nextStep`, comparing their events one by
 * one as they come; returns the number compared (throws at the first difference).
 */
function compareRuns(
  a: Engine,
  b: Engine,
  end: number,
  stepA: number,
  nextStep: (now: number) => number,
  onTime?: (t: number) => void,
): number {
  const pendingB: SimEvent[] = []
  let head = 0
  let compared = 0
  for (let t = a.now + stepA; t <= end; t += stepA) {
    const evA = a.advance(t)
    while (b.now < t) {
      const to = Math.min(t, b.now + nextStep(b.now))
      for (const ev of b.advance(to)) pendingB.push(ev)
    }
    for (const ev of evA) {
      const other = pendingB[head++]
      if (!other || !sameEvent(ev, other)) {
        throw new Error(
          `runs differ at event #${compared}: ${JSON.stringify(ev)} vs ${JSON.stringify(other)}`,
        )
      }
      compared++
    }
    pendingB.splice(0, head)
    head = 0
    onTime?.(t)
  }
  expect(pendingB.length).toBe(0)
  return compared
}

describe('engine determinism', () => {
  const randomSteps = (seed: number) => {
    const steps = createRng(seed, 'steps')
    // from 1 ms to 3 h, mostly short (like a 50 ms wall tick at various speeds)
    return () => {
      const u = steps.next()
      if (u < 0.2) return 1
      return u < 0.9 ? Math.ceil(steps.next() * 20 * MINUTE) : Math.ceil(steps.next() * 3 * HOUR)
    }
  }

  it('engine should yield identical events over 7 days for 1-hour steps and random steps', () => {
    const a = createEngine({ world, seed: 42, start: START })
    const b = createEngine({ world, seed: 42, start: START })
    a.setModifiers([THIN_API])
    b.setModifiers([THIN_API])
    const n = compareRuns(a, b, START + 7 * DAY, HOUR, randomSteps(7))
    expect(n).toBeGreaterThan(1_500_000)
    expect(a.stats()).toEqual(b.stats())
    expect(Object.values(a.stats().eventsByStream).every((c) => c > 0)).toBe(true)
  }, 120_000)

  it('engine should yield identical events for the whole unthinned world over a day', () => {
    const a = createEngine({ world, seed: 3, start: START })
    const b = createEngine({ world, seed: 3, start: START })
    const n = compareRuns(a, b, START + DAY, HOUR, randomSteps(8))
    expect(n).toBeGreaterThan(500_000)
  }, 60_000)

  it('engine should yield identical events when modifiers change at the same simulation time', () => {
    const a = createEngine({ world, seed: 5, start: START })
    const b = createEngine({ world, seed: 5, start: START })
    const mods = [
      { stream: 'customer.payment.failed', multiplier: 8, cause: 'scenario:payment-outage' },
      { stream: 'session.*', multiplier: 1.5, cause: 'scenario:exam-season-surge' },
      { stream: 'system.api.request.log', valueMultiplier: 3, cause: 'external:aws-outage' },
    ]
    const apply = (e: Engine, t: number) => {
      if (t === START + 6 * HOUR) e.setModifiers(mods)
      if (t === START + 18 * HOUR) e.setModifiers([])
    }
    // b steps so that it lands exactly on the modifier times too
    const n = compareRuns(
      a,
      b,
      START + DAY,
      30 * MINUTE,
      (now) => (now < START + 6 * HOUR ? 7 * MINUTE : 11 * MINUTE),
      (t) => {
        apply(a, t)
        apply(b, t)
      },
    )
    expect(n).toBeGreaterThan(100_000)
  }, 60_000)

  it('engine should give the same events for one call and for 1 ms steps', () => {
    const a = createEngine({ world, seed: 11, start: START })
    const b = createEngine({ world, seed: 11, start: START })
    const end = START + 2 * MINUTE
    const all = a.advance(end)
    const stepped: SimEvent[] = []
    for (let t = START + 1; t <= end; t++) for (const ev of b.advance(t)) stepped.push(ev)
    expect(stepped).toEqual(all)
    expect(all.length).toBeGreaterThan(100)
  })

  it('engine should differ for another seed', () => {
    const a = createEngine({ world, seed: 42, start: START })
    const c = createEngine({ world, seed: 43, start: START })
    const ea = a.advance(START + HOUR)
    const ec = c.advance(START + HOUR)
    const differing = ea.slice(0, 1000).filter((ev, i) => !ec[i] || !sameEvent(ev, ec[i]!)).length
    expect(differing).toBeGreaterThan(900)
  })
})

describe('engine determinism with scenarios and external events', () => {
  /** A control log: commands with the simulation time they took effect (transitions when due). */
  type Command = { at: number; apply: (e: Engine) => void }
  const T0 = START + 6 * HOUR
  const commands: Command[] = [
    { at: T0, apply: (e) => e.activateScenario('exam-season-surge') },
    {
      at: T0 + HOUR,
      apply: (e) =>
        void e.injectExternalEvent({ templateId: 'tiktok-mention', timestamp: T0 - 2 * HOUR }),
    },
    {
      at: T0 + HOUR,
      apply: (e) =>
        void e.injectExternalEvent({ templateId: 'industry-report', timestamp: T0 + 3 * HOUR }),
    },
    { at: T0 + 5 * HOUR + 17 * MINUTE, apply: (e) => void e.stopScenario() },
    {
      at: T0 + 13 * HOUR + 17 * MINUTE,
      apply: (e) => void e.transitionScenario('run_1', 'settled'),
    },
    { at: T0 + 14 * HOUR, apply: (e) => void e.activateScenario('payment-outage') },
    { at: T0 + 16 * HOUR, apply: (e) => void e.transitionScenario('run_2', 'settling') },
    { at: T0 + 18 * HOUR, apply: (e) => void e.transitionScenario('run_2', 'settled') },
    { at: T0 + 19 * HOUR, apply: (e) => void e.activateScenario('quality-crisis') },
    { at: T0 + 30 * HOUR + 1, apply: (e) => e.reset() },
    { at: T0 + 31 * HOUR, apply: (e) => void e.activateScenario('support-overload') },
  ]
  const END = T0 + 40 * HOUR

  /** Runs the log with `step` deciding the advance() calls; returns a digest of every event and the final reports. */
  function run(step: (now: number) => number) {
    const e = createEngine({ world, seed: 99, start: START })
    e.setModifiers([THIN_MORE])
    let digest = 0x811c9dc5
    let n = 0
    const to = (target: number) => {
      while (e.now < target) {
        for (const ev of e.advance(Math.min(target, e.now + step(e.now)))) {
          digest = fnv(digest, JSON.stringify(ev))
          n++
        }
      }
    }
    for (const c of commands) {
      to(c.at)
      c.apply(e)
    }
    to(END)
    return {
      n,
      digest,
      status: e.scenarioStatus(),
      events: e.externalEvents(),
      correlations: e.correlations({ stream: 'customer.tutor.search' }),
      stats: e.stats(),
    }
  }

  it('engine should yield identical events for the same seed and control log whatever the steps', () => {
    const steps = createRng(8, 'steps')
    const a = run(() => HOUR)
    const b = run(() => {
      const u = steps.next()
      return u < 0.2
        ? 1
        : u < 0.9
          ? Math.ceil(steps.next() * 20 * MINUTE)
          : Math.ceil(steps.next() * 3 * HOUR)
    })
    expect(a.n).toBeGreaterThan(100_000)
    expect(b.n).toBe(a.n)
    expect(b.digest).toBe(a.digest)
    expect(b.status).toEqual(a.status)
    expect(b.events).toEqual(a.events)
    expect(b.correlations).toEqual(a.correlations)
    expect(b.stats).toEqual(a.stats)
    expect(a.status).toMatchObject({ id: 'support-overload', status: 'active' })
  }, 60_000)
})
