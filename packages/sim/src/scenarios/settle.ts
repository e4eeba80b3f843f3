/**
 * Settlement curves: the strength of a scenario's modifiers as a pure function of
 * the time since settling started (linear, exponential, immediate, backlog).
 */
import { MINUTE } from '../calendar.js'
import { SETTLED_WITHIN, type SettleCurve } from './types.js'
// ---------------------------------------------------------------------------
// settlement curves (pure functions of time since settling started)

/** Step of the piecewise-constant settlement: 1–15 minutes, at most 24 steps when shorter. */
export function settleStepMs(settleMs: number): number {
  return Math.max(MINUTE, Math.min(15 * MINUTE, Math.round(settleMs / 24)))
}

/** Time constant of the exponential curve: the largest deviation reaches 5 % at `settleMs`. */
export function exponentialTau(settleMs: number, maxDeviation: number): number {
  return maxDeviation > SETTLED_WITHIN ? settleMs / Math.log(maxDeviation / SETTLED_WITHIN) : 0
}

/**
 * Strength of a settling scenario's modifiers `elapsed` ms after settling started:
 * constant over each step, evaluated at the step's midpoint; 0 from `settleMs` on.
 *
 * @example
 * settleStrength('linear', 8 * HOUR, 0, 4 * HOUR) // ≈ 0.48 (the step around 4 h)
 */
export function settleStrength(
  curve: SettleCurve,
  settleMs: number,
  maxDeviation: number,
  elapsed: number,
): number {
  if (elapsed >= settleMs || curve === 'immediate') return 0
  const step = settleStepMs(settleMs)
  const mid = Math.min((Math.floor(elapsed / step) + 0.5) * step, settleMs)
  if (curve === 'linear') return 1 - mid / settleMs
  const tau = exponentialTau(settleMs, maxDeviation)
  return tau > 0 ? Math.exp(-mid / tau) : 0
}

/** Strength of backlog modifiers: a linear fade over the settlement. */
export function backlogStrength(settleMs: number, elapsed: number): number {
  return settleStrength('linear', settleMs, 0, elapsed)
}
