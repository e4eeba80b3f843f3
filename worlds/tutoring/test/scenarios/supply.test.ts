/**
 * Supply-side and payment scenarios on a fixed seed, each against the same-seed
 * baseline: supply-crisis, recruiting-crisis, payment-outage (immediate return plus
 * a backlog spike).
 */
import { describe, expect, it } from 'vitest'
import { HOUR, MINUTE } from '@verisim/sim'
import { baselineUntil, checkScenario, describeChecks, world } from './harness.js'

describe('scenarios: supply and payments', () => {
  it('supply-crisis should lose tutors, confirm fewer requests, raise tutor no-shows and complaints, then settle', () => {
    const { checks, asserted } = checkScenario('supply-crisis')
    console.log(describeChecks('supply-crisis', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining(['tutor.login', 'session.booking.confirmed', 'session.noshow.tutor']),
    )
  }, 60_000)

  it('recruiting-crisis should cut applications, raise recruiting ad clicks and spend, then settle', () => {
    const { checks, asserted } = checkScenario('recruiting-crisis')
    console.log(describeChecks('recruiting-crisis', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining(['marketing.ad.click', 'marketing.ad.spend']),
    )
  }, 60_000)

  it('payment-outage should fail most charges, return at once when fixed and leave a backlog spike', () => {
    const { run, checks, asserted } = checkScenario('payment-outage', { after: 14 * HOUR })
    console.log(describeChecks('payment-outage', checks))
    expect(asserted.map((c) => c.stream)).toEqual(
      expect.arrayContaining(['customer.payment.failed', 'system.api.error']),
    )
    const base = baselineUntil(run.end)
    const s = (name: string) => world.streamIndex.get(name)!
    const settle = [run.activeEnd, run.activeEnd + 30 * MINUTE] as const
    // immediate: failures back to the baseline share as soon as it is fixed
    const failedShare = (r: typeof base) => {
      const f = r.count(s('customer.payment.failed'), settle[0] + 15 * MINUTE, run.settledAt)
      const ok = r.count(s('customer.payment.succeeded'), settle[0] + 15 * MINUTE, run.settledAt)
      return f / (f + ok)
    }
    expect(failedShare(run.rec)).toBeLessThan(0.1)
    expect(failedShare(base)).toBeLessThan(0.1)
    // backlog: retries and tickets spike in the first half hour of settling
    for (const name of ['system.api.request.log', 'support.ticket.created']) {
      const A = run.rec.count(s(name), ...settle)
      const B = base.count(s(name), ...settle)
      expect(A / B, `${name} backlog spike`).toBeGreaterThan(1.3)
      expect((A - B) / Math.sqrt(A + B), `${name} backlog spike beyond noise`).toBeGreaterThan(3)
    }
  }, 60_000)
})
