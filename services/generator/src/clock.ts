/**
 * The simulation clock: maps wall time to simulation time at a speed, and can be
 * paused. It is given the wall time on every call (never reads it itself), so
 * it is deterministic under test.
 */

export interface ClockState {
  speed: number
  paused: boolean
}

export class SimClock {
  #anchorWall: number
  #anchorSim: number
  #speed: number
  #paused = false

  /**
   * @example
   * const clock = new SimClock({ start: Date.parse('2026-11-23T08:00:00Z'), speed: 60, wallNow: Date.now() })
   * clock.now(Date.now() + 1000) // one wall second later: 08:01:00 in simulation time
   */
  constructor({ start, speed, wallNow }: { start: number; speed: number; wallNow: number }) {
    this.#anchorWall = wallNow
    this.#anchorSim = start
    this.#speed = speed
  }

  get speed(): number {
    return this.#speed
  }

  get paused(): boolean {
    return this.#paused
  }

  /** Simulation time (epoch ms) at wall time `wallNow`. */
  now(wallNow: number): number {
    if (this.#paused) return this.#anchorSim
    return this.#anchorSim + (wallNow - this.#anchorWall) * this.#speed
  }

  setSpeed(speed: number, wallNow: number): void {
    this.#rebase(wallNow)
    this.#speed = speed
  }

  pause(wallNow: number): void {
    if (this.#paused) return
    this.#rebase(wallNow)
    this.#paused = true
  }

  resume(wallNow: number): void {
    if (!this.#paused) return
    this.#anchorWall = wallNow
    this.#paused = false
  }

  /**
   * Declares that simulation time `sim` is where the clock stands at `wallNow`:
   * used when the generator could not keep up, so the simulation slows down
   * instead of queueing unbounded work.
   */
  slip(sim: number, wallNow: number): void {
    this.#anchorSim = sim
    this.#anchorWall = wallNow
  }

  #rebase(wallNow: number): void {
    this.#anchorSim = this.now(wallNow)
    this.#anchorWall = wallNow
  }
}
