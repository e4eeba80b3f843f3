/**
 * Stream modifiers: what scenarios, external events and `setModifiers` do to the
 * baseline. This module owns their validation against a world (stream names,
 * value ranges, which parameters a stream has) and their composition into the
 * per-stream parameters the engine runs with.
 *
 * Application order is baseline → time patterns (the rate model) → scenario →
 * external events. Modifiers on one parameter (stream × rate | value | probability)
 * compose in that order: a multiplier multiplies what came before, an additive adds
 * to it, an override replaces it. So several multipliers multiply (1.5 × 1.2 = 1.8).
 * When some of them declare a `precedence`, only those with the highest precedence
 * apply. Two or more sources on one parameter are reported as a conflict with the
 * resolution taken.
 *
 * A modifier applies with a strength r ∈ [0, 1] (1 while active, shrinking while its
 * scenario settles): a multiplier v becomes 1 + (v − 1)·r, an additive or a shift
 * v·r, and an override blends (1 − r)·before + r·v.
 */
import type { ModifierTarget, StreamModifier } from '@verisim/schema'
import {
  streamPatternCovers as patternCovers,
  streamPatternMatcher as streamMatcher,
} from '@verisim/schema'
import { DAY, HOUR } from './calendar.js'
import { ArrivalKind, type World, type WorldChain } from './world/types.js'

export type { CompiledModifier } from './world/types.js'
import type { CompiledModifier } from './world/types.js'

/** A problem with one modifier: `path` is relative to the modifier (`/value`, `/stream`), `rule` what was expected. */
export interface ModifierProblem {
  readonly path: string
  readonly rule: string
  readonly found?: unknown
}

/** Which streams a pattern matches (`*`, `<domain>.*`, an exact name): the one implementation, in @verisim/schema. */
export { patternCovers, streamMatcher }

/** Per stream facts the checks and the deviation need, derived once from the world. */
export interface StreamFacts {
  readonly name: string
  readonly arrivalKind: number
  /** Mean baseline arrivals per hour (0 without an arrival of its own). */
  readonly ratePerHour: number
  readonly valueMean: number
  readonly valueSd: number
  /** Chains this stream is an outcome of, with its position and baseline probability there. */
  readonly outcomeOf: readonly {
    readonly chain: WorldChain
    readonly index: number
    readonly p: number
  }[]
}

const factsCache = new WeakMap<World, readonly StreamFacts[]>()

export function streamFacts(
  world: Pick<World, 'streams' | 'module' | 'config'>,
): readonly StreamFacts[] {
  const cached = factsCache.get(world as World)
  if (cached) return cached
  const outcomeOf: { chain: WorldChain; index: number; p: number }[][] = world.streams.map(() => [])
  for (const s of world.streams) {
    for (const c of s.chains)
      c.outcomes.forEach((o, i) =>
        outcomeOf[o.stream]!.push({ chain: c, index: i, p: o.probability }),
      )
  }
  const facts = world.streams.map((s, i): StreamFacts => ({
    name: s.name,
    arrivalKind: s.arrivalKind,
    ratePerHour:
      s.arrivalKind === ArrivalKind.state
        ? s.stateRate!.expected(world as World, s) * HOUR
        : s.arrivalKind === ArrivalKind.none
          ? 0
          : (s.perDay * HOUR) / DAY,
    valueMean: s.baseline.mean,
    valueSd: s.baseline.sd,
    outcomeOf: outcomeOf[i]!,
  }))
  factsCache.set(world as World, facts)
  return facts
}

const MAX_DEVIATION = 1e6

/**
 * Checks one modifier against the world and compiles it. Returns the first problem
 * instead when there is one.
 *
 * @example
 * const m = compileModifier(world, { stream: 'customer.payment.failed', type: 'override', target: 'probability', value: 0.6 })
 */
export function compileModifier(
  world: Pick<World, 'streams' | 'module' | 'config' | 'id'>,
  spec: StreamModifier,
): CompiledModifier | ModifierProblem {
  const facts = streamFacts(world)
  const match = streamMatcher(spec.stream)
  const streams: number[] = []
  facts.forEach((f, i) => {
    if (match(f.name)) streams.push(i)
  })
  if (streams.length === 0)
    return {
      path: '/stream',
      rule: `a stream of world ${world.id} (an exact name, "<domain>.*" or "*")`,
      found: spec.stream,
    }
  const type = spec.type
  const target: ModifierTarget =
    spec.target ?? (type === 'probabilityShift' ? 'probability' : 'rate')
  const v = spec.value
  if (!Number.isFinite(v)) return { path: '/value', rule: 'a finite number', found: v }
  if (type === 'probabilityShift' && target !== 'probability')
    return {
      path: '/target',
      rule: '"probability" (a probabilityShift changes outcome probabilities)',
      found: target,
    }
  if (type === 'multiplier' && !(v > 0))
    return { path: '/value', rule: 'a positive multiplier', found: v }
  if (type === 'probabilityShift' && !(v >= -1 && v <= 1))
    return { path: '/value', rule: 'a shift between -1 and 1 (probability points)', found: v }
  if (type === 'override' && target === 'probability' && !(v >= 0 && v <= 1))
    return { path: '/value', rule: 'a probability between 0 and 1', found: v }
  if (type === 'override' && target === 'rate' && !(v >= 0))
    return { path: '/value', rule: 'a rate >= 0 events per hour', found: v }
  if (type === 'additive' && target === 'probability')
    return {
      path: '/type',
      rule: '"probabilityShift" to add to a probability (or "multiplier" / "override")',
      found: type,
    }
  let deviation = 0
  for (const s of streams) {
    const f = facts[s]!
    if (target === 'rate' && type !== 'multiplier') {
      if (f.arrivalKind !== ArrivalKind.poisson && f.arrivalKind !== ArrivalKind.state)
        return {
          path: '/stream',
          rule: `streams with a poisson or state arrival for a rate ${type} ("${f.name}" ${f.arrivalKind === ArrivalKind.periodic ? 'is periodic' : 'only happens as a chain outcome'}; use a multiplier)`,
          found: spec.stream,
        }
    }
    if (target === 'probability' && f.outcomeOf.length === 0)
      return {
        path: '/stream',
        rule: `streams that are chain outcomes for a probability modifier ("${f.name}" is not the outcome of any chain)`,
        found: spec.stream,
      }
    let d: number
    if (type === 'multiplier') d = Math.abs(v - 1)
    else if (target === 'rate')
      d = type === 'additive' ? Math.abs(v) / f.ratePerHour : Math.abs(v / f.ratePerHour - 1)
    else if (target === 'value') {
      const scale =
        Math.abs(f.valueMean) > 0 ? Math.abs(f.valueMean) : f.valueSd > 0 ? f.valueSd : 1
      d = type === 'additive' ? Math.abs(v) / scale : Math.abs(v - f.valueMean) / scale
    } else {
      d = 0
      for (const o of f.outcomeOf) {
        const x = type === 'probabilityShift' ? Math.abs(v) / o.p : Math.abs(v / o.p - 1)
        if (x > d) d = x
      }
    }
    if (!(d <= MAX_DEVIATION)) d = MAX_DEVIATION
    if (d > deviation) deviation = d
  }
  return {
    stream: spec.stream,
    streams,
    type,
    target,
    value: v,
    precedence: spec.precedence,
    description: spec.description,
    deviation,
    spec,
  }
}

export function isProblem(x: CompiledModifier | ModifierProblem): x is ModifierProblem {
  return (x as ModifierProblem).rule !== undefined
}

/** +1 when the modifier raises its parameter, −1 when it lowers it, 0 when that depends on the baseline (overrides). */
export function modifierDirection(m: Pick<CompiledModifier, 'type' | 'value'>): number {
  switch (m.type) {
    case 'multiplier':
      return m.value > 1 ? 1 : m.value < 1 ? -1 : 0
    case 'additive':
    case 'probabilityShift':
      return m.value > 0 ? 1 : m.value < 0 ? -1 : 0
    default:
      return 0
  }
}

// ---------------------------------------------------------------------------
// composition

/** A modifier in effect: who applies it, in which layer, with which strength. */
export interface ModifierEntry {
  readonly mod: CompiledModifier
  /** `scenario:<id>`, `external:<eventId>` or the cause given to setModifiers. */
  readonly source: string
  /** Recorded in events' `causes` (undefined: none). */
  readonly cause: string | undefined
  /** 0 manual (setModifiers, adjust_behavior), 1 scenario, 2 external events: the application order. */
  readonly layer: number
  /** Strength in [0, 1]. */
  readonly strength: number
}

/** The parameters of one stream once every modifier is applied. Rates in events per hour. */
export interface StreamParams {
  rateMult: number
  rateOverride: number
  rateAdd: number
  valueMult: number
  valueOverride: number
  valueAdd: number
  probMult: number
  probOverride: number
  probAdd: number
  causes: string[]
}

/** Two or more sources on one parameter of one stream, and what was done. */
export interface ModifierConflict {
  stream: string
  target: ModifierTarget
  sources: string[]
  /** `composed`: applied in order (multipliers multiply, additives add); `override`: an override replaced what came before; `precedence`: only the highest precedence applied. */
  resolution: 'composed' | 'override' | 'precedence'
  message: string
}

export function neutralParams(): StreamParams {
  return {
    rateMult: 1,
    rateOverride: NaN,
    rateAdd: 0,
    valueMult: 1,
    valueOverride: NaN,
    valueAdd: 0,
    probMult: 1,
    probOverride: NaN,
    probAdd: 0,
    causes: [],
  }
}

const TARGETS: readonly ModifierTarget[] = ['rate', 'value', 'probability']

/**
 * Composes `entries` (in layer order, then in the given order) into per-stream
 * parameters; conflicts go to `conflicts` when given.
 */
export function composeParams(
  world: Pick<World, 'streams'>,
  entries: readonly ModifierEntry[],
  conflicts?: ModifierConflict[],
): StreamParams[] {
  const params = world.streams.map(() => neutralParams())
  if (entries.length === 0) return params
  const ordered = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.layer - b.e.layer || a.i - b.i)
    .map((x) => x.e)
  // group by (stream, target)
  const groups = new Map<number, ModifierEntry[]>()
  for (const e of ordered) {
    const t = TARGETS.indexOf(e.mod.target)
    for (const s of e.mod.streams) {
      const key = s * 3 + t
      let g = groups.get(key)
      if (!g) groups.set(key, (g = []))
      g.push(e)
    }
  }
  const keys = [...groups.keys()].sort((a, b) => a - b)
  const kept = new Set<ModifierEntry>()
  for (const key of keys) {
    let g = groups.get(key)!
    const s = Math.floor(key / 3)
    const target = TARGETS[key % 3]!
    const name = world.streams[s]!.name
    const sources = [...new Set(g.map((e) => e.source))]
    let resolution: ModifierConflict['resolution'] = 'composed'
    let message = ''
    const declared = g.filter((e) => e.mod.precedence !== undefined)
    if (declared.length > 0) {
      const top = Math.max(...declared.map((e) => e.mod.precedence!))
      const winners = g.filter((e) => e.mod.precedence === top)
      if (winners.length < g.length) {
        resolution = 'precedence'
        message = `precedence ${top} (${[...new Set(winners.map((e) => e.source))].join(', ')}) applies; ${[...new Set(g.filter((e) => !winners.includes(e)).map((e) => e.source))].join(', ')} ignored`
      }
      g = winners
    }
    let O = NaN
    let M = 1
    let A = 0
    g.forEach((e, i) => {
      const v = e.mod.value
      const r = e.strength
      switch (e.mod.type) {
        case 'multiplier': {
          const m = r === 1 ? v : 1 + (v - 1) * r
          M *= m
          A *= m
          break
        }
        case 'additive':
        case 'probabilityShift':
          A += v * r
          break
        case 'override':
          if (r >= 1) {
            if (i > 0 && resolution === 'composed') {
              resolution = 'override'
              message = `override by ${e.source} replaces ${[...new Set(g.slice(0, i).map((x) => x.source))].join(', ')}`
            }
            O = v
            M = 1
            A = 0
          } else {
            M *= 1 - r
            A = A * (1 - r) + v * r
          }
          break
      }
    })
    const p = params[s]!
    if (target === 'rate') {
      p.rateOverride = O
      p.rateMult = M
      p.rateAdd = A
    } else if (target === 'value') {
      p.valueOverride = O
      p.valueMult = M
      p.valueAdd = A
    } else {
      p.probOverride = O
      p.probMult = M
      p.probAdd = A
    }
    for (const e of g) kept.add(e)
    if (conflicts && sources.length > 1) {
      if (resolution === 'composed')
        message = `${sources.join(', ')} composed in order (multipliers multiply, additives add)`
      conflicts.push({ stream: name, target, sources, resolution, message })
    }
  }
  // causes in application order (entries dropped by precedence shaped nothing)
  for (const e of ordered) {
    if (e.cause === undefined || !kept.has(e)) continue
    for (const s of e.mod.streams) {
      const cs = params[s]!.causes
      if (!cs.includes(e.cause)) cs.push(e.cause)
    }
  }
  return params
}

export function rateNeutral(p: StreamParams): boolean {
  return p.rateMult === 1 && p.rateAdd === 0 && Number.isNaN(p.rateOverride)
}
export function valueNeutral(p: StreamParams): boolean {
  return p.valueMult === 1 && p.valueAdd === 0 && Number.isNaN(p.valueOverride)
}
export function probNeutral(p: StreamParams): boolean {
  return p.probMult === 1 && p.probAdd === 0 && Number.isNaN(p.probOverride)
}

/**
 * Outcome probabilities of every chain touched by a probability modifier. A
 * modified outcome gets (override ?? p)·multiplier + shift (clamped to 0…1); in a
 * `oneOf` chain the other outcomes are rescaled so the chain keeps its total, and
 * they record the modifier's causes too (their share changed). Returns null when no
 * chain is touched.
 */
export function chainProbabilities(
  world: Pick<World, 'streams'>,
  params: readonly StreamParams[],
): Map<WorldChain, Float64Array> | null {
  let out: Map<WorldChain, Float64Array> | null = null
  for (const s of world.streams) {
    for (const c of s.chains) {
      const outs = c.outcomes
      let touched = false
      for (const o of outs) if (!probNeutral(params[o.stream]!)) touched = true
      if (!touched) continue
      const p = new Float64Array(outs.length)
      let total = 0
      let modSum = 0
      let sibSum = 0
      const modified: boolean[] = []
      outs.forEach((o, i) => {
        total += o.probability
        const q = params[o.stream]!
        if (probNeutral(q)) {
          modified.push(false)
          p[i] = o.probability
          sibSum += o.probability
        } else {
          modified.push(true)
          const x =
            (Number.isNaN(q.probOverride) ? o.probability : q.probOverride) * q.probMult + q.probAdd
          p[i] = x < 0 ? 0 : x > 1 ? 1 : x
          modSum += p[i]!
        }
      })
      if (c.oneOf) {
        if (sibSum > 0) {
          if (modSum <= total) {
            const k = (total - modSum) / sibSum
            outs.forEach((_, i) => {
              if (!modified[i]) p[i] = p[i]! * k
            })
          } else {
            // the modified outcomes alone exceed the chain's total: they share it
            outs.forEach((_, i) => (p[i] = modified[i] ? (p[i]! * total) / modSum : 0))
          }
        } else if (!c.complete && modSum > 1) {
          outs.forEach((_, i) => (p[i] = p[i]! / modSum))
        }
        // siblings' shares changed: they carry the causes of the modified outcomes
        const causes = new Set<string>()
        outs.forEach((o, i) => {
          if (modified[i]) for (const x of params[o.stream]!.causes) causes.add(x)
        })
        outs.forEach((o, i) => {
          if (!modified[i]) {
            const cs = params[o.stream]!.causes
            for (const x of causes) if (!cs.includes(x)) cs.push(x)
          }
        })
      }
      out ??= new Map()
      out.set(c, p)
    }
  }
  return out
}
