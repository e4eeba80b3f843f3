/** `pause` holds the simulation where the engine stands, so the paused time never moves afterwards. */
import { loadWorldById } from '@verisim/worlds'
import { describe, expect, it } from 'vitest'
import { createEngine } from '@verisim/sim'
import { SimClock } from '../src/clock.js'
import { applyCommand } from '../src/control.js'

const world = loadWorldById('tutoring')
const START = Date.UTC(2025, 1, 24, 9)

describe('pause', () => {
  it('should hold at the time the engine reached, not where the wall clock moved the clock', () => {
    const engine = createEngine({ world, seed: 42, start: START })
    const clock = new SimClock({ start: START, speed: 600, wallNow: 0 })
    engine.advance(clock.now(1000)) // the last step: one wall second in
    const target = { clock, engine, state: () => ({ time: engine.now }) }
    // the command arrives 80 ms (48 simulated seconds) after that step
    const state = applyCommand({ requestId: 'p', action: 'pause', payload: {} }, target, 1080)
    expect(state).toEqual({ time: START + 600_000 })
    expect(clock.paused).toBe(true)
    expect(clock.now(5000)).toBe(engine.now)
    // and resumes from there
    applyCommand({ requestId: 'r', action: 'resume', payload: {} }, target, 6000)
    expect(clock.now(7000)).toBe(engine.now + 600_000)
  })
})
