/**
 * The stream signal (CONTRACT.md): how far a stream's recent behaviour is from its
 * seasonal baseline, as a z-score and on the envelope's 0–100 scale. One
 * definition for the engine's live `normalizedValue` (over a stream's recent
 * window) and the history's `normalized` (over a point's interval), so charts of
 * history and live data join without a seam. docs/SIGNAL.md has the derivation.
 *
 * - Rate: `N` events seen where the baseline expects `E` (the same mean-field
 *   model the history is generated from, for that slot of the week), counted in
 *   clusters of the stream's dispersion D (1 for Poisson streams; conversations
 *   for a stream that answers itself):
 *   `zRate = 2(√(N/D + 3/8) − √(E/D + 3/8)) / √(1 + κ²E)` — Anscombe's variance-
 *   stabilised Poisson deviation (≈ (N − E)/√(D·E) for large E, sane for E below
 *   1), widened by the model tolerance κ so a stream with thousands of events a
 *   window is not flagged for a few percent of model error.
 * - Value (streams whose value matters: latency, price, rating, duration): the
 *   window's mean `m` of `n` values (each clipped to μ ± 4σ, so one extreme event
 *   cannot move it far; at least 8 of them) against the baseline mean μ and
 *   spread σ: `zValue = (m − μ) / (σ · √(1/n + κv²))`.
 * - Combined: the one of larger magnitude, sign kept (monotone in both).
 * - Scale: `50 + 50·tanh(z/4)`, one decimal: 50 = as usual, ≈62 / 38 at ±1σ,
 *   ≈88 / 12 at ±4σ, never outside 0–100.
 */

/** Value clipping before the window mean: μ ± this many σ. */
export const SIGNAL_VALUE_CLIP_SIGMA = 4
/**
 * Fewest values a mean is judged on: the mean of a handful of skewed values
 * (resolution hours, wait minutes) is far from normal, and would flag by chance.
 */
export const SIGNAL_MIN_VALUES = 8

/** Which parts of a stream's behaviour its signal watches. */
export type SignalKind = 'rate' | 'value' | 'both'

/**
 * Rate deviation of `count` events where `expected` were expected, with model
 * tolerance `tolerance` (relative).
 *
 * @example
 * rateZ(130, 100, 0) // ≈ 2.8 (30 % more than expected, 100 expected)
 * rateZ(0, 0.5, 0)   // ≈ −0.7 (a rare stream being quiet is not news)
 * rateZ(130, 100, 0, 3) // ≈ 1.6 (the same excess in clusters of three is less unusual)
 */
export function rateZ(count: number, expected: number, tolerance: number, dispersion = 1): number {
  const d = dispersion > 1 ? dispersion : 1
  const n = count / d
  const e = expected > 0 ? expected / d : 0
  const z = 2 * (Math.sqrt(n + 0.375) - Math.sqrt(e + 0.375))
  return z / Math.sqrt(1 + tolerance * tolerance * e * d)
}

/**
 * Value deviation of the mean `mean` of `n` values against baseline `mu` ± `sd`,
 * with tolerance `tolerance` (in σ of the mean). 0 with fewer than
 * {@link SIGNAL_MIN_VALUES} values or without spread.
 *
 * @example
 * valueZ(120, 25, 100, 50, 0) // 2 — the mean of 25 values two standard errors high
 */
export function valueZ(mean: number, n: number, mu: number, sd: number, tolerance: number): number {
  if (!(n >= SIGNAL_MIN_VALUES) || !(sd > 0)) return 0
  return (mean - mu) / (sd * Math.sqrt(1 / n + tolerance * tolerance))
}

/** The one of larger magnitude, sign kept (monotone non-decreasing in each argument). */
export function combineZ(a: number, b: number): number {
  return Math.abs(b) > Math.abs(a) ? b : a
}

/**
 * The envelope's 0–100 scale from a signal z-score: `50 + 50·tanh(z/4)`, one
 * decimal (50 = as usual).
 *
 * @example
 * normalizeSignal(0)  // 50
 * normalizeSignal(4)  // 88.1
 * normalizeSignal(-2) // 26.9
 */
export function normalizeSignal(z: number): number {
  if (Number.isNaN(z)) return 50
  return Math.round((50 + 50 * Math.tanh(z / 4)) * 10) / 10
}

/** The value of `x` clipped to `mu ± SIGNAL_VALUE_CLIP_SIGMA·sd`. */
export function clipValue(x: number, mu: number, sd: number): number {
  const lo = mu - SIGNAL_VALUE_CLIP_SIGMA * sd
  const hi = mu + SIGNAL_VALUE_CLIP_SIGMA * sd
  return x < lo ? lo : x > hi ? hi : x
}

/** Thresholds of the anomaly flag, in signal σ, with hysteresis. */
export interface SignalThresholds {
  /** |z| at or above which a normal stream turns `warning`. */
  warningSigma: number
  /** |z| at or above which a stream turns `critical`. */
  criticalSigma: number
  /** A flag drops one level only once |z| is this far below the level's threshold. */
  hysteresisSigma: number
}

/**
 * The next flag level (0 normal, 1 warning, 2 critical) from level `level` at
 * signal `z`: up as soon as a threshold is reached, down one level at a time and
 * only below the threshold minus the hysteresis, so a flag does not flicker.
 */
export function nextFlagLevel(level: number, z: number, t: SignalThresholds): number {
  const a = z < 0 ? -z : z
  if (a >= t.criticalSigma) return 2
  if (level === 2 && a >= t.criticalSigma - t.hysteresisSigma) return 2
  if (a >= t.warningSigma) return 1
  if (level >= 1 && a >= t.warningSigma - t.hysteresisSigma) return 1
  return 0
}
