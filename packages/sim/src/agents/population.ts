/**
 * The agent model's population: agents in segments (personas), each with a
 * propensity per action. For every (segment, action) one {@link Fenwick} tree
 * holds the propensities of the segment's agents, so the population-level rate of
 * that pair is an O(1) read of its total and the agent who acts is drawn in
 * proportion to its propensity in O(log n) — an agent world's cost grows with its
 * events, never with agents × ticks (DESIGN.md "Two arrival models, one kernel").
 *
 * Agents are numbered `0, 1, 2 …` in the order they are spawned, for good (no
 * removal: an agent that leaves gets propensity 0). Everything per agent lives in
 * typed arrays grown by doubling — the population's own (segment, index in the
 * segment) and the world's {@link AgentColumn}s — about 9 bytes per agent plus
 * 16 per action, and the column bytes.
 */
import type { Rng } from '../rng.js'
import { Fenwick } from './fenwick.js'
import { SNAPSHOT, type SnapshotClass } from '../state-codec.js'

/** The typed arrays an {@link AgentColumn} may use. */
export type AgentArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array

/** One per-agent value of the world's own (a favourite venue, a counter, a time), indexed by agent id. */
export interface AgentColumn<T extends AgentArray = AgentArray> {
  /** The current array (replaced when the population grows: read it through the column, do not keep it). */
  readonly values: T
}

export interface AgentPopulationOptions {
  /** Segment (persona) ids, at most 256. */
  readonly segments: readonly string[]
  /** Action names; every agent has one propensity per action. */
  readonly actions: readonly string[]
  /** Agents expected per segment (room reserved up front; the population grows beyond it by doubling). */
  readonly reserve?: readonly number[]
}

interface ColumnRt {
  values: AgentArray
  readonly fill: number
}

/**
 * Agents with propensities, sampled per (segment, action).
 *
 * @example
 * const pop = new AgentPopulation({ segments: ['commuter', 'student'], actions: ['visit', 'buy'] })
 * const a = pop.spawn(0, [2, 0.5]) // a commuter: visits often, buys rarely
 * pop.total(0, 1) // 0.5 — Σ of the commuters' propensities to buy
 * pop.pick(0, 0, rng) // an agent id, commuters drawn in proportion to their propensity to visit
 */
export class AgentPopulation {
  readonly segments: readonly string[]
  readonly actions: readonly string[]
  /** One tree per (segment, action), at `segment × actions + action`. */
  #trees: Fenwick[]
  /** Agent id of each segment's k-th member. */
  #members: Int32Array[]
  #counts: Int32Array
  #segOf: Uint8Array
  #local: Uint32Array
  #size = 0
  #columns: ColumnRt[] = []

  /** Engine snapshots: every array (the columns are the objects the world holds, kept shared). */
  static readonly [SNAPSHOT]: SnapshotClass<AgentPopulation> = {
    name: 'AgentPopulation',
    save: (p) => ({
      segments: p.segments,
      actions: p.actions,
      trees: p.#trees,
      members: p.#members,
      counts: p.#counts,
      segOf: p.#segOf,
      local: p.#local,
      size: p.#size,
      columns: p.#columns,
    }),
    load: (data) => {
      const d = data as {
        segments: string[]
        actions: string[]
        trees: Fenwick[]
        members: Int32Array[]
        counts: Int32Array
        segOf: Uint8Array
        local: Uint32Array
        size: number
        columns: ColumnRt[]
      }
      const p = new AgentPopulation({ segments: d.segments, actions: d.actions })
      p.#trees = d.trees
      p.#members = d.members
      p.#counts = d.counts
      p.#segOf = d.segOf
      p.#local = d.local
      p.#size = d.size
      p.#columns = d.columns
      return p
    },
  }

  constructor(opts: AgentPopulationOptions) {
    const S = opts.segments.length
    const A = opts.actions.length
    if (S < 1 || S > 256) throw new RangeError(`1 to 256 segments expected, got ${S}`)
    if (A < 1) throw new RangeError('at least one action expected')
    this.segments = [...opts.segments]
    this.actions = [...opts.actions]
    const reserve = (s: number): number => Math.max(16, Math.ceil(opts.reserve?.[s] ?? 0))
    this.#trees = []
    for (let s = 0; s < S; s++)
      for (let a = 0; a < A; a++) this.#trees.push(new Fenwick(reserve(s)))
    this.#members = this.segments.map((_, s) => new Int32Array(reserve(s)))
    this.#counts = new Int32Array(S)
    let total = 0
    for (let s = 0; s < S; s++) total += reserve(s)
    this.#segOf = new Uint8Array(total)
    this.#local = new Uint32Array(total)
  }

  /** Agents spawned so far (ids are `0 … size − 1`). */
  get size(): number {
    return this.#size
  }

  /** Agents of segment `s`. */
  count(s: number): number {
    return this.#counts[s]!
  }

  /** The segment of agent `id`. */
  segmentOf(id: number): number {
    return this.#segOf[id]!
  }

  /** Index of segment `id` (−1 when unknown). */
  segmentIndex(id: string): number {
    return this.segments.indexOf(id)
  }

  /** Index of action `name` (−1 when unknown). */
  actionIndex(name: string): number {
    return this.actions.indexOf(name)
  }

  /** The `k`-th member of segment `s` (spawn order). */
  member(s: number, k: number): number {
    return this.#members[s]![k]!
  }

  /**
   * Adds an agent to segment `s` with one propensity per action (≥ 0); returns its id.
   * O(actions × log n), amortized (growth copies by doubling).
   */
  spawn(s: number, propensities: ArrayLike<number>): number {
    const A = this.actions.length
    if (!(s >= 0 && s < this.segments.length))
      throw new RangeError(`segment ${s} out of [0, ${this.segments.length})`)
    if (propensities.length !== A)
      throw new RangeError(
        `${A} propensities expected (one per action), got ${propensities.length}`,
      )
    for (let a = 0; a < A; a++) {
      const w = propensities[a]!
      if (!(w >= 0 && w < Infinity))
        throw new RangeError(`propensity ${a} must be finite and >= 0, got ${w}`)
    }
    const id = this.#size
    if (id === this.#segOf.length) this.#grow(id * 2)
    const k = this.#counts[s]!
    let members = this.#members[s]!
    if (k === members.length) {
      const m = new Int32Array(k * 2)
      m.set(members)
      this.#members[s] = members = m
    }
    members[k] = id
    this.#counts[s] = k + 1
    this.#segOf[id] = s
    this.#local[id] = k
    this.#size = id + 1
    for (let a = 0; a < A; a++) this.#trees[s * A + a]!.push(propensities[a]!)
    return id
  }

  /** Agent `id`'s propensity for action `a`. */
  propensity(id: number, a: number): number {
    return this.#trees[this.#segOf[id]! * this.actions.length + a]!.weight(this.#local[id]!)
  }

  /** Sets agent `id`'s propensity for action `a` (≥ 0), O(log n). */
  setPropensity(id: number, a: number, w: number): void {
    if (!(id >= 0 && id < this.#size)) throw new RangeError(`agent ${id} out of [0, ${this.#size})`)
    this.#trees[this.#segOf[id]! * this.actions.length + a]!.set(this.#local[id]!, w)
  }

  /** Σ propensities for action `a` over segment `s`: the pair's population-level intensity, O(1). */
  total(s: number, a: number): number {
    return this.#trees[s * this.actions.length + a]!.total
  }

  /**
   * One agent of segment `s`, drawn in proportion to its propensity for action `a`
   * (one draw of `rng`, O(log n)); −1 when that total is 0.
   */
  pick(s: number, a: number, rng: Rng): number {
    const k = this.#trees[s * this.actions.length + a]!.pick(rng)
    return k < 0 ? -1 : this.#members[s]![k]!
  }

  /**
   * A per-agent column of the world's own, grown with the population (new agents
   * start at `fill`).
   *
   * @example
   * const favourite = pop.addColumn(Uint8Array)
   * favourite.values[id] = 3
   */
  addColumn<T extends AgentArray>(ctor: new (length: number) => T, fill = 0): AgentColumn<T> {
    const values = new ctor(this.#segOf.length)
    if (fill !== 0) values.fill(fill)
    const col: ColumnRt = { values, fill }
    this.#columns.push(col)
    return col as unknown as AgentColumn<T>
  }

  /** Bytes held by the population's typed arrays (trees, members, segments, columns). */
  get byteLength(): number {
    let b = this.#segOf.byteLength + this.#local.byteLength
    for (const t of this.#trees) b += t.byteLength
    for (const m of this.#members) b += m.byteLength
    for (const c of this.#columns) b += c.values.byteLength
    return b
  }

  #grow(cap: number): void {
    const segOf = new Uint8Array(cap)
    segOf.set(this.#segOf)
    this.#segOf = segOf
    const local = new Uint32Array(cap)
    local.set(this.#local)
    this.#local = local
    for (const c of this.#columns) {
      const old = c.values
      const next = new (old.constructor as new (length: number) => AgentArray)(cap)
      next.set(old)
      if (c.fill !== 0) next.fill(c.fill, old.length)
      c.values = next
    }
  }
}
