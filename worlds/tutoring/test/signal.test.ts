/**
 * The stream signal on the tutoring world (docs/SIGNAL.md): every scenario's
 * primary streams are flagged within 30 simulated minutes; the flags are mostly
 * true; the red herring adds none; the baseline runs stay quiet. The same
 * scorecard as `pnpm bench score`, on one seed (the bench runs three). A quiet
 * week on another seed is the conformance suite's (every world runs it).
 */
import { describe, expect, it } from 'vitest'
import { runScorecard, type Scorecard } from '@verisim/sim/scorecard'
import { START, tutoring } from './helpers.js'

describe('stream signal', () => {
  describe('scorecard, seed 42', () => {
    let card: Scorecard
    const get = () => (card ??= runScorecard({ world: tutoring(), seeds: [42], start: START }))

    it('should keep the baseline runs quiet', () => {
      const c = get()
      expect(c.baseline.events).toBeGreaterThan(10_000_000)
      expect(c.baseline.warningShare).toBeLessThanOrEqual(0.02)
      expect(c.baseline.criticalShare).toBeLessThanOrEqual(0.002)
    }, 600_000)

    it('should flag the primary streams of every scenario within 30 simulated minutes (recall ≥ 0.9)', () => {
      const scored = get().scores.filter((s) => s.recall !== null)
      const primary = scored.reduce((a, s) => a + s.primary.length, 0)
      const detected = scored.reduce((a, s) => a + s.detected.length, 0)
      expect(primary).toBeGreaterThanOrEqual(10)
      expect(detected / primary).toBeGreaterThanOrEqual(0.9)
      // every scenario with a visible direct effect has a primary stream
      const without = get()
        .scores.filter((s) => s.recall === null)
        .map((s) => s.scenario)
      expect(without.filter((s) => s !== 'normal-operations' && s !== 'churn-pattern')).toEqual([])
      for (const s of scored) expect(s.timeToFirstFlagMin).toBeLessThanOrEqual(30)
    }, 600_000)

    it('should flag mostly what the scenario caused (precision ≥ 0.8)', () => {
      const scores = get().scores.filter((s) => s.alarms > 0)
      const alarms = scores.reduce((a, s) => a + s.alarms, 0)
      const trueAlarms = scores.reduce((a, s) => a + s.trueAlarms, 0)
      expect(trueAlarms / alarms).toBeGreaterThanOrEqual(0.8)
    }, 600_000)

    it('should flag no more during normal-operations (the red herring) than the baseline does', () => {
      const s = get().scores.find((x) => x.scenario === 'normal-operations')!
      expect(s.alarms).toBeLessThanOrEqual(s.baselineAlarms)
    }, 600_000)
  })
})
