/**
 * Shared machinery of the per-scenario tests: runs a scenario on a fixed seed from
 * T0 through active → settling → settled (driving the transitions at
 * `nextTransition.at`, as the generator does), records per-minute counts and value
 * sums of every stream, and a same-seed baseline engine without the scenario; then
 * checks each of the scenario's declared effects against the baseline.
 *
 * The API request log is thinned (× 0.02, in both engines) to keep the tests fast;
 * scenario modifiers on it compose with that.
 */
import { expect } from 'vitest'
import {
  DAY,
  HOUR,
  MINUTE,
  createEngine,
  parseIsoDuration,
  type CompiledScenario,
  type Engine,
  type ExternalEvent,
  type ScenarioActivation,
  type SimEvent,
  type World,
  type WorldChain,
} from '@verisim/sim'
import { START, tutoring } from '../helpers.js'

export const T0 = START + DAY
export const SEED = 42
export const THIN = {
  stream: 'system.api.request.log',
  multiplier: 0.02,
  cause: 'test:thin-api-log',
}
/** How long after `settled` the post-settlement window lasts. */
export const POST = 6 * HOUR

export const world: World = tutoring()
const N = world.streams.length

/** Per-minute (from T0) counts and value sums per stream, plus the events a check needs. */
export class Recording {
  readonly counts: Float64Array[] = []
  readonly vsum: Float64Array[] = []
  readonly vsq: Float64Array[] = []
  readonly external: SimEvent[] = []
  /** Events of streams joined by id (chain triggers and outcomes), as (ts, data). */
  readonly kept = new Map<string, { ts: number; data: Record<string, unknown> }[]>()
  /** Per stream: events carrying each cause, per minute. */
  readonly caused = new Map<string, Float64Array[]>()
  minutes = 0
  constructor(readonly keep: ReadonlySet<string>) {
    for (let s = 0; s < N; s++) {
      this.counts.push(new Float64Array(0))
      this.vsum.push(new Float64Array(0))
      this.vsq.push(new Float64Array(0))
    }
  }
  #grow(m: number): void {
    if (m <= this.minutes) return
    const size = Math.max(m, this.minutes * 2, 60)
    for (let s = 0; s < N; s++) {
      for (const arr of [this.counts, this.vsum, this.vsq]) {
        const x = new Float64Array(size)
        x.set(arr[s]!)
        arr[s] = x
      }
    }
    for (const list of this.caused.values()) {
      for (let s = 0; s < N; s++) {
        const x = new Float64Array(size)
        x.set(list[s]!)
        list[s] = x
      }
    }
    this.minutes = size
  }
  add(evs: readonly SimEvent[]): void {
    for (const e of evs) {
      if (e.channel === 'external') {
        this.external.push(e)
        continue
      }
      const m = Math.floor((e.ts - T0 - 1) / MINUTE)
      if (m < 0) continue
      this.#grow(m + 1)
      const s = world.streamIndex.get(e.stream)!
      const v = e.data[world.streams[s]!.valueField] as number
      this.counts[s]![m]! += 1
      this.vsum[s]![m]! += v
      this.vsq[s]![m]! += v * v
      for (const c of e.causes) {
        if (c.startsWith('test:')) continue
        let list = this.caused.get(c)
        if (!list) {
          list = Array.from({ length: N }, () => new Float64Array(this.minutes))
          this.caused.set(c, list)
        }
        list[s]![m]! += 1
      }
      if (this.keep.has(e.stream)) {
        let k = this.kept.get(e.stream)
        if (!k) this.kept.set(e.stream, (k = []))
        k.push({ ts: e.ts, data: e.data })
      }
    }
  }
  /** Sum over minutes [a, b) of `arr` for stream `s` (a, b in ms after T0). */
  sum(arr: Float64Array[], s: number, a: number, b: number): number {
    const x = arr[s]!
    let acc = 0
    for (
      let m = Math.max(0, Math.floor(a / MINUTE));
      m < Math.min(x.length, Math.ceil(b / MINUTE));
      m++
    )
      acc += x[m]!
    return acc
  }
  count(s: number, a: number, b: number): number {
    return this.sum(this.counts, s, a, b)
  }
  causedCount(cause: string, s: number, a: number, b: number): number {
    const list = this.caused.get(cause)
    return list ? this.sum(list, s, a, b) : 0
  }
}

export function newEngine(): Engine {
  const e = createEngine({ world, seed: SEED, start: START })
  e.setModifiers([THIN])
  return e
}

/** Streams joined by id for probability checks: every chain trigger and outcome. */
export function joinStreams(): Set<string> {
  const out = new Set<string>()
  for (const s of world.streams)
    for (const c of s.chains)
      if (c.oneOf) {
        out.add(s.name)
        for (const o of c.outcomes) out.add(world.streams[o.stream]!.name)
      }
  return out
}

let baseline: { engine: Engine; rec: Recording } | null = null
/** The same-seed baseline, recorded until `T0 + until`. */
export function baselineUntil(until: number): Recording {
  if (!baseline) {
    const engine = newEngine()
    engine.advance(T0)
    baseline = { engine, rec: new Recording(joinStreams()) }
  }
  const b = baseline
  for (let t = b.engine.now + HOUR; b.engine.now < T0 + until; t += HOUR)
    b.rec.add(b.engine.advance(Math.min(t, T0 + until)))
  return b.rec
}

export interface ScenarioRun {
  def: CompiledScenario
  /** Activation time after T0. */
  offset: number
  activation: ScenarioActivation
  rec: Recording
  /** Times after T0. */
  activeEnd: number
  settledAt: number
  end: number
  phases: string[]
  /** scenarioStatus().deviation sampled during settling. */
  deviations: number[]
  externalList: ExternalEvent[]
  engine: Engine
}

/** Runs scenario `id` from T0 (+ `after`) until POST after it settled, driving the transitions when they come due. */
export function runScenario(id: string, opts: { step?: number; after?: number } = {}): ScenarioRun {
  const def = world.scenarioSet.byId.get(id)!
  const engine = newEngine()
  engine.advance(T0)
  const rec = new Recording(joinStreams())
  const step = opts.step ?? HOUR
  const drive = (to: number): void => {
    for (let t = engine.now + step; engine.now < to; t += step)
      rec.add(engine.advance(Math.min(t, to)))
  }
  const offset = opts.after ?? 0
  drive(T0 + offset)
  const activation = engine.activateScenario(id)
  const phases: string[] = [engine.scenarioStatus()!.status]
  let st = engine.scenarioStatus()!
  expect(st.nextTransition).toEqual({ to: 'settling', at: activation.activeUntil })
  drive(st.nextTransition!.at)
  expect(engine.scenarioStatus()!.status).toBe('active')
  expect(engine.transitionScenario(activation.runId, 'settling')).toBe(true)
  st = engine.scenarioStatus()!
  phases.push(st.status)
  const deviations: number[] = [st.deviation]
  const settleAt = st.nextTransition!.at
  expect(st.nextTransition!.to).toBe('settled')
  const settleStep = Math.max(MINUTE, Math.floor((settleAt - engine.now) / 8))
  while (engine.now < settleAt) {
    rec.add(engine.advance(Math.min(engine.now + settleStep, settleAt)))
    deviations.push(engine.scenarioStatus()!.deviation)
  }
  expect(engine.transitionScenario(activation.runId, 'settled')).toBe(true)
  st = engine.scenarioStatus()!
  phases.push(st.status)
  const settledAt = st.settledAt! - T0
  drive(T0 + settledAt + POST)
  return {
    def,
    offset,
    activation,
    rec,
    activeEnd: activation.activeUntil - T0,
    settledAt,
    end: settledAt + POST,
    phases,
    deviations,
    externalList: engine.externalEvents(),
    engine,
  }
}

// ---------------------------------------------------------------------------
// declared effects

export interface Effect {
  stream: number
  target: 'rate' | 'value' | 'probability'
  type: string
  value: number
  /** ms after T0 */
  from: number
  to: number
  role: string
}

/** Every modifier the scenario applies during its active phase, with its interval (after T0; activated at `offset`). */
export function declaredEffects(def: CompiledScenario, offset = 0): Effect[] {
  const D = def.info.durationMs
  const out: Effect[] = []
  const push = (
    mods: CompiledScenario['modifiers'],
    from: number,
    to: number,
    role: string,
  ): void => {
    for (const m of mods)
      for (const s of m.streams)
        out.push({
          stream: s,
          target: m.target,
          type: m.type,
          value: m.value,
          from: Math.max(0, from),
          to: Math.min(D, to),
          role,
        })
  }
  push(def.modifiers, 0, D, 'direct')
  for (const c of def.cascades) push(c.modifiers, c.startMs, D, `cascade:${c.id}`)
  for (const e of def.events) {
    const tpl = world.scenarioSet.templateById.get(e.templateId)!
    if (e.overrides?.redHerring ?? tpl.redHerring) continue
    const impact = { ...tpl.expectedImpact, ...e.overrides?.expectedImpact }
    const start = e.offsetMs + parseIsoDuration(impact.delay)!
    const end = start + parseIsoDuration(impact.duration)!
    if (end <= 0) continue
    push(tpl.modifiers, start, end, `event:${e.templateId}`)
  }
  return out
    .filter((e) => e.to > e.from)
    .map((e) => ({ ...e, from: e.from + offset, to: e.to + offset }))
}

/** The longest interval inside [from, to) where the set of effects on (stream, target) does not change. */
export function steadySegment(
  effects: readonly Effect[],
  e: Effect,
): { from: number; to: number; active: Effect[] } {
  const same = effects.filter((x) => x.stream === e.stream && x.target === e.target)
  const cuts = [...new Set([e.from, e.to, ...same.flatMap((x) => [x.from, x.to])])]
    .filter((t) => t >= e.from && t <= e.to)
    .sort((a, b) => a - b)
  let best = { from: e.from, to: e.from }
  for (let i = 0; i + 1 < cuts.length; i++)
    if (cuts[i + 1]! - cuts[i]! > best.to - best.from) best = { from: cuts[i]!, to: cuts[i + 1]! }
  return { ...best, active: same.filter((x) => x.from <= best.from && x.to >= best.to) }
}

/** Expected probability of outcome `i` of chain `c` with `mods` on its outcomes (independent of the engine's code). */
export function expectedShare(c: WorldChain, active: readonly Effect[]): number[] {
  const base = c.outcomes.map((o) => o.probability)
  const total = base.reduce((a, b) => a + b, 0)
  const p = [...base]
  const modified = c.outcomes.map(() => false)
  c.outcomes.forEach((o, i) => {
    for (const e of active) {
      if (e.stream !== o.stream || e.target !== 'probability') continue
      modified[i] = true
      if (e.type === 'override') p[i] = e.value
      else if (e.type === 'multiplier') p[i] = p[i]! * e.value
      else p[i] = p[i]! + e.value
    }
    p[i] = Math.min(1, Math.max(0, p[i]!))
  })
  const mod = p.reduce((a, x, i) => a + (modified[i] ? x : 0), 0)
  const sib = base.reduce((a, x, i) => a + (modified[i] ? 0 : x), 0)
  return p.map((x, i) => (modified[i] ? x : (x * (total - mod)) / sib) / total)
}

// ---------------------------------------------------------------------------
// measurements

export interface Check {
  stream: string
  target: string
  role: string
  segment: [number, number]
  expected: number
  observed: number
  /** Standard error of ln(observed). */
  se: number
  measured: boolean
  note?: string
}

const JOIN_KEYS = [
  'bookingId',
  'sessionId',
  'ticketId',
  'chatId',
  'paymentId',
  'tutorId',
  'studentId',
]

/** The id field an outcome's events share with its trigger's events. */
function joinKey(
  trig: readonly { data: Record<string, unknown> }[],
  outs: readonly { data: Record<string, unknown> }[],
): string | undefined {
  if (trig.length === 0 || outs.length === 0) return undefined
  return JOIN_KEYS.find((k) => k in outs[0]!.data && k in trig[0]!.data)
}

/**
 * Share of decisions taken in [a, b) (by the trigger's time) that chose outcome `i`
 * of the complete chain `c` (every trigger has exactly one outcome): outcome-`i`
 * events joined to their trigger by id, over the triggers — only triggers old enough
 * for their outcome to have arrived by the end of the run.
 */
function decisionShare(
  rec: Recording,
  c: WorldChain,
  i: number,
  a: number,
  b: number,
  runEnd: number,
  lag: number,
): { share: number; n: number } | null {
  const trigEvents = rec.kept.get(world.streams[c.trigger]!.name) ?? []
  const list = rec.kept.get(world.streams[c.outcomes[i]!.stream]!.name) ?? []
  const cutoff = Math.min(b, runEnd - lag)
  if (cutoff - a < HOUR || !c.complete) return null
  const key = joinKey(trigEvents, list)
  if (!key) return null
  const trigTime = new Map<unknown, number>()
  let n = 0
  for (const e of trigEvents) {
    const t = e.ts - T0
    trigTime.set(e.data[key], t)
    if (t >= a && t < cutoff) n++
  }
  let k = 0
  for (const e of list) {
    const t = trigTime.get(e.data[key])
    if (t !== undefined && t >= a && t < cutoff && e.ts - T0 <= runEnd) k++
  }
  return n > 0 ? { share: k / n, n } : null
}

/** 95th percentile of (outcome time − trigger time) of outcome `i` of `c` in a recording. */
function lagQ95(rec: Recording, c: WorldChain, i: number): number {
  const trig = rec.kept.get(world.streams[c.trigger]!.name) ?? []
  const list = rec.kept.get(world.streams[c.outcomes[i]!.stream]!.name) ?? []
  const key = joinKey(trig, list)
  if (!key) return Infinity
  const tt = new Map(trig.map((e) => [e.data[key], e.ts]))
  const lags: number[] = []
  for (const e of list) {
    const t = tt.get(e.data[key])
    if (t !== undefined) lags.push(e.ts - t)
  }
  lags.sort((x, y) => x - y)
  return lags.length ? lags[Math.floor(lags.length * 0.95)]! : Infinity
}

/**
 * Measures one declared effect in its steady segment, scenario vs baseline:
 * rate → count ratio; value → ratio of mean values; probability → ratio of the
 * outcome's share among its chain's decisions.
 */
export function measure(
  run: ScenarioRun,
  base: Recording,
  effects: readonly Effect[],
  e: Effect,
): Check {
  const seg = steadySegment(effects, e)
  const name = world.streams[e.stream]!.name
  const mk = (
    expected: number,
    observed: number,
    se: number,
    measured: boolean,
    note?: string,
  ): Check => ({
    stream: name,
    target: e.target,
    role: e.role,
    segment: [seg.from, seg.to],
    expected,
    observed,
    se,
    measured,
    ...(note === undefined ? {} : { note }),
  })
  if (e.target === 'rate') {
    const expected = seg.active.reduce((m, x) => m * (x.type === 'multiplier' ? x.value : 1), 1)
    const A = run.rec.count(e.stream, seg.from, seg.to)
    const B = base.count(e.stream, seg.from, seg.to)
    return mk(
      expected,
      B > 0 ? A / B : NaN,
      Math.sqrt(1 / Math.max(A, 1) + 1 / Math.max(B, 1)),
      B > 0,
    )
  }
  if (e.target === 'value') {
    const expected = seg.active.reduce((m, x) => m * (x.type === 'multiplier' ? x.value : 1), 1)
    const stat = (r: Recording) => {
      const n = r.count(e.stream, seg.from, seg.to)
      const s = r.sum(r.vsum, e.stream, seg.from, seg.to)
      const q = r.sum(r.vsq, e.stream, seg.from, seg.to)
      const mean = s / n
      return { n, mean, var: Math.max(0, q / n - mean * mean) }
    }
    const a = stat(run.rec)
    const b = stat(base)
    const se = Math.sqrt(a.var / (a.n * a.mean * a.mean) + b.var / (b.n * b.mean * b.mean))
    return mk(expected, a.mean / b.mean, se, a.n > 0 && b.n > 0)
  }
  // probability: share among the decisions of the chain(s) the stream is an outcome of (one oneOf chain here)
  const chains = world.streams
    .flatMap((s) => s.chains)
    .filter((c) => c.oneOf && c.outcomes.some((o) => o.stream === e.stream))
  if (chains.length !== 1) return mk(NaN, NaN, Infinity, false, 'outcome of several chains')
  const c = chains[0]!
  const i = c.outcomes.findIndex((o) => o.stream === e.stream)
  const activeOnChain = effects.filter(
    (x) =>
      x.target === 'probability' &&
      c.outcomes.some((o) => o.stream === x.stream) &&
      x.from <= seg.from &&
      x.to >= seg.to,
  )
  const share = expectedShare(c, activeOnChain)
  const baseShare = c.outcomes[i]!.probability / c.outcomes.reduce((a, o) => a + o.probability, 0)
  const lag = Math.max(lagQ95(base, c, i), lagQ95(run.rec, c, i))
  const A = decisionShare(run.rec, c, i, seg.from, seg.to, run.end, lag)
  const B = decisionShare(base, c, i, seg.from, seg.to, run.end, lag)
  if (!A || !B || A.n < 50 || B.n < 50)
    return mk(
      share[i]! / baseShare,
      NaN,
      Infinity,
      false,
      `outcome arrives too late to measure within the run (95th percentile lag ${(lag / HOUR).toFixed(1)} h)`,
    )
  const se = Math.sqrt(
    (1 - A.share) / Math.max(1, A.n * A.share) + (1 - B.share) / Math.max(1, B.n * B.share),
  )
  return mk(share[i]! / baseShare, A.share / B.share, se, true)
}

/**
 * Asserts a check: it moved in the declared direction beyond noise, by roughly the
 * declared magnitude (log-ratio within 30 % of the declared one, or 4 standard errors).
 * Returns false when the effect is too small for the counts (under 4 standard
 * errors: not asserted).
 */
export function assertCheck(c: Check): boolean {
  if (!c.measured) return false
  const le = Math.log(c.expected)
  const lo = Math.log(c.observed)
  const detectable = Math.abs(le) >= 4 * c.se
  if (!detectable) return false
  const label = `${c.stream} ${c.target} (${c.role}) over [${(c.segment[0] / HOUR).toFixed(2)} h, ${(c.segment[1] / HOUR).toFixed(2)} h): expected ×${c.expected.toFixed(3)}, observed ×${c.observed.toFixed(3)} (se ${c.se.toFixed(3)})`
  expect(Math.sign(lo), label).toBe(Math.sign(le))
  expect(Math.abs(lo) / c.se, label).toBeGreaterThan(3)
  expect(Math.abs(lo - le), label).toBeLessThanOrEqual(Math.max(0.3 * Math.abs(le), 4 * c.se))
  return true
}

// ---------------------------------------------------------------------------
// the per-scenario test

/**
 * Runs scenario `id` and asserts what issue 4 asks of each scenario: its affected
 * streams move the declared way by roughly the declared magnitude against the
 * same-seed baseline, its events carry the scenario as a cause, its external events
 * are announced and listed, the state goes active → settling → settled, and once
 * settled the streams it modified are back within 5 % of baseline.
 */
export function checkScenario(
  id: string,
  opts: { after?: number } = {},
): { run: ScenarioRun; checks: Check[]; asserted: Check[] } {
  const run = runScenario(id, opts)
  const base = baselineUntil(run.end)
  const cause = `scenario:${id}`
  const { def, activation, rec } = run

  // lifecycle
  expect(run.phases).toEqual(['active', 'settling', 'settled'])
  expect(activation.scenario.id).toBe(id)
  expect(activation.estimatedDuration).toBe(formatMs(def.info.durationMs + def.info.settleMs))
  for (let i = 1; i < run.deviations.length; i++)
    expect(run.deviations[i]!).toBeLessThanOrEqual(run.deviations[i - 1]! + 1e-12)
  expect(run.deviations.at(-1)).toBe(0)
  expect(run.engine.activeModifiers().filter((m) => m.source === cause)).toEqual([])

  // declared effects against the baseline
  const effects = declaredEffects(def, run.offset)
  const own = effects.filter((e) => e.role === 'direct' || e.role.startsWith('cascade:'))
  const checks = own.map((e) => measure(run, base, effects, e))
  const asserted = checks.filter((c) => assertCheck(c))
  if (def.modifiers.length > 0)
    expect(asserted.length, `${id}: at least one declared effect measurable`).toBeGreaterThan(0)

  // ground truth: while active, every event of a stream the scenario modifies carries the scenario as a cause
  for (const e of own) {
    if (e.target === 'probability') continue
    const from = e.from + MINUTE
    const to = run.activeEnd
    const n = rec.count(e.stream, from, to)
    expect(
      rec.causedCount(cause, e.stream, from, to),
      `${world.streams[e.stream]!.name} events carry ${cause}`,
    ).toBe(n)
  }
  // … and none does once it has settled
  for (let s = 0; s < world.streams.length; s++)
    expect(rec.causedCount(cause, s, run.settledAt + MINUTE, run.end)).toBe(0)

  // external events: announced on the external channel and listed
  expect(activation.events.length).toBe(def.events.length)
  for (const ev of activation.events) {
    const ann = rec.external.filter((x) => (x.data as { id: string }).id === ev.id)
    expect(ann.length, `${ev.id} announced once`).toBe(1)
    expect(ann[0]!.stream).toBe('external.event')
    expect(ann[0]!.ts).toBe(Math.max(ev.at, ev.injectedAt))
    expect(ann[0]!.causes).toEqual([cause])
    expect((ann[0]!.data as { redHerring: boolean }).redHerring).toBe(ev.redHerring)
    const listed = run.externalList.find((x) => x.id === ev.id)
    expect(listed, `${ev.id} listed`).toBeDefined()
    expect(listed!.source).toBe(cause)
    expect(listed!.actualImpact!.length).toBeGreaterThan(0)
  }

  // settled: the streams it modified are back within 5 % of baseline (beyond noise)
  for (const e of own) {
    if (e.target === 'probability') continue
    const a0 = run.settledAt
    const b0 = run.end
    if (e.target === 'rate') {
      const A = rec.count(e.stream, a0, b0)
      const B = base.count(e.stream, a0, b0)
      if (A + B < 50) continue
      const r = A / B
      const se = Math.sqrt(1 / A + 1 / B)
      expect(
        Math.abs(r - 1),
        `${world.streams[e.stream]!.name} back within 5 % after settling (×${r.toFixed(3)}, se ${se.toFixed(3)})`,
      ).toBeLessThanOrEqual(0.05 + 3 * se)
    } else {
      const mean = (r: Recording) => r.sum(r.vsum, e.stream, a0, b0) / r.count(e.stream, a0, b0)
      const n = rec.count(e.stream, a0, b0)
      if (n < 30) continue
      const r = mean(rec) / mean(base)
      expect(
        Math.abs(r - 1),
        `${world.streams[e.stream]!.name} value back within 5 % after settling (×${r.toFixed(3)})`,
      ).toBeLessThanOrEqual(0.05 + 3 / Math.sqrt(n))
    }
  }
  return { run, checks, asserted }
}

function formatMs(ms: number): string {
  const d = Math.floor(ms / DAY)
  const h = Math.floor((ms % DAY) / HOUR)
  const m = Math.floor((ms % HOUR) / MINUTE)
  const t = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}`
  return `P${d ? `${d}D` : ''}${t ? `T${t}` : ''}` === 'P'
    ? 'PT0S'
    : `P${d ? `${d}D` : ''}${t ? `T${t}` : ''}`
}

/** One line per check, for the test log. */
export function describeChecks(id: string, checks: readonly Check[]): string {
  return checks
    .map(
      (c) =>
        `${id} ${c.stream} ${c.target} ${c.role}: expected ×${c.expected.toFixed(3)} observed ×${Number.isNaN(c.observed) ? 'n/a' : c.observed.toFixed(3)} se ${Number.isFinite(c.se) ? c.se.toFixed(3) : 'n/a'}${c.note ? ` (${c.note})` : ''}`,
    )
    .join('\n')
}
