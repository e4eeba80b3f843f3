/**
 * The conformance suite every world runs (`@verisim/sim/conformance`): one set of
 * tests against any {@link World}, in the manner of mqemitter's abstract tests.
 * A world's test file calls {@link conformance} with its world and a few facts
 * only it knows (its initial population, sample action payloads):
 *
 * - the same output however time is sliced (1 h steps vs uneven steps);
 * - the same seed gives the same events, another seed others;
 * - every stream alive within a simulated week;
 * - no event references an entity that does not exist (relationships `entities`);
 * - snapshot → restore → continue equals the uninterrupted run;
 * - world actions replay identically (through a snapshot);
 * - warm-up leaves no seam (the first live day looks like the same weekday a week later).
 *
 * Importing this module imports vitest: use it from test files only.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DAY, HOUR, MINUTE } from '../calendar.js'
import {
  createEngine,
  restoreEngine,
  type Engine,
  type RateModifier,
  type SimEvent,
} from '../engine.js'
import { Rng } from '../rng.js'
import { RunTimeline } from '../run-timeline.js'
import type { World } from '../world/types.js'
import { streamPatternMatcher } from '@verisim/schema'

export interface ConformanceOptions {
  world: () => World
  /** A Monday 00:00 UTC without calendar periods nearby (default 24 Feb 2025). */
  start?: number
  seed?: number
  /** Modifiers applied from the start in every run (e.g. thinning a very busy log stream to keep runs short). */
  modifiers?: RateModifier[]
  /** How many entities of `kind` exist at start (ids `<prefix>1 … <prefix>N`); default 0. */
  initialCount?: (kind: string, engine: Engine) => number
  /** Ids of a kind that come from the config (e.g. campaigns): always exist. */
  staticIds?: (kind: string) => readonly string[]
  /** Sample calls of each world action: replayed through a snapshot. */
  actions?: readonly { name: string; payload: unknown }[]
  /** Streams allowed to stay silent for a week (rare by design); default none. */
  rare?: readonly string[]
  /** Simulated hours of warm-up for the seam check (default the module's warmupHours, at most 240). */
  warmupHours?: number
  /** Test timeout in ms (default 120 s). */
  timeout?: number
}

const line = (e: SimEvent): string =>
  JSON.stringify([e.ts, e.stream, e.data, e.normalizedValue, e.anomalyFlag, e.causes])

/** Runs `engine` to `to` in steps chosen by `step(now)`, passing each event to `onEvent`. */
function run(
  engine: Engine,
  to: number,
  step: (now: number) => number,
  onEvent: (e: SimEvent) => void,
): void {
  while (engine.now < to) {
    for (const e of engine.advance(Math.min(to, engine.now + step(engine.now)))) onEvent(e)
  }
}

function collect(engine: Engine, to: number, step: (now: number) => number = () => HOUR): string[] {
  const out: string[] = []
  run(engine, to, step, (e) => out.push(line(e)))
  return out
}

/** First index where two event lists differ (−1 when equal). */
function firstDifference(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

function expectSame(a: readonly string[], b: readonly string[], what: string): void {
  const i = firstDifference(a, b)
  if (i !== -1)
    throw new Error(
      `${what}: runs differ at event #${i} of ${a.length}/${b.length}:\n  ${a[i] ?? '(none)'}\n  ${b[i] ?? '(none)'}`,
    )
}

/**
 * Registers the conformance tests for one world.
 *
 * @example
 * conformance({ world: () => loadWorldById('tutoring'), initialCount: (k, e) => … })
 */
export function conformance(o: ConformanceOptions): void {
  const start = o.start ?? Date.UTC(2025, 1, 24)
  const seed = o.seed ?? 42
  const timeout = o.timeout ?? 120_000
  const make = (s = seed, at = start): Engine => {
    const e = createEngine({ world: o.world(), seed: s, start: at })
    if (o.modifiers) e.setModifiers(o.modifiers)
    return e
  }

  describe(`conformance: world ${o.world().id}`, () => {
    it(
      'should give the same events however time is sliced',
      () => {
        const end = start + DAY
        const hourly = collect(make(), end)
        const r = new Rng(7)
        const uneven = collect(make(), end, () => 1 + r.int(3) * r.int(50 * MINUTE))
        expect(hourly.length).toBeGreaterThan(0)
        expectSame(hourly, uneven, 'slicing')
      },
      timeout,
    )

    it(
      'should give the same events for the same seed and others for another seed',
      () => {
        const end = start + 6 * HOUR
        const a = collect(make(), end)
        const b = collect(make(), end)
        const c = collect(make(seed + 1), end)
        expectSame(a, b, 'same seed')
        expect(firstDifference(a, c)).not.toBe(-1)
      },
      timeout,
    )

    it(
      'should fire every stream within a simulated week, referencing only entities that exist',
      () => {
        const world = o.world()
        const engine = make()
        const entities = Object.entries(world.config.relationships.entities)
        const known = new Map<string, Set<string>>()
        const kindOfField = new Map<string, string>()
        const creators = new Map<string, string[]>()
        for (const [kind, e] of entities) {
          kindOfField.set(e.idField, kind)
          known.set(kind, new Set(o.staticIds?.(kind) ?? []))
          for (const s of e.createdBy) creators.set(s, [...(creators.get(s) ?? []), kind])
        }
        const initial = new Map(
          entities.map(([kind]) => [kind, o.initialCount?.(kind, engine) ?? 0]),
        )
        const exists = (kind: string, id: string): boolean => {
          if (known.get(kind)!.has(id)) return true
          const prefix = world.config.relationships.entities[kind]!.prefix
          const n = Number(id.slice(prefix.length))
          return id.startsWith(prefix) && Number.isInteger(n) && n >= 1 && n <= initial.get(kind)!
        }
        const seen = new Map<string, number>()
        const orphans: string[] = []
        run(
          engine,
          start + 7 * DAY,
          () => 6 * HOUR,
          (e) => {
            seen.set(e.stream, (seen.get(e.stream) ?? 0) + 1)
            const made = creators.get(e.stream) ?? []
            for (const kind of made) {
              const id = e.data[world.config.relationships.entities[kind]!.idField]
              if (typeof id === 'string') known.get(kind)!.add(id)
            }
            for (const [field, v] of Object.entries(e.data)) {
              const kind = kindOfField.get(field)
              if (kind === undefined || typeof v !== 'string' || made.includes(kind)) continue
              if (!exists(kind, v) && orphans.length < 5) orphans.push(`${e.stream} ${field}=${v}`)
            }
          },
        )
        const silent = world.streams
          .map((s) => s.name)
          .filter((n) => !seen.has(n) && !(o.rare ?? []).includes(n))
        expect(silent, 'streams that never fired in a week').toEqual([])
        expect(orphans, 'events referencing an entity that does not exist').toEqual([])
      },
      timeout,
    )

    it(
      'should flag at most 2 % of a quiet week warning and 0.2 % critical (no stream 10 %), with 50 = as usual',
      () => {
        const world = o.world()
        const W = Math.min(o.warmupHours ?? world.module.warmupHours, 240)
        const engine = make(seed + 1, start - W * HOUR)
        run(
          engine,
          start,
          () => DAY,
          () => {},
        )
        // streams the options' modifiers change (thinned logs) are not a quiet baseline
        const changed = (o.modifiers ?? []).map((m) => streamPatternMatcher(m.stream))
        let n = 0
        let warning = 0
        let critical = 0
        let sum = 0
        const per = new Map<string, { n: number; flagged: number }>()
        run(
          engine,
          start + 7 * DAY,
          () => HOUR,
          (e) => {
            if (changed.some((f) => f(e.stream))) return
            n++
            const p = per.get(e.stream) ?? { n: 0, flagged: 0 }
            p.n++
            if (e.anomalyFlag !== 'normal') p.flagged++
            per.set(e.stream, p)
            sum += e.normalizedValue
            if (e.anomalyFlag === 'warning') warning++
            else if (e.anomalyFlag === 'critical') critical++
          },
        )
        expect(n).toBeGreaterThan(0)
        const shares = { warning: warning / n, critical: critical / n }
        expect(shares.warning, `share flagged warning of ${n} events`).toBeLessThanOrEqual(0.02)
        expect(shares.critical, `share flagged critical of ${n} events`).toBeLessThanOrEqual(0.002)
        expect(Math.abs(sum / n - 50), 'mean normalizedValue off 50').toBeLessThan(5)
        // and no stream is noise: under 10 % of any stream's events flagged (a rare stream's
        // few hundred events a week can spend an episode of some hours flagged)
        const noisy = [...per]
          .filter(([, p]) => p.n >= 100 && p.flagged / p.n >= 0.1)
          .map(([stream, p]) => `${stream}: ${((100 * p.flagged) / p.n).toFixed(1)} % of ${p.n}`)
        expect(noisy, 'streams flagged in 10 % or more of their events').toEqual([])
      },
      timeout,
    )

    it(
      'should continue identically after snapshot → restore',
      () => {
        const mid = start + 12 * HOUR
        const end = start + 30 * HOUR
        const a = make()
        collect(a, mid)
        const scenario = a.scenarios()[0]
        if (scenario) a.activateScenario(scenario.id)
        const bytes = a.snapshot()
        const restored = restoreEngine(o.world(), bytes)
        expect(restored.now).toBe(a.now)
        expectSame(collect(a, end), collect(restored, end), 'restore')
      },
      timeout,
    )

    it(
      'should snapshot the state itself: restored without re-simulating, through scenario, modifiers, external events and actions',
      () => {
        const world = o.world()
        const a = make()
        let t = start + 6 * HOUR
        collect(a, t)
        const scenario = a.scenarios()[0]
        if (scenario) a.activateScenario(scenario.id)
        const template = a.templates()[0]
        if (template)
          a.injectExternalEvent({
            templateId: template.id,
            timestamp: new Date(t + HOUR).toISOString(),
          })
        a.adjustBehavior({ stream: world.streams[0]!.name, type: 'multiplier', value: 1.7 })
        for (const act of o.actions ?? []) {
          t += HOUR
          collect(a, t)
          a.act(act.name, act.payload)
        }
        collect(a, t + 2 * HOUR)
        const bytes = a.snapshot()
        const doc = JSON.parse(new TextDecoder().decode(gunzipSync(bytes))) as {
          v: number
          state: unknown
          stateError?: string
          journal: unknown[]
        }
        expect(doc.stateError, 'why the state could not be encoded').toBeUndefined()
        expect(doc.v).toBe(2)
        expect(doc.state).not.toBeNull()
        // without the journal, only the state can give the same continuation
        doc.journal = []
        const stateOnly = gzipSync(JSON.stringify(doc))
        const restored = restoreEngine(o.world(), stateOnly)
        expect(restored.now).toBe(a.now)
        const b = restoreEngine(o.world(), bytes)
        const end = a.now + 8 * HOUR
        const expected = collect(a, end)
        expect(expected.length).toBeGreaterThan(0)
        expectSame(expected, collect(restored, end), 'state-only restore')
        // a snapshot of a restored engine restores the same way
        const again = restoreEngine(o.world(), b.snapshot())
        expectSame(collect(b, end), collect(again, end), 'restore of a restored engine')
      },
      timeout,
    )

    it(
      "should travel to any moment exactly: the events after it are the run's, scenario, external event and actions included",
      () => {
        const world = o.world()
        const a = make()
        const timeline = new RunTimeline(world, a, { everyMs: 2 * HOUR })
        const events: { ts: number; line: string }[] = []
        const runTo = (to: number): void => {
          while (a.now < to) {
            for (const e of a.advance(Math.min(to, a.now + HOUR)))
              events.push({ ts: e.ts, line: line(e) })
            timeline.checkpoint()
          }
        }
        const at = (h: number): number => start + h * HOUR
        /** Each call's time and the events emitted before it. */
        const calls: { t: number; mark: number }[] = []
        const called = (): void => void calls.push({ t: a.now, mark: events.length })
        runTo(at(3))
        const scenario = a.scenarios()[0]
        if (scenario) a.activateScenario(scenario.id)
        called()
        runTo(at(4))
        const template = a.templates()[0]
        if (template)
          a.injectExternalEvent({
            templateId: template.id,
            timestamp: new Date(at(5)).toISOString(),
          })
        called()
        let t = at(5)
        for (const act of o.actions ?? []) {
          runTo((t += 30 * MINUTE))
          a.act(act.name, act.payload)
          called()
        }
        const end = at(11)
        runTo(end)
        expect(timeline.entries.length).toBeGreaterThan(3)
        // between snapshots, on one, at a call's own time, and before the scenario: the
        // same events up to the run's next call (a travelled engine gets no later calls)
        const targets = [at(6) + 17 * MINUTE + 123, at(8), at(3), at(1) + 1]
        for (const target of targets) {
          const { engine, from } = timeline.travel(target)
          expect(engine.now).toBe(target)
          expect(from).toBeLessThanOrEqual(target)
          const atCall = calls.filter((c) => c.t === target).at(-1)
          const first = atCall?.mark ?? events.findIndex((e) => e.ts > target)
          const next = calls.find((c) => c.t > target)
          const upTo = next?.t ?? end
          const original = events.slice(first, next?.mark ?? events.length).map((e) => e.line)
          expect(original.length).toBeGreaterThan(0)
          expectSame(original, collect(engine, upTo), `travel to ${new Date(target).toISOString()}`)
        }
        // forward: as far as the run would have gone
        const ahead = timeline.travel(end + 2 * HOUR).engine
        expect(ahead.now).toBe(end + 2 * HOUR)
        collect(a, end + 2 * HOUR)
        expectSame(collect(a, end + 3 * HOUR), collect(ahead, end + 3 * HOUR), 'travel ahead')
        expect(() => timeline.travel(start - 1)).toThrow(/travel: target must be a time from/)
      },
      timeout,
    )

    it(
      'should travel the live engine in place and branch: the new line keeps only snapshots of its own past',
      () => {
        const world = o.world()
        const a = make()
        const timeline = new RunTimeline(world, a, { everyMs: 2 * HOUR })
        const at = (h: number): number => start + h * HOUR
        const runTo = (engine: Engine, to: number): string[] => {
          const out: string[] = []
          while (engine.now < to) {
            for (const e of engine.advance(Math.min(to, engine.now + HOUR))) out.push(line(e))
            timeline.checkpoint()
          }
          return out
        }
        runTo(a, at(4))
        const scenario = a.scenarios()[0]
        if (scenario) a.activateScenario(scenario.id)
        runTo(a, at(9))
        // the original line's events from 06:00 to 09:00, by an engine travelled to 06:00
        const original = collect(timeline.travel(at(6)).engine, at(9))
        expect(original.length).toBeGreaterThan(0)
        // the live engine itself back to 06:00: the same events again
        const { engine } = timeline.travel(at(6), a)
        expect(engine).toBe(a)
        expect(a.now).toBe(at(6))
        timeline.rebase()
        expect(timeline.entries.every((e) => e.at <= at(6))).toBe(true)
        const again = runTo(a, at(9))
        expectSame(original, again, 'the live engine travelled back')
        // a branch: at 07:00 on a new line, a reset the original did not have
        timeline.travel(at(7), a)
        expect(timeline.rebase()).toBeGreaterThan(0)
        a.reset()
        const branched = runTo(a, at(10))
        // travel within the branch: before its call, the original's past; after it, the branch's
        const beforeCall = collect(timeline.travel(at(6)).engine, at(7))
        expectSame(original.slice(0, beforeCall.length), beforeCall, 'the branch before its fork')
        const afterCall = collect(timeline.travel(at(8)).engine, at(10))
        expectSame(
          branched.slice(branched.length - afterCall.length),
          afterCall,
          'the branch after its fork',
        )
      },
      timeout,
    )

    it(
      'should replay world actions identically through a snapshot',
      () => {
        const actions = o.actions ?? []
        const world = o.world()
        const declared = Object.keys(world.module.actions ?? {})
        // every declared action has a sample call
        expect(
          declared.filter((n) => !actions.some((a) => a.name === n)),
          'actions without a sample call in the conformance options',
        ).toEqual([])
        const a = make()
        let t = start
        for (const act of actions) {
          t += 2 * HOUR
          collect(a, t)
          a.act(act.name, act.payload)
        }
        const restored = restoreEngine(o.world(), a.snapshot())
        const end = t + 12 * HOUR
        expectSame(collect(a, end), collect(restored, end), 'actions replay')
        // and the action changed something: a run without it differs
        if (actions.length > 0) {
          const without = make()
          collect(without, t)
          const b = make()
          let u = start
          for (const act of actions) {
            u += 2 * HOUR
            collect(b, u)
            b.act(act.name, act.payload)
          }
          expect(firstDifference(collect(b, end), collect(without, end))).not.toBe(-1)
        }
      },
      timeout,
    )

    it(
      'should leave no seam after the warm-up',
      () => {
        const world = o.world()
        const W = Math.min(o.warmupHours ?? world.module.warmupHours, 240)
        const live = start + 7 * DAY // a Monday: compare it with the Monday a week later
        const engine = make(seed, live - W * HOUR)
        collect(engine, live)
        const count = (from: number): Map<string, number> => {
          const m = new Map<string, number>()
          run(
            engine,
            from + DAY,
            () => HOUR,
            (e) => m.set(e.stream, (m.get(e.stream) ?? 0) + 1),
          )
          return m
        }
        const first = count(live)
        collect(engine, live + 7 * DAY)
        const later = count(live + 7 * DAY)
        // streams with enough events to compare: within 5 σ (Poisson) or 15 %, whichever is wider
        const off: string[] = []
        for (const [s, n] of later) {
          if (n < 200) continue
          const m = first.get(s) ?? 0
          const tol = Math.max(5 * Math.sqrt(n), 0.15 * n)
          if (Math.abs(m - n) > tol) off.push(`${s}: first live day ${m}, a week later ${n}`)
        }
        expect(
          off,
          'streams whose first live day differs from the same weekday a week later',
        ).toEqual([])
      },
      timeout,
    )
  })
}
