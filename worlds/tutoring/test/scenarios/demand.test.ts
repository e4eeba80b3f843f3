/**
 * Demand-side scenarios on a fixed seed, each against the same-seed baseline:
 * exam-season-surge, churn-pattern, competitor-disruption, normal-operations.
 */
import { describe, expect, it } from 'vitest'
import { baselineUntil, checkScenario, describeChecks, world } from './harness.js'

describe('scenarios: demand', () => {
  it('exam-season-surge should raise searches, views and bookings, then settle linearly back to baseline', () => {
    const { checks, asserted } = checkScenario('exam-season-surge')
    console.log(describeChecks('exam-season-surge', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining(['customer.tutor.search', 'session.booking.requested']),
    )
  }, 60_000)

  it('churn-pattern should raise churn and lower logins and bookings, then settle', () => {
    const { checks, asserted } = checkScenario('churn-pattern')
    console.log(describeChecks('churn-pattern', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining(['customer.churned', 'customer.login']),
    )
  }, 60_000)

  it('competitor-disruption should lower signups and visits, raise cost per click and churn, then settle', () => {
    const { checks, asserted } = checkScenario('competitor-disruption')
    console.log(describeChecks('competitor-disruption', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining(['marketing.landing.visit', 'marketing.ad.click']),
    )
  }, 60_000)

  it('normal-operations should change nothing and announce its red herring', () => {
    const { run } = checkScenario('normal-operations')
    expect(world.scenarioSet.byId.get('normal-operations')!.modifiers).toEqual([])
    const ev = run.activation.events[0]!
    expect(ev.redHerring).toBe(true)
    expect(ev.modifiers).toEqual([])
    // nothing changed: every stream drew exactly the baseline's events
    const base = baselineUntil(run.end)
    for (let i = 0; i < world.streams.length; i++)
      expect(run.rec.count(i, 0, run.end), world.streams[i]!.name).toBe(base.count(i, 0, run.end))
  }, 60_000)
})
