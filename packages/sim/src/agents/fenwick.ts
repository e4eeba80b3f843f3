/**
 * A Fenwick (binary indexed) tree of non-negative weights: the sampler behind the
 * agent model. Setting a weight and drawing an index in proportion to its weight
 * are O(log n); the total is an O(1) read. Everything lives in two Float64Arrays
 * (the tree and the weights themselves, 16 bytes per slot), grown by doubling.
 *
 * The total is kept as a running sum. The tree and the total are rebuilt from the
 * weights (O(n)) every `2 × capacity` updates, and when the total collapses below
 * 1e-9 of its peak since the last rebuild, so floating-point drift never
 * accumulates and weights set back to 0 total exactly 0.
 */
import type { Rng } from '../rng.js'
import { SNAPSHOT, type SnapshotClass } from '../state-codec.js'

const MIN_CAPACITY = 16

/**
 * Weights `0 … size−1` with proportional sampling.
 *
 * @example
 * const f = new Fenwick()
 * f.push(1); f.push(3) // indices 0 and 1
 * f.total // 4
 * f.find(0.5) // 0 — cumulative weight 0.5 falls in [0, 1)
 * f.find(2.5) // 1
 */
export class Fenwick {
  /** 1-based partial sums: tree[i] = Σ weights (i − lowbit(i), i]. */
  #tree: Float64Array
  #w: Float64Array
  #n = 0
  #total = 0
  #peak = 0
  #updates = 0

  /** Engine snapshots: the weights, partial sums and counters. */
  static readonly [SNAPSHOT]: SnapshotClass<Fenwick> = {
    name: 'Fenwick',
    save: (f) => ({
      tree: f.#tree,
      w: f.#w,
      n: f.#n,
      total: f.#total,
      peak: f.#peak,
      updates: f.#updates,
    }),
    load: (data) => {
      const d = data as {
        tree: Float64Array
        w: Float64Array
        n: number
        total: number
        peak: number
        updates: number
      }
      const f = new Fenwick()
      f.#tree = d.tree
      f.#w = d.w
      f.#n = d.n
      f.#total = d.total
      f.#peak = d.peak
      f.#updates = d.updates
      return f
    },
  }

  constructor(capacity = MIN_CAPACITY) {
    const cap = Math.max(MIN_CAPACITY, Math.ceil(capacity))
    this.#tree = new Float64Array(cap + 1)
    this.#w = new Float64Array(cap)
  }

  /** Number of weights. */
  get size(): number {
    return this.#n
  }

  /** Slots allocated (the size it can reach before growing). */
  get capacity(): number {
    return this.#w.length
  }

  /** Σ weights, O(1). */
  get total(): number {
    return this.#total
  }

  /** Bytes held by the typed arrays. */
  get byteLength(): number {
    return this.#tree.byteLength + this.#w.byteLength
  }

  /** The weight of index `i`. */
  weight(i: number): number {
    return this.#w[i]!
  }

  /** Appends a weight; returns its index. Grows the capacity by doubling when full. */
  push(w: number): number {
    checkWeight(w)
    const i = this.#n
    if (i === this.#w.length) this.#resize(i * 2)
    this.#n = i + 1
    this.#w[i] = w
    if (w !== 0) this.#addTree(i, w)
    return i
  }

  /** Makes room for `n` weights without growing again on the way. */
  reserve(n: number): void {
    if (n > this.#w.length) this.#resize(n)
  }

  /** Sets the weight of index `i` (< size). */
  set(i: number, w: number): void {
    checkWeight(w)
    if (!(i >= 0 && i < this.#n)) throw new RangeError(`index ${i} out of [0, ${this.#n})`)
    const d = w - this.#w[i]!
    if (d === 0) return
    this.#w[i] = w
    this.#addTree(i, d)
    if (++this.#updates > 2 * this.#w.length || this.#total < this.#peak * 1e-9) this.rebuild()
  }

  /** Σ weights of indices `[0, i)`, O(log n). */
  prefix(i: number): number {
    const tree = this.#tree
    let s = 0
    for (let k = Math.min(i, this.#n); k > 0; k -= k & -k) s += tree[k]!
    return s
  }

  /**
   * The index whose cumulative range `[prefix(i), prefix(i + 1))` holds `u`, for
   * `0 <= u < total` (never an index of weight 0); −1 when the total is 0.
   */
  find(u: number): number {
    const n = this.#n
    if (!(this.#total > 0) || n === 0) return -1
    const tree = this.#tree
    let pos = 0
    let rem = u
    for (let step = 1 << (31 - Math.clz32(n)); step > 0; step >>= 1) {
      const next = pos + step
      if (next <= n) {
        const x = tree[next]!
        if (x <= rem) {
          pos = next
          rem -= x
        }
      }
    }
    // pos has prefix(pos) <= u < prefix(pos + 1); rounding at the very end may overshoot
    if (pos < n && this.#w[pos]! > 0) return pos
    return this.#nearestPositive(Math.min(pos, n - 1))
  }

  /** An index drawn in proportion to its weight (one draw of `rng`); −1 when the total is 0. */
  pick(rng: Rng): number {
    return this.find(rng.next() * this.#total)
  }

  /** Recomputes the tree and the total from the weights (O(n)). */
  rebuild(): void {
    const tree = this.#tree
    const w = this.#w
    const n = this.#n
    const cap = w.length
    tree.fill(0)
    let total = 0
    for (let i = 0; i < n; i++) {
      tree[i + 1] = w[i]!
      total += w[i]!
    }
    for (let i = 1; i <= cap; i++) {
      const j = i + (i & -i)
      if (j <= cap) tree[j]! += tree[i]!
    }
    this.#total = total
    this.#peak = total
    this.#updates = 0
  }

  #addTree(i: number, d: number): void {
    const tree = this.#tree
    const cap = this.#w.length
    for (let k = i + 1; k <= cap; k += k & -k) tree[k]! += d
    const total = this.#total + d
    this.#total = total
    if (total > this.#peak) this.#peak = total
  }

  #resize(cap: number): void {
    const w = new Float64Array(Math.max(MIN_CAPACITY, cap))
    w.set(this.#w.subarray(0, this.#n))
    this.#w = w
    this.#tree = new Float64Array(w.length + 1)
    this.rebuild()
  }

  /** The positive weight nearest to `i` (below first): the fallback when rounding overshoots. */
  #nearestPositive(i: number): number {
    const w = this.#w
    for (let k = i; k >= 0; k--) if (w[k]! > 0) return k
    for (let k = i + 1; k < this.#n; k++) if (w[k]! > 0) return k
    return -1
  }
}

function checkWeight(w: number): void {
  if (!(w >= 0 && w < Infinity)) throw new RangeError(`weight must be finite and >= 0, got ${w}`)
}
