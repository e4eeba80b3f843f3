/**
 * The detection scorecard: how a naive detector reading the `anomalies` topic (every
 * event whose `anomalyFlag` is not `normal`) does against the ground truth in the
 * events' `causes`, for each scenario of a world on several seeds.
 *
 * Per scenario and seed, two engines run the same seed from the same start
 * ({@link DEFAULT_WARMUP_HOURS} before the activation): a baseline, and one where the
 * scenario is activated (scenario i on day 2i after `start`, at `activationHour`
 * UTC, so weekdays vary). Their events are identical up to the activation. Over the
 * window `[activation, activation + min(duration, maxActiveMs))` both runs are read
 * in 15-minute buckets; an *alarm* is a (stream, bucket) with a flagged event.
 *
 * - An alarm is *true* when a flagged event of it carries one of the run's causes
 *   (`scenario:<id>`, its cascades `cascade:<id>`, its external events `external:<id>`).
 * - An alarm is also true on a stream the world's chains lead to from a caused one
 *   (more booking requests mean more confirmations; causes mark only the modified
 *   streams' own events).
 * - *Primary* streams: the streams of the scenario's direct modifiers (not
 *   cascades) on which the scenario can be seen within 30 minutes at all: their
 *   first 30 minutes after activation are off the baseline's expectation for them
 *   (the mean field the signal uses) by at least the stream's warning threshold in
 *   the scenario's run, and not in the baseline run. A delayed or small effect (a
 *   probability shift on an outcome hours after its trigger, ×1.3 on a stream with
 *   ten events in half an hour) is scored, but not as primary.
 *   Detected: its flag goes up within {@link DETECT_WITHIN_MS} of activation (flags
 *   change at bucket boundaries; the stream's next event carries it).
 * - recall = detected primary streams / primary streams; precision = true alarms /
 *   alarms; time to first flag = first alarm on a primary stream; baseline alarms =
 *   alarms of the baseline run in the same window (what a scenario adds to them).
 */
import { DAY, HOUR, MINUTE } from '../calendar.js'
import { createEngine, type Engine } from '../engine.js'
import { ExpectedRates } from '../signal.js'
import type { SimEvent, World } from '../world/types.js'
import { clipValue, rateZ, valueZ } from '@verisim/schema'

export const DETECT_WITHIN_MS = 30 * MINUTE
const BUCKET = 15 * MINUTE
/** Scenario i is activated on day GAP_DAYS·i (its weekday varies). */
const GAP_DAYS = 2
/**
 * Simulated hours before an activation. The signal's expectation starts empty with
 * the engine, like the engine, so a short warm-up is exact; two days let the
 * bookings of the days before fill the session streams.
 */
export const DEFAULT_WARMUP_HOURS = 48

export interface ScorecardOptions {
  world: World
  seeds: readonly number[]
  /** Midnight UTC of the first scenario's day (epoch ms). */
  start: number
  /** Simulated hours each run starts before its activation (default {@link DEFAULT_WARMUP_HOURS}). */
  warmupHours?: number
  /** Hour of the day (UTC) scenarios start at. Default 13. */
  activationHour?: number
  /** Longest part of a scenario's active phase measured. Default 12 h. */
  maxActiveMs?: number
  /** Scenario ids (default: all of the world's). */
  scenarios?: readonly string[]
  onProgress?: (message: string) => void
}

export interface StreamScore {
  stream: string
  primary: boolean
  /** Minutes from activation to the stream's first alarm (null: none in the window). */
  firstAlarmMin: number | null
  /** Alarms on the stream in the window (true ones: carrying the run's causes). */
  alarms: number
  trueAlarms: number
  /** Alarms of the baseline run on the stream in the same window. */
  baselineAlarms: number
}

export interface ScenarioScore {
  scenario: string
  seed: number
  activatedAt: string
  windowMin: number
  primary: string[]
  detected: string[]
  /** detected / primary (null when the scenario has no primary stream). */
  recall: number | null
  /** true alarms / alarms (null without alarms). */
  precision: number | null
  /** First alarm on a primary stream, minutes after activation. */
  timeToFirstFlagMin: number | null
  alarms: number
  trueAlarms: number
  baselineAlarms: number
  /** Streams with an alarm or a cause in the window, and the primary ones. */
  streams: StreamScore[]
}

export interface Scorecard {
  world: string
  seeds: number[]
  scores: ScenarioScore[]
  /** The baseline runs' share of events flagged, over their whole spans (warm-up included). */
  baseline: { events: number; warningShare: number; criticalShare: number }
}

interface Window {
  scenario: string
  from: number
  to: number
}

type Alarms = Map<string, { flagged: boolean; caused: boolean }>

/** Runs the scorecard (about a second of CPU per simulated day, two engines per scenario and seed). */
export function runScorecard(opts: ScorecardOptions): Scorecard {
  const { world } = opts
  const ids = opts.scenarios ?? world.scenarioSet.scenarios.map((s) => s.info.id)
  const warmMs = (opts.warmupHours ?? DEFAULT_WARMUP_HOURS) * HOUR
  const hour = opts.activationHour ?? 13
  const maxActive = opts.maxActiveMs ?? 12 * HOUR
  const windows: Window[] = ids.map((id, i) => {
    const def = world.scenarioSet.byId.get(id)
    if (!def) throw new Error(`scorecard: world ${world.id} has no scenario "${id}"`)
    const from = opts.start + i * GAP_DAYS * DAY + hour * HOUR
    return { scenario: id, from, to: from + Math.min(def.info.durationMs, maxActive) }
  })
  const scores: ScenarioScore[] = []
  let events = 0
  let warnings = 0
  let criticals = 0
  for (const seed of opts.seeds) {
    for (const w of windows) {
      opts.onProgress?.(`seed ${seed}: ${w.scenario}`)
      // Two engines from the same start: identical until the activation.
      const origin = w.from - warmMs
      const base = createEngine({ world, seed, start: origin })
      const baseAlarms: Alarms = new Map()
      const baseEarly: Early = new Map()
      run(base, w.to, (e) => {
        events++
        if (e.anomalyFlag === 'warning') warnings++
        else if (e.anomalyFlag === 'critical') criticals++
        if (e.ts <= w.from) return
        if (e.ts <= w.from + DETECT_WITHIN_MS) tally(world, baseEarly, e)
        if (e.anomalyFlag !== 'normal') note(baseAlarms, e, false)
      })
      const eng = createEngine({ world, seed, start: origin })
      run(eng, w.from, () => {})
      const act = eng.activateScenario(w.scenario)
      const causes = new Set<string>([`scenario:${w.scenario}`])
      for (const c of world.scenarioSet.byId.get(w.scenario)!.cascades)
        causes.add(`cascade:${c.id}`)
      for (const x of act.events) causes.add(`external:${x.id}`)
      const alarms: Alarms = new Map()
      const causedStreams = new Set<string>()
      const early: Early = new Map()
      const firstFlag = new Map<string, number>()
      run(eng, w.to, (e) => {
        const caused = e.causes.some((c) => causes.has(c))
        if (caused) causedStreams.add(e.stream)
        if (e.ts <= w.from + DETECT_WITHIN_MS) tally(world, early, e)
        if (e.anomalyFlag !== 'normal') {
          note(alarms, e, caused)
          // flags change at bucket boundaries: the flag went up at this bucket's start
          if (!firstFlag.has(e.stream)) firstFlag.set(e.stream, Math.floor(e.ts / BUCKET) * BUCKET)
        }
      })
      const e30 = expectedOver(new ExpectedRates(world, seed, origin), w.from, DETECT_WITHIN_MS)
      const primary = primaryStreams(world, w.scenario, e30, baseEarly, early)
      scores.push(score(world, w, seed, alarms, baseAlarms, primary, causedStreams, firstFlag))
    }
  }
  return {
    world: world.id,
    seeds: [...opts.seeds],
    scores,
    baseline: {
      events,
      warningShare: events > 0 ? warnings / events : 0,
      criticalShare: events > 0 ? criticals / events : 0,
    },
  }
}

function run(engine: Engine, to: number, fn: (e: SimEvent) => void): void {
  while (engine.now < to) for (const e of engine.advance(Math.min(to, engine.now + HOUR))) fn(e)
}

function note(alarms: Alarms, e: SimEvent, caused: boolean): void {
  const key = `${e.stream}@${Math.floor(e.ts / BUCKET)}`
  const a = alarms.get(key)
  if (a) a.caused ||= caused
  else alarms.set(key, { flagged: true, caused })
}

/** Streams `from` and every stream their chains lead to. */
function downstream(world: World, from: ReadonlySet<string>): Set<string> {
  const out = new Set(from)
  const todo = [...from]
  while (todo.length > 0) {
    const i = world.streamIndex.get(todo.pop()!)
    if (i === undefined) continue // the external channel's announcements
    for (const c of world.streams[i]!.chains)
      for (const o of c.outcomes) {
        const name = world.streams[o.stream]!.name
        if (!out.has(name)) {
          out.add(name)
          todo.push(name)
        }
      }
  }
  return out
}

/** Events and clipped value sums per stream (the first 30 minutes of a window). */
type Early = Map<string, { n: number; vsum: number; vn: number }>

function tally(world: World, m: Early, e: SimEvent): void {
  const i = world.streamIndex.get(e.stream)
  if (i === undefined) return
  const st = world.streams[i]!
  let x = m.get(e.stream)
  if (!x) m.set(e.stream, (x = { n: 0, vsum: 0, vn: 0 }))
  x.n++
  const v = e.data[st.valueField]
  if (typeof v === 'number' && Number.isFinite(v)) {
    x.vsum += clipValue(v, st.baseline.mean, st.baseline.sd)
    x.vn++
  }
}

/**
 * The primary streams of a scenario (see the module comment): the streams of its
 * direct modifiers whose first 30 minutes differ from the same seed's baseline run
 * by the stream's warning threshold or more, in rate or (where the signal watches
 * it) in value.
 */
export function primaryStreams(
  world: World,
  scenario: string,
  expected: Float64Array,
  baseline: ReadonlyMap<string, { n: number; vsum: number; vn: number }>,
  run: ReadonlyMap<string, { n: number; vsum: number; vn: number }>,
): string[] {
  const def = world.scenarioSet.byId.get(scenario)!
  const none = { n: 0, vsum: 0, vn: 0 }
  const out = new Set<string>()
  for (const m of def.modifiers)
    for (const i of m.streams) {
      const st = world.streams[i]!
      const rule = st.anomaly
      const z = (x: { n: number; vsum: number; vn: number }): number => {
        const zr = st.signalKind === 'value' ? 0 : rateZ(x.n, expected[i]!, rule.tolerance)
        const zv =
          st.signalKind === 'rate' || x.vn === 0
            ? 0
            : valueZ(x.vsum / x.vn, x.vn, st.baseline.mean, st.baseline.sd, rule.valueTolerance)
        return Math.max(Math.abs(zr), Math.abs(zv))
      }
      // the scenario's run is off its expectation, the baseline's is not
      if (
        z(run.get(st.name) ?? none) >= rule.warningSigma &&
        z(baseline.get(st.name) ?? none) < rule.warningSigma
      )
        out.add(st.name)
    }
  return [...out]
}

/** Expected events of every stream over `[from, from + span)` (whole buckets). */
function expectedOver(rates: ExpectedRates, from: number, span: number): Float64Array {
  const out = new Float64Array(rates.world.streams.length)
  for (let b = Math.floor(from / BUCKET); b < Math.ceil((from + span) / BUCKET); b++) {
    const e = rates.bucket(b)
    for (let s = 0; s < out.length; s++) out[s]! += e[s]!
  }
  return out
}

function score(
  world: World,
  w: Window,
  seed: number,
  alarms: Alarms,
  baseAlarms: Alarms,
  primary: readonly string[],
  causedStreams: ReadonlySet<string>,
  firstFlag: ReadonlyMap<string, number>,
): ScenarioScore {
  const affected = downstream(world, causedStreams)
  const per = new Map<string, StreamScore>()
  const get = (stream: string): StreamScore => {
    let s = per.get(stream)
    if (!s) {
      s = {
        stream,
        primary: primary.includes(stream),
        firstAlarmMin: null,
        alarms: 0,
        trueAlarms: 0,
        baselineAlarms: 0,
      }
      per.set(stream, s)
    }
    return s
  }
  for (const p of primary) get(p)
  for (const c of causedStreams) get(c)
  let trueAlarms = 0
  for (const [key, a] of alarms) {
    const [stream, b] = splitKey(key)
    const s = get(stream)
    s.alarms++
    if (a.caused || affected.has(stream)) {
      s.trueAlarms++
      trueAlarms++
    }
    void b
  }
  for (const [stream, ts] of firstFlag)
    get(stream).firstAlarmMin = Math.round((ts - w.from) / MINUTE)
  for (const key of baseAlarms.keys()) {
    const s = per.get(splitKey(key)[0])
    if (s) s.baselineAlarms++
  }
  const detected = primary.filter((p) => {
    const f = per.get(p)!.firstAlarmMin
    return f !== null && f * MINUTE <= DETECT_WITHIN_MS
  })
  const firsts = primary
    .map((p) => per.get(p)!.firstAlarmMin)
    .filter((x): x is number => x !== null)
  return {
    scenario: w.scenario,
    seed,
    activatedAt: new Date(w.from).toISOString(),
    windowMin: (w.to - w.from) / MINUTE,
    primary: [...primary],
    detected,
    recall: primary.length > 0 ? detected.length / primary.length : null,
    precision: alarms.size > 0 ? trueAlarms / alarms.size : null,
    timeToFirstFlagMin: firsts.length > 0 ? Math.min(...firsts) : null,
    alarms: alarms.size,
    trueAlarms,
    baselineAlarms: baseAlarms.size,
    streams: [...per.values()].sort((a, b) => a.stream.localeCompare(b.stream)),
  }
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf('@')
  return [key.slice(0, at), Number(key.slice(at + 1))]
}
