/**
 * Time travel over one run (DESIGN.md "Snapshots make time a dimension"): the
 * engine's state snapshots taken every few simulated hours as it advances, older
 * ones thinned out, and an engine at any moment of the run rebuilt from the
 * nearest snapshot at or before it, the calls made after that snapshot replayed
 * at their times, and the rest re-simulated. A run is a pure function of world,
 * seed and calls, so the rebuilt engine is exactly the original at that moment:
 * it goes on with the same events.
 *
 * Pure like the engine: the snapshots are kept in memory (a service stores them
 * where it likes; see {@link RunTimeline.entries}).
 *
 * @example
 * const timeline = new RunTimeline(world, engine)            // a snapshot of now
 * engine.advance(t1); timeline.checkpoint()               // one every 3 simulated hours
 * const past = timeline.travel(Date.UTC(2025, 1, 25, 9))  // the engine at 09:00 that day
 * past.advance(past.now + HOUR)                           // the events the run had then
 */
import { DAY, HOUR } from './calendar.js'
import { inspectSnapshot, restoreEngine, skipTo, type Engine } from './engine.js'
import { SimError, SimErrorCode } from './errors.js'
import type { World } from './world/types.js'

/** A stored snapshot: its simulation time, bytes and how many journal entries it covers. */
export interface RunTimelineEntry {
  readonly at: number
  readonly bytes: Uint8Array
  /** Journal entries of the run it holds (the calls after it are the run's from this index on). */
  readonly calls: number
  /** Those entries, as JSON: after a switch of timeline, it is still on the engine's line when they match. */
  readonly prefix: string
}

/** How densely snapshots are kept by age: within `age` of the newest, one per `spacing` (both ms). */
export interface ThinningStep {
  readonly age: number
  readonly spacing: number
}

export interface RunTimelineOptions {
  /** Simulation time between snapshots (default 3 h). */
  everyMs?: number
  /**
   * How many are kept as they age (default: every one for a day, one per 12 h for
   * a week, one per day beyond); the run's first snapshot is always kept.
   */
  thinning?: readonly ThinningStep[]
  /**
   * The run's first snapshot, when the engine is not at the run's start any
   * more (a restarted service keeps the run start's snapshot and passes it
   * here); taken of `engine` when absent.
   */
  origin?: Uint8Array
}

const DEFAULT_THINNING: readonly ThinningStep[] = [
  { age: DAY, spacing: 0 },
  { age: 7 * DAY, spacing: 12 * HOUR },
  { age: Infinity, spacing: DAY },
]

/** Time travel's result: the engine at `target`, and what it cost. */
export interface TravelResult {
  engine: Engine
  /** Simulation time of the snapshot it started from. */
  from: number
  /** Calls of the run replayed after that snapshot. */
  replayed: number
}

export class RunTimeline {
  readonly #world: World
  readonly #engine: Engine
  readonly #every: number
  readonly #thinning: readonly ThinningStep[]
  #entries: RunTimelineEntry[] = []

  /** Takes the first snapshot (of `engine` now). */
  constructor(world: World, engine: Engine, opts: RunTimelineOptions = {}) {
    const every = opts.everyMs ?? 3 * HOUR
    if (!(every > 0 && Number.isFinite(every)))
      throw new SimError(
        SimErrorCode.badArgument,
        `everyMs must be a positive number of milliseconds, got ${String(opts.everyMs)}`,
      )
    this.#world = world
    this.#engine = engine
    this.#every = every
    this.#thinning = opts.thinning ?? DEFAULT_THINNING
    if (opts.origin) {
      const info = inspectSnapshot(opts.origin)
      if (info.journal.length > 0 || info.now > engine.now)
        throw new SimError(
          SimErrorCode.badArgument,
          `origin: expected a snapshot of the run's start (no calls, at or before the engine's time), got one at ${new Date(info.now).toISOString()} with ${info.journal.length} calls`,
        )
      this.#entries.push({ at: info.now, bytes: opts.origin, calls: 0, prefix: '[]' })
      if (engine.now > info.now) this.#take()
    } else {
      this.#take()
    }
  }

  /** The snapshots kept, oldest first. */
  get entries(): readonly RunTimelineEntry[] {
    return this.#entries
  }

  /** Bytes the snapshots hold. */
  get byteLength(): number {
    return this.#entries.reduce((n, e) => n + e.bytes.byteLength, 0)
  }

  /**
   * Takes a snapshot when `everyMs` of simulation time passed since the newest
   * (call it after each advance); thins the older ones. True when it took one.
   */
  checkpoint(): boolean {
    const last = this.#entries[this.#entries.length - 1]!
    if (this.#engine.now - last.at < this.#every) return false
    this.#take()
    this.#thin()
    return true
  }

  /**
   * A new engine at exactly `target` (epoch ms, from the run's first snapshot up
   * to any later time): the newest snapshot at or before it restored, the run's
   * calls made after that snapshot up to `target` replayed at their times, and
   * the rest re-simulated (events dropped). A target beyond the engine's `now`
   * continues from its present without calls. The engine travelled with is not
   * touched, unless it is passed as `into`: then that engine is restored in
   * place (the service's live engine) and returned. Throws `VS_SIM_BAD_ARGUMENT`
   * for a time before the first snapshot.
   */
  travel(target: number, into?: Engine): TravelResult {
    const first = this.#entries[0]!
    if (!Number.isFinite(target) || target < first.at)
      throw new SimError(
        SimErrorCode.badArgument,
        `travel: target must be a time from ${new Date(first.at).toISOString()} (the first snapshot) on, got ${Number.isFinite(target) ? new Date(target).toISOString() : String(target)}`,
      )
    const journal = this.#engine.journal()
    let entry: RunTimelineEntry | null = null
    let calls = journal.length
    if (target >= this.#engine.now) {
      entry = { at: this.#engine.now, bytes: this.#engine.snapshot(), calls, prefix: '' }
    } else {
      for (const e of this.#entries) if (e.at <= target) entry = e
      calls = entry!.calls
    }
    const journalAfter = journal.slice(calls)
    let engine: Engine
    if (into) {
      into.restore(entry!.bytes)
      engine = into
    } else {
      engine = restoreEngine(this.#world, entry!.bytes)
    }
    let replayed = 0
    for (const call of journalAfter) {
      if (call.t > target) break
      skipTo(engine, call.t)
      engine.apply(call)
      replayed++
    }
    skipTo(engine, target)
    return { engine, from: entry!.at, replayed }
  }

  /**
   * After the engine switched timelines (restored from a snapshot, or travelled
   * with `into`): keeps the snapshots still on its line — at or before its time,
   * with exactly the calls its journal begins with (a run is a pure function of
   * its calls, so such a snapshot is its past too) — and drops the rest, the
   * abandoned line's. The run's first snapshot always stays. Returns how many were dropped.
   */
  rebase(): number {
    const journal = this.#engine.journal()
    const now = this.#engine.now
    const before = this.#entries.length
    this.#entries = this.#entries.filter(
      (e, i) =>
        i === 0 ||
        (e.at <= now &&
          e.calls <= journal.length &&
          (e.calls === journal.length || journal[e.calls]!.t >= e.at) &&
          JSON.stringify(journal.slice(0, e.calls)) === e.prefix),
    )
    return before - this.#entries.length
  }

  #take(): void {
    const e = this.#engine
    const journal = e.journal()
    this.#entries.push({
      at: e.now,
      bytes: e.snapshot(),
      calls: journal.length,
      prefix: JSON.stringify(journal),
    })
  }

  /**
   * Keeps, in each age band with a spacing, the oldest snapshot of each
   * `spacing`-long span of simulation time (spans from the epoch, so what is
   * kept stays kept until it ages into a sparser band), and the run's first.
   */
  #thin(): void {
    const newest = this.#entries[this.#entries.length - 1]!.at
    const seen = new Set<string>()
    this.#entries = this.#entries.filter((e, i) => {
      const band = this.#thinning.findIndex((s) => newest - e.at <= s.age)
      const step = this.#thinning[band < 0 ? this.#thinning.length - 1 : band]!
      if (!(step.spacing > 0)) return true
      const span = `${band}:${Math.floor(e.at / step.spacing)}`
      if (seen.has(span) && i > 0) return false
      seen.add(span)
      return true
    })
  }
}
