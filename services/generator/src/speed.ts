/**
 * The speed the simulation actually keeps: simulated milliseconds advanced per
 * wall millisecond over a sliding wall window. When the engine cannot keep up,
 * the loop caps each step and slips the clock (simulation time lags, it never
 * jumps), so this is the number to believe, not the requested speed.
 */

/** Below this share of the requested speed the simulation counts as behind. */
export const BEHIND_RATIO = 0.9
/** …and back at this share it counts as keeping up again (hysteresis). */
export const CAUGHT_UP_RATIO = 0.95
/** While behind, a move of the kept speed by more than this share is reported again (at most once per window). */
export const REPORT_CHANGE = 0.1

export interface SpeedChange {
  behind: boolean
  requested: number
  effective: number
}

export interface SpeedMeterOptions {
  /** Wall window the speed is measured over. Default 5000 ms. */
  windowMs?: number
  /** Shortest span measured; until then the requested speed is reported. Default 1000 ms. */
  minSpanMs?: number
}

export class SpeedMeter {
  readonly #windowMs: number
  readonly #minSpanMs: number
  /** `[wall, sim]` pairs, oldest first; the first is at or before the window's start. */
  #samples: [number, number][] = []
  #requested = 0
  #paused = true
  #behind = false
  #reported = 0
  #reportedAt = Number.NEGATIVE_INFINITY

  constructor(opts: SpeedMeterOptions = {}) {
    this.#windowMs = opts.windowMs ?? 5000
    this.#minSpanMs = opts.minSpanMs ?? 1000
  }

  /**
   * Records where simulation time stands at a wall time. A change of the
   * requested speed or of paused starts a new window.
   */
  sample(wall: number, sim: number, requested: number, paused: boolean): void {
    if (requested !== this.#requested || paused !== this.#paused) {
      this.#samples = []
      this.#requested = requested
      this.#paused = paused
    }
    const s = this.#samples
    s.push([wall, sim])
    while (s.length > 2 && wall - (s[1] as [number, number])[0] >= this.#windowMs) s.shift()
  }

  /** Whether the window is long enough to measure. */
  get measured(): boolean {
    const s = this.#samples
    return s.length >= 2 && (s.at(-1) as [number, number])[0] - s[0]![0] >= this.#minSpanMs
  }

  /** Simulation seconds per wall second kept over the window (0 while paused; the requested speed until measured). */
  get effective(): number {
    if (this.#paused) return 0
    if (!this.measured) return this.#requested
    const s = this.#samples
    const [w0, s0] = s[0] as [number, number]
    const [w1, s1] = s.at(-1) as [number, number]
    return Math.round(((s1 - s0) / (w1 - w0)) * 100) / 100
  }

  /**
   * What to log, once per change: falling below `BEHIND_RATIO` of the requested
   * speed, moving by more than `REPORT_CHANGE` while behind (at most once per
   * window, so a slide of the window is not reported step by step), and reaching
   * `CAUGHT_UP_RATIO` again; null otherwise (and every tick in between).
   */
  change(): SpeedChange | null {
    if (this.#paused || !this.measured || this.#requested <= 0) return null
    const effective = this.effective
    const requested = this.#requested
    const ratio = effective / requested
    const wall = (this.#samples.at(-1) as [number, number])[0]
    if (!this.#behind) {
      if (ratio >= BEHIND_RATIO) return null
      this.#behind = true
    } else if (ratio >= CAUGHT_UP_RATIO) {
      this.#behind = false
    } else if (
      Math.abs(effective - this.#reported) <= REPORT_CHANGE * this.#reported ||
      wall - this.#reportedAt < this.#windowMs
    ) {
      return null
    }
    this.#reported = effective
    this.#reportedAt = wall
    return { behind: this.#behind, requested, effective }
  }
}
