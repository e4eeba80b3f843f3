/**
 * Chart data: per-stream averages of `normalizedValue` per bucket of simulation
 * time (one minute by default) built from the live events, the history from
 * `/api/simulation/history` joined in front of them, and the aligned arrays
 * uPlot draws. O(1) per event in the common in-order case, so thousands of
 * events per second cost little.
 */

export interface Points {
  /** Bucket starts, simulation time in seconds (uPlot's unit), increasing. */
  t: number[]
  v: number[]
}

interface Buckets {
  t: number[]
  sum: number[]
  n: number[]
}

/** Index of the first element of sorted `a` that is ≥ x. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((a[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

export class BucketSeries {
  readonly #bucketMs: number
  readonly #windowMs: number
  readonly #streams = new Map<string, Buckets>()
  /** Newest simulation time seen (ms). */
  latest = Number.NEGATIVE_INFINITY

  constructor(bucketMs = 60_000, windowMs = 7 * 86_400_000) {
    this.#bucketMs = bucketMs
    this.#windowMs = windowMs
  }

  add(stream: string, tsMs: number, value: number): void {
    if (!Number.isFinite(tsMs) || !Number.isFinite(value)) return
    let b = this.#streams.get(stream)
    if (!b) {
      b = { t: [], sum: [], n: [] }
      this.#streams.set(stream, b)
    }
    if (tsMs > this.latest) this.latest = tsMs
    const start = Math.floor(tsMs / this.#bucketMs) * this.#bucketMs
    const last = b.t.length - 1
    if (last >= 0 && b.t[last] === start) {
      b.sum[last]! += value
      b.n[last]!++
    } else if (last < 0 || (b.t[last] as number) < start) {
      b.t.push(start)
      b.sum.push(value)
      b.n.push(1)
      // Keep the window bounded: drop what fell out of it now and then, not per event.
      if (b.t.length % 512 === 0) this.#trim(b)
    } else {
      const i = lowerBound(b.t, start)
      if (b.t[i] === start) {
        b.sum[i]! += value
        b.n[i]!++
      } else {
        b.t.splice(i, 0, start)
        b.sum.splice(i, 0, value)
        b.n.splice(i, 0, 1)
      }
    }
  }

  #trim(b: Buckets): void {
    const cut = lowerBound(b.t, this.latest - this.#windowMs)
    if (cut > 0) {
      b.t.splice(0, cut)
      b.sum.splice(0, cut)
      b.n.splice(0, cut)
    }
  }

  /** Per-bucket averages of one stream inside the window, times in seconds. */
  points(stream: string): Points {
    const b = this.#streams.get(stream)
    if (!b) return { t: [], v: [] }
    const from = lowerBound(b.t, this.latest - this.#windowMs)
    const t: number[] = []
    const v: number[] = []
    for (let i = from; i < b.t.length; i++) {
      t.push((b.t[i] as number) / 1000)
      v.push((b.sum[i] as number) / (b.n[i] as number))
    }
    return { t, v }
  }

  /** Total events counted for `stream` (inside the stored buckets). */
  count(stream: string): number {
    const b = this.#streams.get(stream)
    return b ? b.n.reduce((a, x) => a + x, 0) : 0
  }

  clear(): void {
    this.#streams.clear()
    this.latest = Number.NEGATIVE_INFINITY
  }
}

/**
 * History points before the live tail starts, then the live tail: the live
 * buckets win where both cover the same time.
 */
export function joinHistory(history: Points, live: Points): Points {
  if (live.t.length === 0) return history
  const first = live.t[0] as number
  const cut = lowerBound(history.t, first)
  return { t: [...history.t.slice(0, cut), ...live.t], v: [...history.v.slice(0, cut), ...live.v] }
}

/**
 * uPlot's aligned data: the sorted union of every series' times, and each
 * series' value at those times (null where it has none; drawn with spanGaps).
 */
export function align(series: readonly Points[]): [number[], ...(number | null)[][]] {
  const all = new Set<number>()
  for (const s of series) for (const t of s.t) all.add(t)
  const xs = [...all].sort((a, b) => a - b)
  const index = new Map<number, number>()
  xs.forEach((t, i) => index.set(t, i))
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(xs.length).fill(null)
    for (let i = 0; i < s.t.length; i++) y[index.get(s.t[i] as number) as number] = s.v[i] as number
    return y
  })
  return [xs, ...ys]
}

/** Reads one stream of a `/history` answer: `[{timestamp, value, normalized}]` → points (seconds). */
export function historyPoints(rows: unknown): Points {
  const t: number[] = []
  const v: number[] = []
  if (!Array.isArray(rows)) return { t, v }
  for (const r of rows as Record<string, unknown>[]) {
    if (typeof r !== 'object' || r === null) continue
    const ts = typeof r.timestamp === 'string' ? Date.parse(r.timestamp) : Number.NaN
    const n = typeof r.normalized === 'number' ? r.normalized : r.normalizedValue
    if (Number.isFinite(ts) && typeof n === 'number' && Number.isFinite(n)) {
      t.push(ts / 1000)
      v.push(n)
    }
  }
  // Sorted by time whatever order the server used.
  const order = t.map((_, i) => i).sort((a, b) => (t[a] as number) - (t[b] as number))
  return { t: order.map((i) => t[i] as number), v: order.map((i) => v[i] as number) }
}
