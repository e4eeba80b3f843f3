/**
 * The state codec of engine snapshots: what JSON loses comes back (identity,
 * cycles, NaN and −0, Maps, Sets, typed arrays bit for bit), world objects are
 * written as paths and resolved in the restoring world, class instances go
 * through their SnapshotClass, and what cannot be written is refused, naming where.
 */
import { describe, expect, it } from 'vitest'
import {
  AgentPopulation,
  Cooldown,
  Fenwick,
  Rng,
  SNAPSHOT,
  SimErrorCode,
  decodeState,
  encodeState,
  type SnapshotClass,
} from '../src/index.js'

const KERNEL = [Rng[SNAPSHOT], Fenwick[SNAPSHOT], AgentPopulation[SNAPSHOT], Cooldown[SNAPSHOT]]

/** A stand-in for a world: objects and functions reachable from it are written as paths. */
function makeWorld() {
  const chain = { name: 'booking', outcomes: [{ p: 0.7 }, { p: 0.3 }] }
  return {
    id: 'w',
    streams: [{ name: 'a', chains: [chain], sample: () => 1 }],
    byName: new Map([['booking', chain]]),
  }
}

function roundTrip<T>(value: T, world: object = makeWorld(), into: object = world): T {
  const json = encodeState(value, world)
  return decodeState(JSON.parse(json), into, KERNEL as SnapshotClass<unknown>[]) as T
}

describe('state codec', () => {
  it('should keep shared objects shared and cycles closed', () => {
    const student: Record<string, unknown> = { id: 'stu_1', tutor: null }
    const tutor = { id: 'tut_1', students: [student] }
    student.tutor = tutor
    const booking = { id: 'bkg_1', student, tutor }
    const back = roundTrip({ pool: [student], queue: [{ t: 1, ctx: booking }] })
    const s = back.pool[0]!
    expect(back.queue[0]!.ctx.student).toBe(s)
    expect((s.tutor as typeof tutor).students[0]).toBe(s)
    expect(back.queue[0]!.ctx.tutor).toBe(s.tutor)
  })

  it('should keep the numbers and values JSON loses', () => {
    const value = {
      nan: NaN,
      inf: Infinity,
      minf: -Infinity,
      negZero: -0,
      big: 12345678901234567890n,
      undef: undefined,
      nested: [undefined, NaN, 1.5, -0],
      date: new Date(Date.UTC(2025, 1, 24)),
    }
    const back = roundTrip(value)
    expect(back.nan).toBeNaN()
    expect(back.inf).toBe(Infinity)
    expect(back.minf).toBe(-Infinity)
    expect(Object.is(back.negZero, -0)).toBe(true)
    expect(back.big).toBe(12345678901234567890n)
    expect('undef' in back && back.undef === undefined).toBe(true)
    expect(back.nested[0]).toBeUndefined()
    expect(back.nested[1]).toBeNaN()
    expect(Object.is(back.nested[3], -0)).toBe(true)
    expect(back.date.getTime()).toBe(value.date.getTime())
  })

  it('should keep Maps (object keys too), Sets, null-prototype objects and a __proto__ key', () => {
    const rec = { id: 'evt_1' }
    const proto = Object.create(null) as Record<string, number>
    proto.x = 1
    const weird = JSON.parse('{"__proto__": {"polluted": true}, "y": 2}') as Record<string, unknown>
    const back = roundTrip({
      tracks: new Map<object, number[]>([[rec, [1, 2]]]),
      recs: [rec],
      set: new Set(['a', 'b']),
      proto,
      weird,
    })
    expect([...back.tracks.keys()][0]).toBe(back.recs[0])
    expect(back.tracks.get(back.recs[0]!)).toEqual([1, 2])
    expect([...back.set]).toEqual(['a', 'b'])
    expect(Object.getPrototypeOf(back.proto)).toBeNull()
    expect(back.proto.x).toBe(1)
    expect(Object.hasOwn(back.weird, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(back.weird.y).toBe(2)
  })

  it('should keep typed arrays bit for bit, and one array shared by two holders', () => {
    const f = new Float64Array([NaN, -0, 1e-300, Infinity, 0.1 + 0.2])
    const u = new Uint8Array([0, 255, 7])
    const back = roundTrip({ f, again: f, u, i: new Int32Array([-1, 2 ** 31 - 1]) })
    expect(back.f).toBeInstanceOf(Float64Array)
    expect(new Uint8Array(back.f.buffer)).toEqual(new Uint8Array(f.buffer))
    expect(back.again).toBe(back.f)
    expect(back.u).toEqual(u)
    expect([...back.i]).toEqual([-1, 2 ** 31 - 1])
  })

  it('should write world objects as paths and resolve them in the restoring world', () => {
    const a = makeWorld()
    const b = makeWorld()
    const chain = a.streams[0]!.chains[0]!
    const json = encodeState(
      { chainP: new Map([[chain, [0.5, 0.5]]]), fn: a.streams[0]!.sample },
      a,
    )
    // written as a path, not copied
    expect(json).not.toContain('outcomes')
    const back = decodeState(JSON.parse(json), b, []) as {
      chainP: Map<object, number[]>
      fn: () => number
    }
    expect([...back.chainP.keys()][0]).toBe(b.streams[0]!.chains[0])
    expect(back.fn).toBe(b.streams[0]!.sample)
  })

  it('should refuse a world object the restoring world does not have', () => {
    const a = makeWorld()
    const json = encodeState({ c: a.streams[0]!.chains[0] }, a)
    expect(() => decodeState(JSON.parse(json), { id: 'other', streams: [] }, [])).toThrow(
      // the shortest path: through the Map's value
      /the world has nothing at \["byName",\["booking"\]\]; the snapshot was taken of another world/,
    )
  })

  it('should save class instances through their SnapshotClass: an Rng goes on with the same draws', () => {
    const rng = new Rng(42)
    rng.next()
    rng.normal() // leaves a spare normal draw
    const back = roundTrip({ rng })
    expect(back.rng).toBeInstanceOf(Rng)
    expect(Array.from({ length: 5 }, () => back.rng.normal())).toEqual(
      Array.from({ length: 5 }, () => rng.normal()),
    )
  })

  it('should keep a population, its columns and its cooldown together', () => {
    const pop = new AgentPopulation({ segments: ['a', 'b'], actions: ['visit', 'buy'] })
    const fav = pop.addColumn(Uint8Array)
    const cd = new Cooldown(pop, { action: 1, durationMs: 1000, factor: 0.5 })
    for (let i = 0; i < 40; i++) {
      const id = pop.spawn(i % 2, [1 + i, 0.5])
      cd.register(id)
      fav.values[id] = i
    }
    cd.begin(3, 10)
    const back = roundTrip({ pop, fav, cd })
    const r1 = new Rng(1)
    const r2 = new Rng(1)
    for (let i = 0; i < 50; i++) expect(back.pop.pick(0, 0, r2)).toBe(pop.pick(0, 0, r1))
    expect(back.pop.propensity(3, 1)).toBe(pop.propensity(3, 1))
    // the column is the population's own: growing it moves the world's column too
    for (let i = 0; i < 100; i++) back.pop.spawn(0, [1, 1])
    expect(back.fav.values.length).toBeGreaterThan(100)
    expect(back.fav.values[5]).toBe(5)
    expect(back.cd.pick(1, 20, r2)).toBe(cd.pick(1, 20, r1))
  })

  it('should refuse a closure, naming where it is', () => {
    const world = makeWorld()
    const err = (() => {
      try {
        encodeState({ state: { reg: { onChurn: () => 1 } } }, world)
      } catch (e) {
        return e as { code: string; message: string }
      }
    })()
    expect(err?.code).toBe(SimErrorCode.badArgument)
    expect(err?.message).toMatch(/state\.reg\.onChurn is a function \(onChurn\)/)
  })

  it('should refuse an instance of a class without [SNAPSHOT], naming the class and where', () => {
    class Opaque {
      x = 1
    }
    expect(() => encodeState({ pools: [new Opaque()] }, makeWorld())).toThrow(
      /pools\.0 is an instance of class Opaque, which has no static \[SNAPSHOT\]/,
    )
  })

  it('should refuse data it did not write, and a class nobody registers', () => {
    const world = makeWorld()
    expect(() => decodeState(['?', 1], world, [])).toThrow(/corrupt state \(tag "\?"\)/)
    expect(() => decodeState(['r', 3], world, [])).toThrow(/corrupt state/)
    expect(() => decodeState({ a: 1 }, world, [])).toThrow(/corrupt state/)
    const json = encodeState({ rng: new Rng(1) }, world)
    expect(() => decodeState(JSON.parse(json), world, [])).toThrow(
      /class Rng, which neither the kernel nor the world registers/,
    )
  })
})
