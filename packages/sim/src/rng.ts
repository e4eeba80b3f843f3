/**
 * Seeded, splittable randomness. The engine never calls `Math.random()`: every
 * stream and every entity draws from its own sub-stream, derived by hashing the
 * world seed with a key (stream name, entity kind + number). Adding a stream or an
 * entity therefore leaves every other sub-stream's draws unchanged.
 *
 * The generator is sfc32 (small, fast, passes PractRand to 2^40+), seeded through
 * splitmix32 from the 32-bit hash of (seed, key).
 */
import { SNAPSHOT, type SnapshotClass } from './state-codec.js'

/** 32-bit finalizer (murmur3 fmix32). */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Hash of a string (FNV-1a over UTF-16 code units, then fmix32), mixed with `seed`. */
export function hashString(str: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return fmix32(h)
}

/** Folds a seed of up to 53 bits and any number of keys into one 32-bit sub-stream key. */
export function deriveKey(seed: number, ...keys: readonly (string | number)[]): number {
  const lo = seed >>> 0
  const hi = Math.floor(seed / 0x100000000) >>> 0
  let h = fmix32(lo ^ fmix32(hi + 0x9e3779b9))
  for (const k of keys) {
    h =
      typeof k === 'string'
        ? hashString(k, h)
        : fmix32(h ^ fmix32((k >>> 0) + Math.imul(h, 0x27d4eb2d)))
  }
  return h
}

/**
 * A deterministic pseudo-random sequence.
 *
 * @example
 * const rng = createRng(42, 'customer.tutor.search')
 * rng.next() // same value for the same seed and key, always
 */
export class Rng {
  #a = 0
  #b = 0
  #c = 0
  #d = 0
  #spare = NaN

  /** Engine snapshots: the generator's position (four words and the spare normal draw). */
  static readonly [SNAPSHOT]: SnapshotClass<Rng> = {
    name: 'Rng',
    save: (r) => [r.#a, r.#b, r.#c, r.#d, r.#spare],
    load: (data) => {
      const [a, b, c, d, spare] = data as number[]
      const r = new Rng(0)
      r.#a = a!
      r.#b = b!
      r.#c = c!
      r.#d = d!
      r.#spare = spare!
      return r
    },
  }

  constructor(key: number) {
    this.reseed(key)
  }

  /** Restarts the sequence from a 32-bit key (reuses the object; no allocation). */
  reseed(key: number): this {
    let s = key >>> 0
    const sm = (): number => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) | 0
    }
    this.#a = sm()
    this.#b = sm()
    this.#c = sm()
    this.#d = 1
    this.#spare = NaN
    for (let i = 0; i < 12; i++) this.nextU32()
    return this
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const a = this.#a
    const b = this.#b
    const c = this.#c
    const d = this.#d
    const t = (((a + b) | 0) + d) | 0
    this.#d = (d + 1) | 0
    this.#a = b ^ (b >>> 9)
    this.#b = (c + (c << 3)) | 0
    const r = (c << 21) | (c >>> 11)
    this.#c = (r + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  /** Exponential with mean 1. */
  exp(): number {
    return -Math.log(1 - this.next())
  }

  /** Standard normal (Box–Muller, the second draw kept for the next call). */
  normal(): number {
    const spare = this.#spare
    if (spare === spare) {
      this.#spare = NaN
      return spare
    }
    let u = this.next()
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    const th = 2 * Math.PI * v
    this.#spare = r * Math.sin(th)
    return r * Math.cos(th)
  }

  /** Gamma(shape, 1) by Marsaglia–Tsang (shape < 1 boosted with U^(1/shape)). */
  gamma(shape: number): number {
    if (shape < 1) {
      const u = this.next()
      return this.gamma(shape + 1) * Math.pow(u === 0 ? Number.MIN_VALUE : u, 1 / shape)
    }
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      let x: number
      let v: number
      do {
        x = this.normal()
        v = 1 + c * x
      } while (v <= 0)
      v = v * v * v
      const u = this.next()
      if (u < 1 - 0.0331 * x * x * x * x) return d * v
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
    }
  }

  /** Poisson(mean): multiplication method below 30, rounded normal approximation above. */
  poisson(mean: number): number {
    if (mean <= 0) return 0
    if (mean < 30) {
      const l = Math.exp(-mean)
      let k = 0
      let p = this.next()
      while (p > l) {
        k++
        p *= this.next()
      }
      return k
    }
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()))
  }
}

/** A sub-stream for `seed` and the given keys (e.g. a stream name, or an entity kind and number). */
export function createRng(seed: number, ...keys: readonly (string | number)[]): Rng {
  return new Rng(deriveKey(seed, ...keys))
}
