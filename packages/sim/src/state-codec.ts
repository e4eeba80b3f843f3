/**
 * The state codec of engine snapshots: turns the engine's state (the world
 * module's state, the event queues with their contexts, the random streams, the
 * scenario layer, the signal) into JSON-safe data and back, keeping what plain
 * JSON loses:
 *
 * - identity: an object reached twice (a student in the registry and in a queued
 *   session's context) is written once and comes back as one object, cycles included;
 * - numbers JSON cannot hold (NaN, ±Infinity, −0), `undefined`, Maps, Sets, Dates
 *   and typed arrays (bit for bit);
 * - objects of the world itself (streams, chains, compiled scenarios, templates):
 *   written as their path in the world and resolved against the restoring
 *   engine's world (same config hash), never copied;
 * - class instances, through their class's {@link SnapshotClass} (its static
 *   `[SNAPSHOT]`): `save` gives its state as data, `load` builds an instance from
 *   it. The kernel's classes (Rng, Fenwick, AgentPopulation, Cooldown) have one; a
 *   world lists its own in `WorldModule.snapshotClasses`.
 *
 * A function, or an instance of a class without `[SNAPSHOT]`, that is not part of
 * the world cannot be written: encoding throws, naming where it was found.
 *
 * Encoded form: a primitive is itself (a string, a finite number other than −0, a
 * boolean, null); anything else is an array whose first element says what it is.
 * Objects are numbered in the order they are first written, and a later reference
 * is `["r", n]`, so decoding reads the data in the same order. A plain object is
 * `["o", keys, values]`, its key list written once and then named by number (the
 * queue holds tens of thousands of contexts of a few shapes).
 */
import { SimError, SimErrorCode } from './errors.js'

/** The static property of a class whose instances a snapshot can hold. */
export const SNAPSHOT: unique symbol = Symbol.for('verisim.snapshot')

/**
 * How a class's instances are saved into, and loaded from, a snapshot. The data
 * `save` returns may hold anything the codec writes (other instances, shared
 * objects, world objects); `load` gets it back decoded.
 *
 * @example
 * class Counter {
 *   #n = 0
 *   static readonly [SNAPSHOT]: SnapshotClass<Counter> = {
 *     name: 'Counter',
 *     save: (c) => c.#n,
 *     load: (n) => {
 *       const c = new Counter()
 *       c.#n = n as number // a static member of the class may set its private fields
 *       return c
 *     },
 *   }
 * }
 */
export interface SnapshotClass<T = unknown> {
  /** Unique among the kernel's and the world's classes: it names the class in the bytes. */
  readonly name: string
  save(instance: T): unknown
  load(data: unknown): T
}

/** A class constructor carrying its {@link SnapshotClass}. */
export interface Snapshottable {
  readonly [SNAPSHOT]: {
    readonly name: string
    save(instance: never): unknown
    load(data: unknown): unknown
  }
}

/** A path from the world's root: property names, and `[key]` for a Map's value. */
type Segment = string | number | [string | number]

const TYPED = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
} as const
type TypedName = keyof typeof TYPED

function isTypedName(x: unknown): x is TypedName {
  return typeof x === 'string' && Object.hasOwn(TYPED, x)
}

/** Objects of the world reachable through its properties, arrays and Map values: each with its path. */
const worldPaths = new WeakMap<object, Map<unknown, Segment[]>>()

function pathsOf(root: object): Map<unknown, Segment[]> {
  let paths = worldPaths.get(root)
  if (paths) return paths
  paths = new Map<unknown, Segment[]>([[root, []]])
  // breadth first: the shortest path of each object
  const queue: object[] = [root]
  for (let i = 0; i < queue.length; i++) {
    const o = queue[i]!
    if (ArrayBuffer.isView(o)) continue
    const base = paths.get(o)!
    const visit = (v: unknown, seg: Segment): void => {
      if ((typeof v !== 'object' || v === null) && typeof v !== 'function') return
      if (paths!.has(v)) return
      paths!.set(v, [...base, seg])
      if (typeof v === 'object') queue.push(v)
    }
    if (o instanceof Map) {
      for (const [k, v] of o) if (typeof k === 'string' || typeof k === 'number') visit(v, [k])
    } else if (Array.isArray(o)) {
      o.forEach((v, j) => visit(v, j))
    } else if (!(o instanceof Set)) {
      for (const k of Object.keys(o)) visit((o as Record<string, unknown>)[k], k)
    }
  }
  worldPaths.set(root, paths)
  return paths
}

function resolvePath(root: object, path: Segment[]): unknown {
  let o: unknown = root
  for (const seg of path) {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function')) return undefined
    if (Array.isArray(seg)) o = o instanceof Map ? o.get(seg[0]) : undefined
    else o = (o as Record<string | number, unknown>)[seg]
  }
  return o
}

function describePath(path: readonly (string | number)[]): string {
  return path.length === 0 ? 'the state' : path.join('.')
}

/**
 * Encodes `value` (see the module comment) as JSON text; `world` is the root of
 * the objects written as paths. Written straight to text, without an
 * intermediate tree: tutoring's state 10 simulated days in (~9 MB of JSON) takes
 * about half a second.
 */
export function encodeState(value: unknown, world: object): string {
  const known = pathsOf(world)
  const ids = new Map<unknown, number>()
  const where: (string | number)[] = []
  let out = ''
  const str = JSON.stringify
  // `where` names the place in errors (an error ends the encoding, so no unwinding)
  const inside = (seg: string | number, x: unknown): void => {
    where.push(seg)
    enc(x)
    where.pop()
  }
  /** The number of a key list, or −1 (then it is numbered now): compared key by key, without building a string. */
  const byFirst = new Map<string | undefined, { keys: string[]; n: number }[]>()
  let shapeCount = 0
  const shapeOf = (keys: string[]): number => {
    let list = byFirst.get(keys[0])
    if (list === undefined) byFirst.set(keys[0], (list = []))
    outer: for (const sh of list) {
      if (sh.keys.length !== keys.length) continue
      for (let i = 1; i < keys.length; i++) if (sh.keys[i] !== keys[i]) continue outer
      return sh.n
    }
    list.push({ keys, n: shapeCount++ })
    return -1
  }
  const enc = (v: unknown): void => {
    switch (typeof v) {
      case 'string':
        out += str(v)
        return
      case 'boolean':
        out += v ? 'true' : 'false'
        return
      case 'number':
        if (Number.isFinite(v) && !Object.is(v, -0)) out += String(v)
        else out += `["n","${Object.is(v, -0) ? '-0' : String(v)}"]`
        return
      case 'undefined':
        out += '["u"]'
        return
      case 'bigint':
        out += `["b","${v.toString()}"]`
        return
      case 'symbol':
        throw new SimError(
          SimErrorCode.badArgument,
          `snapshot: ${describePath(where)} is a symbol, which a snapshot cannot hold`,
        )
    }
    if (v === null) {
      out += 'null'
      return
    }
    const seen = ids.get(v)
    if (seen !== undefined) {
      out += `["r",${seen}]`
      return
    }
    const path = known.get(v)
    ids.set(v, ids.size)
    if (path !== undefined) {
      out += `["x",${str(path)}]`
      return
    }
    if (typeof v === 'function')
      throw new SimError(
        SimErrorCode.badArgument,
        `snapshot: ${describePath(where)} is a function (${v.name || 'anonymous'}) that is not part of the world; a snapshot holds data, not closures`,
      )
    const o = v as object
    if (Array.isArray(o)) {
      out += '["a",['
      for (let i = 0; i < o.length; i++) {
        if (i > 0) out += ','
        inside(i, o[i])
      }
      out += ']]'
      return
    }
    if (ArrayBuffer.isView(o)) {
      const name = o.constructor.name
      if (!isTypedName(name))
        throw new SimError(
          SimErrorCode.badArgument,
          `snapshot: ${describePath(where)} is a ${name}, which a snapshot cannot hold (typed arrays of numbers only)`,
        )
      const bytes = Buffer.from(o.buffer, o.byteOffset, o.byteLength)
      out += `["t","${name}","${bytes.toString('base64')}"]`
      return
    }
    const proto = Object.getPrototypeOf(o) as object | null
    if (proto === Object.prototype || proto === null) {
      const keys = Object.keys(o)
      const shape = shapeOf(keys)
      out += `["${proto === null ? 'O' : 'o'}",${shape >= 0 ? shape : str(keys)},[`
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) out += ','
        const k = keys[i]!
        inside(k, (o as Record<string, unknown>)[k])
      }
      out += ']]'
      return
    }
    if (o instanceof Map) {
      out += '["m",['
      let i = 0
      for (const [k, x] of o) {
        if (i > 0) out += ','
        inside(`<key ${i}>`, k)
        out += ','
        inside(typeof k === 'string' || typeof k === 'number' ? k : `<${i}>`, x)
        i++
      }
      out += ']]'
      return
    }
    if (o instanceof Set) {
      out += '["s",['
      let i = 0
      for (const x of o) {
        if (i > 0) out += ','
        inside(i++, x)
      }
      out += ']]'
      return
    }
    if (o instanceof Date) {
      out += '["d",'
      enc(o.getTime())
      out += ']'
      return
    }
    const cls = (o.constructor as Partial<Snapshottable> | undefined)?.[SNAPSHOT]
    if (cls === undefined)
      throw new SimError(
        SimErrorCode.badArgument,
        `snapshot: ${describePath(where)} is an instance of class ${o.constructor?.name ?? '?'}, which has no static [SNAPSHOT] (SnapshotClass) to save it with`,
      )
    out += `["c",${str(cls.name)},`
    inside(`<${cls.name}>`, cls.save(o as never))
    out += ']'
  }
  enc(value)
  return out
}

/**
 * Decodes {@link encodeState}'s output against `world` (the same world, by config
 * hash), loading class instances with `classes` (by {@link SnapshotClass.name}).
 * Throws `VS_SIM_BAD_ARGUMENT` on data it did not write.
 */
export function decodeState(
  data: unknown,
  world: object,
  classes: readonly SnapshotClass<unknown>[],
): unknown {
  const byName = new Map(classes.map((c) => [c.name, c]))
  const objs: unknown[] = []
  const shapes: string[][] = []
  const PENDING = Symbol('pending')
  const bad = (what: string): never => {
    throw new SimError(SimErrorCode.badArgument, `snapshot: corrupt state (${what})`)
  }
  const dec = (e: unknown): unknown => {
    if (e === null || typeof e !== 'object') return e
    if (!Array.isArray(e)) return bad('an object outside a tagged array')
    const [tag, a, b] = e as [unknown, unknown, unknown]
    switch (tag) {
      case 'n':
        return a === '-0' ? -0 : Number(a)
      case 'u':
        return undefined
      case 'b':
        return BigInt(String(a))
      case 'r': {
        const o = objs[a as number]
        if (o === PENDING)
          return bad(`object ${String(a)} refers back to a class instance being loaded`)
        if (typeof a !== 'number' || a >= objs.length) return bad(`reference ${String(a)}`)
        return o
      }
      case 'x': {
        const o = resolvePath(world, a as Segment[])
        if (o === undefined)
          throw new SimError(
            SimErrorCode.badArgument,
            `snapshot: the world has nothing at ${JSON.stringify(a)}; the snapshot was taken of another world or version`,
          )
        objs.push(o)
        return o
      }
      case 'a': {
        const out: unknown[] = []
        objs.push(out)
        for (const x of a as unknown[]) out.push(dec(x))
        return out
      }
      case 'o':
      case 'O': {
        const out: Record<string, unknown> = tag === 'O' ? Object.create(null) : {}
        objs.push(out)
        let keys: string[] | undefined
        if (Array.isArray(a)) shapes.push((keys = a as string[]))
        else keys = shapes[a as number]
        const values = b as unknown[]
        if (keys === undefined || !Array.isArray(values) || values.length !== keys.length)
          return bad(`object of shape ${JSON.stringify(a)}`)
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]!
          if (k !== '__proto__') out[k] = dec(values[i])
          else
            Object.defineProperty(out, k, {
              value: dec(values[i]),
              writable: true,
              enumerable: true,
              configurable: true,
            })
        }
        return out
      }
      case 'm': {
        const out = new Map<unknown, unknown>()
        objs.push(out)
        const xs = a as unknown[]
        for (let i = 0; i < xs.length; i += 2) {
          const k = dec(xs[i])
          out.set(k, dec(xs[i + 1]))
        }
        return out
      }
      case 's': {
        const out = new Set<unknown>()
        objs.push(out)
        for (const x of a as unknown[]) out.add(dec(x))
        return out
      }
      case 'd': {
        const i = objs.push(null) - 1
        return (objs[i] = new Date(dec(a) as number))
      }
      case 't': {
        if (!isTypedName(a)) return bad(`typed array ${String(a)}`)
        const bytes = Buffer.from(String(b), 'base64')
        const T = TYPED[a]
        const copy = new Uint8Array(bytes.byteLength)
        copy.set(bytes)
        const out = new T(copy.buffer, 0, bytes.byteLength / T.BYTES_PER_ELEMENT)
        objs.push(out)
        return out
      }
      case 'c': {
        const cls = byName.get(String(a))
        if (cls === undefined)
          throw new SimError(
            SimErrorCode.badArgument,
            `snapshot: holds an instance of class ${String(a)}, which neither the kernel nor the world registers (WorldModule.snapshotClasses)`,
          )
        const i = objs.push(PENDING) - 1
        return (objs[i] = cls.load(dec(b)))
      }
      default:
        return bad(`tag ${JSON.stringify(tag)}`)
    }
  }
  return dec(data)
}
