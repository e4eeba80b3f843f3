/**
 * A run's history book: the immutable 30-day baseline (series, its statistics,
 * its external events with their measured impact) and regenerations of it with
 * further modifications. Pure and deterministic: the same world, seed and start
 * give byte-identical results.
 */
import type { ExternalEvent } from '../external.js'
import { streamMatcher } from '../modifiers.js'
import type { World } from '../world/types.js'
import { planBaselineEvents } from './events.js'
import {
  BUCKET_MS,
  HistoryModel,
  type GeneratedHistory,
  type HistoryInterval,
  type HistorySeries,
} from './model.js'
import { baselineStatistics, type BaselineStatistics } from './stats.js'
import type { HistoryModification } from './timeline.js'

/** What one baseline event did to one of the streams it was expected to move. */
export interface MeasuredImpact {
  stream: string
  expected: { direction: string; magnitude: string }
  actual: {
    /** observed / counterfactual − 1 over the event's window (counts, or means for mean streams). */
    change: number
    direction: 'increase' | 'decrease' | 'none'
    matched: boolean
  }
}

/** A baseline external event as `/api/events/external` and `/history` report it. */
export type HistoryEvent = Omit<ExternalEvent, 'actualImpact' | 'source'> & {
  source: 'baseline'
  actualImpact: MeasuredImpact[]
  /** Whether any expected stream moved the expected way (false for every red herring). */
  impacted: boolean
}

export interface HistoryBookOptions {
  world: World
  seed: number
  /** Run start (epoch ms). */
  start: number
  /** Live engine start (run start − warm-up): the growth trend's origin. */
  origin?: number
  days?: number
  onProgress?: (done: number, total: number) => void
}

/** Relative change below which a stream counts as not moved. */
const MOVED = 0.02

export class HistoryBook {
  readonly model: HistoryModel
  readonly baseline: GeneratedHistory
  readonly events: HistoryEvent[]
  readonly #baseMods: HistoryModification[]
  readonly #stats = new Map<HistoryInterval, BaselineStatistics>()

  constructor(opts: HistoryBookOptions) {
    this.model = new HistoryModel(opts)
    const m = this.model
    const plan = planBaselineEvents(opts.world, opts.seed, m.from, opts.start)
    this.#baseMods = plan.mods
    const total = opts.world.streams.length * 2
    this.baseline = m.generate(plan.mods, {
      onProgress: (d) => opts.onProgress?.(d, total),
    })
    // the counterfactual without any event: what each event actually changed
    const pure = m.generate([], {
      onProgress: (d) => opts.onProgress?.(opts.world.streams.length + d, total),
    })
    this.events = this.baseline.timeline.events.map((e, i) =>
      this.#measure({ ...e, id: plan.ids[i] ?? e.id }, pure.series),
    )
  }

  get series(): HistorySeries {
    return this.baseline.series
  }

  statistics(interval: HistoryInterval = '12h'): BaselineStatistics {
    let s = this.#stats.get(interval)
    if (!s) this.#stats.set(interval, (s = baselineStatistics(this.baseline.series, interval)))
    return s
  }

  /** The baseline with `mods` applied on top of its own events. */
  regenerate(
    mods: readonly HistoryModification[],
    onProgress?: (done: number, total: number) => void,
  ): GeneratedHistory {
    const g = this.model.generate([...this.#baseMods, ...mods], {
      onProgress,
      ownFrom: this.#baseMods.length,
    })
    // the window is where the added modifications act (the baseline's own events are not a change)
    return { ...g, window: this.model.affectedWindow(mods) }
  }

  /**
   * What an event changed on its expected streams over its window. A causal event
   * is measured against the baseline without any event (events overlapping its
   * window count in); a red herring against the baseline without it, which is the
   * baseline itself: it changes nothing, so its change is 0.
   */
  #measure(e: ExternalEvent, pure: HistorySeries): HistoryEvent {
    const series = this.baseline.series
    const a = Math.max(0, Math.floor((e.window.start - series.from) / BUCKET_MS))
    const b = Math.min(series.n, Math.ceil((e.window.end - series.from) / BUCKET_MS))
    const matchers = e.expectedImpact.streams.map(streamMatcher)
    const impacts: MeasuredImpact[] = []
    series.streams.forEach((name, s) => {
      if (!matchers.some((m) => m(name))) return
      let obs = 0
      let cf = 0
      const isMean = series.measures[s] === 'mean'
      for (let i = a; i < b; i++) {
        const k = series.count[s]![i]!
        const kc = pure.count[s]![i]!
        obs += isMean ? (k > 0 ? series.mean[s]![i]! : 0) : k
        cf += isMean ? (kc > 0 ? pure.mean[s]![i]! : 0) : kc
      }
      const change = e.redHerring || !(cf > 0) ? 0 : obs / cf - 1
      const direction = change > MOVED ? 'increase' : change < -MOVED ? 'decrease' : 'none'
      const want = e.expectedImpact.direction
      impacts.push({
        stream: name,
        expected: { direction: want, magnitude: e.expectedImpact.magnitude },
        actual: {
          change: Math.round(change * 1000) / 1000,
          direction,
          matched: direction !== 'none' && (want === 'mixed' || want === direction),
        },
      })
    })
    return {
      ...e,
      // part of the baseline: known from the start, in the past of the run
      injectedAt: e.at,
      timing: 'past',
      source: 'baseline',
      actualImpact: impacts,
      impacted: impacts.some((x) => x.actual.matched),
    }
  }
}
