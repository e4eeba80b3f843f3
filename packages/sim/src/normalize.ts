/**
 * Normalization of a stream's primary value against its baseline statistics
 * (CONTRACT.md): 50 = baseline mean, 30/70 = ∓1σ, 0/100 = ∓3σ, piecewise linear in
 * between, clamped to 0–100, one decimal. Anomaly flags compare |z| with the
 * stream's thresholds (default warning beyond 1σ, critical beyond 3σ).
 */
import { normalizeZ, type AnomalyFlag } from '@verisim/schema'

/** Maps a z-score to the 0–100 scale (shared with the history roll-up). */
export { normalizeZ }

/** z-score of `value` (0 when the baseline has no spread). */
export function zScore(value: number, mean: number, sd: number): number {
  return sd > 0 ? (value - mean) / sd : 0
}

/**
 * @example
 * normalizeValue(120, 100, 20) // 70 — one σ above the mean
 */
export function normalizeValue(value: number, mean: number, sd: number): number {
  return normalizeZ(zScore(value, mean, sd))
}

export function anomalyFlagFor(z: number, warningSigma = 1, criticalSigma = 3): AnomalyFlag {
  const a = z < 0 ? -z : z
  if (a > criticalSigma) return 'critical'
  if (a > warningSigma) return 'warning'
  return 'normal'
}
