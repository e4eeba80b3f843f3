/**
 * Reconnect delays: exponential backoff with jitter ("full jitter" at
 * `jitter: 1`), so a gateway restart is not met by every client at once.
 */

export interface ReconnectOptions {
  /** Upper bound of the first delay (ms). Default 500. */
  initialMs?: number
  /** Largest delay (ms). Default 30000. */
  maxMs?: number
  /**
   * Share of each delay that is randomised: the delay is drawn from
   * `[cap × (1 − jitter), cap]` where `cap = min(maxMs, initialMs × 2^attempt)`.
   * `1` (or `true`, the default) is full jitter; `0` (or `false`) is plain exponential.
   */
  jitter?: number | boolean
  /** Consecutive failed attempts before the client gives up and closes. Default: never give up. */
  maxAttempts?: number
}

export interface ResolvedReconnect {
  initialMs: number
  maxMs: number
  jitter: number
  maxAttempts: number
}

export function resolveReconnect(opts: ReconnectOptions = {}): ResolvedReconnect {
  const initialMs = opts.initialMs ?? 500
  const maxMs = opts.maxMs ?? 30_000
  const jitter =
    opts.jitter === undefined || opts.jitter === true ? 1 : opts.jitter === false ? 0 : opts.jitter
  const maxAttempts = opts.maxAttempts ?? Infinity
  if (!(initialMs >= 0) || !(maxMs >= initialMs)) {
    throw new RangeError(
      `reconnect: need 0 <= initialMs <= maxMs, got initialMs=${initialMs} maxMs=${maxMs}`,
    )
  }
  if (!(jitter >= 0 && jitter <= 1))
    throw new RangeError(`reconnect.jitter must be within 0…1, got ${jitter}`)
  if (!(maxAttempts >= 1))
    throw new RangeError(`reconnect.maxAttempts must be at least 1, got ${maxAttempts}`)
  return { initialMs, maxMs, jitter, maxAttempts }
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first after a drop).
 *
 * @example
 * backoffDelay({ initialMs: 100, maxMs: 1000, jitter: 0, maxAttempts: Infinity }, 3) // 800
 */
export function backoffDelay(
  r: ResolvedReconnect,
  attempt: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(r.maxMs, r.initialMs * 2 ** Math.min(attempt, 30))
  return Math.round(cap * (1 - r.jitter * random()))
}
