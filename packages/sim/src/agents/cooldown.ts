/**
 * "Less likely to do it again for a while": an agent that takes action `a` has its
 * propensity for `a` cut to `factor × base` for `durationMs`, then restored.
 *
 * Exact without any timer or engine support, by thinning. The (segment, action)
 * stream runs at the segment's *ceiling* — Σ base propensities, which only spawning
 * (or {@link Cooldown.setBase}) changes — and each firing is kept with probability
 * current total / ceiling, the agent then drawn from the current propensities: agent
 * i acts at rate ceiling × (total / ceiling) × (pᵢ / total) = pᵢ(t) at every instant.
 * Restorations therefore need no exact timing: they are applied lazily (a FIFO in
 * due order, one duration for all) whenever someone looks, before every draw.
 *
 * The world's state rate for the pair is {@link Cooldown.ceiling} (× its unit rate);
 * change a ceiling only where the engine redraws state-rate arrivals afterwards (a
 * world action, or the pair's own behaviour). Per agent: 16 bytes (base, until) plus
 * 12 per agent cooling (the FIFO).
 */
import type { Rng } from '../rng.js'
import { AgentPopulation, type AgentColumn } from './population.js'
import { SNAPSHOT, type SnapshotClass } from '../state-codec.js'

export interface CooldownOptions {
  /** The action cooled down (index in the population's actions). */
  readonly action: number
  /** How long the propensity stays cut (ms). */
  readonly durationMs: number
  /** Propensity during the cooldown relative to the base, in [0, 1]. */
  readonly factor: number
}

/**
 * Cooldowns of one action over a whole population.
 *
 * @example
 * const buy = new Cooldown(pop, { action: 1, durationMs: 2 * DAY, factor: 0.2 })
 * const id = pop.spawn(0, [1, 0.4]); buy.register(id)
 * // in the (segment 0, buy) behaviour at time t:
 * const agent = buy.pick(0, t, rng) // −1: thinned out, no event
 * if (agent >= 0) buy.begin(agent, t)
 */
export class Cooldown {
  readonly action: number
  readonly durationMs: number
  readonly factor: number
  #pop: AgentPopulation
  #base: AgentColumn<Float64Array>
  #until: AgentColumn<Float64Array>
  #ceiling: Float64Array
  #cooling: Int32Array
  #registered = 0
  #fifoId = new Int32Array(64)
  #fifoDue = new Float64Array(64)
  #head = 0
  #len = 0
  #lastBegin = -Infinity

  /** Engine snapshots: its options, columns (shared with the population) and queue of ends. */
  static readonly [SNAPSHOT]: SnapshotClass<Cooldown> = {
    name: 'Cooldown',
    save: (c) => ({
      action: c.action,
      durationMs: c.durationMs,
      factor: c.factor,
      pop: c.#pop,
      base: c.#base,
      until: c.#until,
      ceiling: c.#ceiling,
      cooling: c.#cooling,
      registered: c.#registered,
      fifoId: c.#fifoId,
      fifoDue: c.#fifoDue,
      head: c.#head,
      len: c.#len,
      lastBegin: c.#lastBegin,
    }),
    load: (data) => {
      const d = data as {
        action: number
        durationMs: number
        factor: number
        pop: AgentPopulation
        base: AgentColumn<Float64Array>
        until: AgentColumn<Float64Array>
        ceiling: Float64Array
        cooling: Int32Array
        registered: number
        fifoId: Int32Array<ArrayBuffer>
        fifoDue: Float64Array<ArrayBuffer>
        head: number
        len: number
        lastBegin: number
      }
      // a throwaway population: the constructor adds its columns there, not to d.pop
      const scratch = new AgentPopulation({ segments: d.pop.segments, actions: d.pop.actions })
      const c = new Cooldown(scratch, d)
      c.#pop = d.pop
      c.#base = d.base
      c.#until = d.until
      c.#ceiling = d.ceiling
      c.#cooling = d.cooling
      c.#registered = d.registered
      c.#fifoId = d.fifoId
      c.#fifoDue = d.fifoDue
      c.#head = d.head
      c.#len = d.len
      c.#lastBegin = d.lastBegin
      return c
    },
  }

  constructor(pop: AgentPopulation, opts: CooldownOptions) {
    if (!(opts.action >= 0 && opts.action < pop.actions.length))
      throw new RangeError(`action ${opts.action} out of [0, ${pop.actions.length})`)
    if (!(opts.durationMs > 0 && opts.durationMs < Infinity))
      throw new RangeError(`durationMs must be > 0, got ${opts.durationMs}`)
    if (!(opts.factor >= 0 && opts.factor <= 1))
      throw new RangeError(`factor must be in [0, 1], got ${opts.factor}`)
    this.action = opts.action
    this.durationMs = opts.durationMs
    this.factor = opts.factor
    this.#pop = pop
    this.#base = pop.addColumn(Float64Array)
    this.#until = pop.addColumn(Float64Array, -Infinity)
    this.#ceiling = new Float64Array(pop.segments.length)
    this.#cooling = new Int32Array(pop.segments.length)
  }

  /**
   * Takes agent `id`'s current propensity as its base (call once per agent, right
   * after spawning it, in id order).
   */
  register(id: number): void {
    if (id !== this.#registered)
      throw new RangeError(`agents register in id order: expected ${this.#registered}, got ${id}`)
    const w = this.#pop.propensity(id, this.action)
    this.#base.values[id] = w
    this.#ceiling[this.#pop.segmentOf(id)]! += w
    this.#registered++
  }

  /** Σ base propensities of segment `s`: the rate bound its stream runs at. */
  ceiling(s: number): number {
    return this.#ceiling[s]!
  }

  /** Agents of segment `s` cooling down (as of the last {@link restore}). */
  cooling(s: number): number {
    return this.#cooling[s]!
  }

  /** Agent `id`'s base propensity. */
  base(id: number): number {
    return this.#base.values[id]!
  }

  /** Whether agent `id` is cooling down at `t`. */
  isCooling(id: number, t: number): boolean {
    return this.#until.values[id]! > t
  }

  /**
   * Changes agent `id`'s base propensity for good (its current one follows; cut while
   * it cools down). Changes the ceiling: see the module note.
   */
  setBase(id: number, w: number): void {
    const base = this.#base.values
    this.#ceiling[this.#pop.segmentOf(id)]! += w - base[id]!
    base[id] = w
    this.#pop.setPropensity(
      id,
      this.action,
      this.#until.values[id]! > -Infinity ? w * this.factor : w,
    )
  }

  /**
   * Agent `id` took the action at `t`: its propensity is cut until `t + durationMs`
   * (a cooldown in progress starts over). Calls must come in non-decreasing `t`
   * (the simulation's order; an initial state set in the past sorted by time).
   */
  begin(id: number, t: number): void {
    if (t < this.#lastBegin)
      throw new RangeError(`cooldowns begin in time order: ${t} after ${this.#lastBegin}`)
    this.#lastBegin = t
    const until = this.#until.values
    const due = t + this.durationMs
    if (until[id]! === -Infinity) {
      this.#pop.setPropensity(id, this.action, this.#base.values[id]! * this.factor)
      this.#cooling[this.#pop.segmentOf(id)]!++
    }
    until[id] = due
    this.#push(id, due)
  }

  /** Restores every cooldown due by `t` (amortized O(log n) each). */
  restore(t: number): void {
    const ids = this.#fifoId
    const dues = this.#fifoDue
    const mask = ids.length - 1
    const until = this.#until.values
    const base = this.#base.values
    while (this.#len > 0) {
      const h = this.#head
      const due = dues[h]!
      if (due > t) break
      const id = ids[h]!
      this.#head = (h + 1) & mask
      this.#len--
      // a cooldown that started over has a later entry: this one is stale
      if (until[id] !== due) continue
      until[id] = -Infinity
      this.#pop.setPropensity(id, this.action, base[id]!)
      this.#cooling[this.#pop.segmentOf(id)]!--
    }
  }

  /**
   * The agent of segment `s` who acts at `t`, for a firing of the pair's stream at
   * the ceiling rate: restores what is due, keeps the firing with probability
   * total / ceiling and draws the agent from the current propensities (two draws of
   * `rng`); −1 when thinned out (the event does not happen).
   */
  pick(s: number, t: number, rng: Rng): number {
    this.restore(t)
    const ceiling = this.#ceiling[s]!
    if (!(rng.next() * ceiling < this.#pop.total(s, this.action))) return -1
    return this.#pop.pick(s, this.action, rng)
  }

  /** Bytes held by the FIFO (the columns count in the population's). */
  get byteLength(): number {
    return this.#fifoId.byteLength + this.#fifoDue.byteLength
  }

  #push(id: number, due: number): void {
    let ids = this.#fifoId
    if (this.#len === ids.length) {
      // unroll the ring into arrays twice the size
      const n = ids.length
      const nIds = new Int32Array(n * 2)
      const nDue = new Float64Array(n * 2)
      for (let k = 0; k < n; k++) {
        const j = (this.#head + k) & (n - 1)
        nIds[k] = ids[j]!
        nDue[k] = this.#fifoDue[j]!
      }
      this.#fifoId = ids = nIds
      this.#fifoDue = nDue
      this.#head = 0
    }
    const j = (this.#head + this.#len) & (ids.length - 1)
    ids[j] = id
    this.#fifoDue[j] = due
    this.#len++
  }
}
