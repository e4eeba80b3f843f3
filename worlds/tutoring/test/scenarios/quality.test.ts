/**
 * Quality and support scenarios on a fixed seed, each against the same-seed
 * baseline: quality-crisis (exponential settlement over days), support-overload.
 */
import { describe, expect, it } from 'vitest'
import { HOUR } from '@verisim/sim'
import { baselineUntil, checkScenario, describeChecks, world } from './harness.js'

describe('scenarios: quality and support', () => {
  it('quality-crisis should degrade video quality, raise no-shows, tickets and later churn, then settle exponentially', () => {
    const { run, checks, asserted } = checkScenario('quality-crisis')
    console.log(describeChecks('quality-crisis', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining([
        'system.video.quality',
        'support.ticket.created',
        'session.noshow.tutor',
      ]),
    )
    // exponential: most of the way back after a third of the settlement, still above baseline before that
    const base = baselineUntil(run.end)
    const tickets = world.streamIndex.get('support.ticket.created')!
    const ratio = (a: number, b: number) => run.rec.count(tickets, a, b) / base.count(tickets, a, b)
    const s0 = run.activeEnd
    expect(ratio(s0, s0 + 12 * HOUR)).toBeGreaterThan(1.15)
    expect(ratio(s0 + 48 * HOUR, s0 + 72 * HOUR)).toBeLessThan(1.1)
    expect(run.deviations[1]! / run.deviations[0]!).toBeLessThan(0.7)
  }, 60_000)

  it('support-overload should flood support, lengthen waits, raise escalations and lower satisfaction, then settle', () => {
    const { checks, asserted } = checkScenario('support-overload')
    console.log(describeChecks('support-overload', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining([
        'support.ticket.created',
        'support.chat.started',
        'support.ticket.assigned',
        'support.ticket.escalated',
      ]),
    )
  }, 60_000)
})
