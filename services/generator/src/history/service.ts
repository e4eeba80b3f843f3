/**
 * The run's history in Redis: the 30-day baseline (version 0, immutable), its
 * statistics and external events, numbered modified versions produced by
 * regeneration jobs (BullMQ, progress in the state and on `simulation_control`),
 * and the live series the generator records from the events it publishes, in the
 * same 15-minute buckets, so `/api/simulation/history` continues the baseline
 * without a seam. The gateway serves it (packages/bus/src/history/reader.ts).
 */
import { fileURLToPath } from 'node:url'
import { Queue, QueueEvents, Worker } from 'bullmq'
import type { ChainableCommander, Redis } from 'ioredis'
import type { Logger } from 'pino'
import {
  historyKeys,
  liveFromBucket,
  type HistoryMeta,
  type HistorySignal,
  type WorldKeys,
} from '@verisim/bus'
import {
  BUCKET_MS,
  ExpectedRates,
  HISTORY_INTERVALS,
  HistoryBook,
  SimErrorCode,
  type ExternalEvent,
  type HistoryModification,
  type SimEvent,
  type World,
} from '@verisim/sim'
import { ControlError } from '../control.js'
import { seriesDoc, type RegenerationJob, type RegenerationResult } from './doc.js'
import { KEEP_COMPLETED, KEEP_FAILED } from '../jobs/retention.js'

export const HISTORY_QUEUE = 'history'

export type HistoryJobState = NonNullable<HistoryMeta['job']>

export interface HistoryServiceOptions {
  redis: Redis
  redisUrl: string
  keys: WorldKeys
  world: World
  worldDir: string
  seed: number
  /** Run start (simulation ms). */
  startedAt: number
  /** Engine start (run start − warm-up). */
  origin: number
  log: Logger
  /** A progress or completion to announce on `simulation_control`. */
  announce: (data: Record<string, unknown>) => void
  /** Modified versions kept, the served one included (default {@link KEEP_HISTORY_VERSIONS}). */
  keepVersions?: number
  /**
   * How far back from now history is served, in simulated days (default
   * {@link HISTORY_MAX_SPAN_DAYS}); the live buckets behind it are deleted.
   */
  maxSpanDays?: number
}

const DAY_MS = 86_400_000

/** Days of history served back from now by default (`VERISIM_HISTORY_DAYS`). */
export const HISTORY_MAX_SPAN_DAYS = 60

/** Modified history versions kept (besides the baseline); older ones are deleted. */
export const KEEP_HISTORY_VERSIONS = 10

export class HistoryService {
  readonly #o: HistoryServiceOptions
  readonly #k: ReturnType<typeof historyKeys>
  #book: HistoryBook | null = null
  #meta: HistoryMeta | null = null
  /** Modifications since the last reset (what the next version applies). */
  #mods: HistoryModification[] = []
  #queue: Queue<RegenerationJob, RegenerationResult> | null = null
  #worker: Worker<RegenerationJob, RegenerationResult> | null = null
  #events: QueueEvents | null = null
  readonly #valueField = new Map<string, string>()
  readonly #live = new Map<number, Map<string, [number, number]>>()
  /** The baseline's expected counts (the engine signal's): stored with the history for its `normalized`. */
  #rates: ExpectedRates | null = null
  /** Live buckets up to this start have their expected counts written. */
  #expectedUpTo = -Infinity
  /** Live buckets before this start are deleted (or were never written). */
  #prunedTo = -Infinity
  /** Jobs queued and not finished; those queued before a reset do not become current. */
  readonly #pending = new Set<string>()
  #stale = new Set<string>()

  constructor(opts: HistoryServiceOptions) {
    this.#o = opts
    this.#k = historyKeys(opts.keys)
    for (const s of opts.world.streams) this.#valueField.set(s.name, s.valueField)
  }

  /** The baseline's book: generated on first use (a restarted generator publishes before it needs one). */
  get book(): HistoryBook {
    this.#book ??= this.#generateBook()
    return this.#book
  }

  #generateBook(): HistoryBook {
    const { world, seed, startedAt, origin, log } = this.#o
    let lastPct = -1
    return new HistoryBook({
      world,
      seed,
      start: startedAt,
      origin,
      onProgress: (d, total) => {
        const pct = Math.floor((d / total) * 100)
        if (pct >= lastPct + 25) {
          lastPct = pct
          log.debug({ pct }, 'generating the 30-day baseline')
        }
      },
    })
  }

  get mode(): 'baseline' | 'modified' {
    return this.#meta?.mode ?? 'baseline'
  }

  /** For the simulation state. */
  summary(): Record<string, unknown> {
    const m = this.#meta
    return {
      version: m?.current ?? 0,
      versions: m?.versions.length ?? 0,
      from: m ? new Date(m.from).toISOString() : null,
      job: m?.job ?? null,
    }
  }

  /**
   * Generates the baseline and stores it; a continued run keeps its versions and
   * live buckets, a new run clears the previous run's history first.
   */
  async init(continuing: boolean): Promise<void> {
    const { seed, startedAt, log } = this.#o
    const t0 = performance.now()
    const prev = continuing ? await this.#readMeta() : null
    const keep = prev !== null && prev.runStartedAt === startedAt && prev.seed === seed
    if (!keep) await this.#clear()
    const meta: HistoryMeta = keep
      ? {
          ...prev!,
          maxSpanMs: this.#maxSpanMs,
          job: prev!.job?.state === 'completed' ? prev!.job : null,
        }
      : this.#freshMeta()
    if (keep) {
      // continue from the served version's modifications
      const v = meta.versions.find((x) => x.version === meta.current)
      this.#mods = (v?.modifications ?? []) as HistoryModification[]
    }
    // A continued run's baseline is stored already, the same numbers (same run,
    // seed and world): generating and writing it again (~1.5 s) would only delay
    // a restarted generator's first event. Its book is generated when first used.
    if (keep && (await this.#o.redis.exists(this.#k.doc(0), this.#k.stats)) === 2) {
      await this.#o.redis.set(this.#k.meta, JSON.stringify(meta))
      this.#meta = meta
      log.info(
        { version: meta.current, ms: Math.round(performance.now() - t0) },
        'history baseline kept (stored before the restart)',
      )
      return
    }
    const book = this.book
    await this.#writeBaseline(meta)
    await this.publishEvents([])
    log.info(
      {
        from: new Date(book.series.from).toISOString(),
        to: new Date(startedAt).toISOString(),
        streams: book.series.streams.length,
        buckets: book.series.n,
        events: book.events.length,
        anomalies: book.baseline.anomalies.length,
        version: meta.current,
        ms: Math.round(performance.now() - t0),
      },
      keep ? 'history baseline ready (previous versions kept)' : 'history baseline ready',
    )
  }

  /**
   * Redis lost its data (restarted empty): writes the baseline again. The
   * modified versions are gone with it; history is back to the baseline.
   */
  async restoreAfterLoss(engineEvents: readonly ExternalEvent[]): Promise<void> {
    this.#mods = []
    this.#stale = new Set(this.#pending)
    await this.#writeBaseline(this.#freshMeta())
    await this.publishEvents(engineEvents)
    this.#o.log.warn('history written again after Redis lost it (back to the baseline)')
  }

  #freshMeta(): HistoryMeta {
    const { world, seed, startedAt } = this.#o
    const series = this.book.series
    return {
      world: world.id,
      seed,
      runStartedAt: startedAt,
      from: series.from,
      bucketMs: BUCKET_MS,
      maxSpanMs: this.#maxSpanMs,
      streams: series.streams.map((name, s) => ({ name, measure: series.measures[s]! })),
      current: 0,
      mode: 'baseline',
      versions: [
        {
          version: 0,
          createdAt: new Date().toISOString(),
          simTime: new Date(startedAt).toISOString(),
          description: 'baseline',
          window: null,
          modifications: [],
        },
      ],
      job: null,
    }
  }

  #expectedRates(): ExpectedRates {
    const { world, seed, origin } = this.#o
    return (this.#rates ??= new ExpectedRates(world, seed, origin))
  }

  /** `<stream>:e` of live bucket `b` (ms): the part of the bucket from the run start on. */
  #expectedFields(b: number): Record<string, string> {
    const e = this.#expectedRates().bucket(b / BUCKET_MS)
    const frac = Math.min(1, Math.max(0, (b + BUCKET_MS - this.#o.startedAt) / BUCKET_MS))
    const out: Record<string, string> = {}
    this.#o.world.streams.forEach((s, i) => {
      out[`${s.name}:e`] = String(Math.round(e[i]! * frac * 1000) / 1000)
    })
    return out
  }

  /** The stream signal's expectations and parameters over the baseline span (docs/SIGNAL.md). */
  #signalDoc(): HistorySignal {
    const { world, startedAt } = this.#o
    const series = this.book.series
    const rates = this.#expectedRates()
    const expected = rates.steady(series.from, series.n)
    const last = series.from + (series.n - 1) * BUCKET_MS
    const lastFrac = Math.min(1, (startedAt - last) / BUCKET_MS)
    const streams: HistorySignal['streams'] = {}
    world.streams.forEach((st, i) => {
      const xs = Array.from(expected[i]!, (x) => Math.round(x * 1000) / 1000)
      if (xs.length > 0) xs[xs.length - 1] = Math.round(xs[xs.length - 1]! * lastFrac * 1000) / 1000
      streams[st.name] = {
        kind: st.signalKind,
        dispersion: rates.dispersion(i),
        tolerance: st.anomaly.tolerance,
        valueTolerance: st.anomaly.valueTolerance,
        mean: st.baseline.mean,
        sd: st.baseline.sd,
        expected: xs,
      }
    })
    return { from: series.from, bucketMs: BUCKET_MS, n: series.n, streams }
  }

  /** Version 0, the statistics at every interval and `meta`. */
  async #writeBaseline(meta: HistoryMeta): Promise<void> {
    const book = this.book
    const intervals = Object.fromEntries(
      HISTORY_INTERVALS.map((i) => [i, book.statistics(i).streams]),
    )
    const s = book.series
    await this.#o.redis
      .multi()
      .set(this.#k.doc(0), seriesDoc(0, s))
      .set(
        this.#k.stats,
        JSON.stringify({
          calculatedFrom: `${new Date(s.from).toISOString()} to ${new Date(s.start).toISOString()} (world ${s.world}, seed ${s.seed})`,
          version: 0,
          intervals,
          signal: this.#signalDoc(),
        }),
      )
      .set(this.#k.meta, JSON.stringify(meta))
      .exec()
    this.#meta = meta
  }

  /** Starts the regeneration queue and its sandboxed worker. */
  start(): void {
    const connection = { url: this.#o.redisUrl, maxRetriesPerRequest: null } as const
    const prefix = this.#o.keys.bullPrefix
    this.#queue = new Queue(HISTORY_QUEUE, { connection, prefix })
    this.#events = new QueueEvents(HISTORY_QUEUE, { connection, prefix })
    const processor = fileURLToPath(new URL('./worker.js', import.meta.url))
    this.#worker = new Worker<RegenerationJob, RegenerationResult>(HISTORY_QUEUE, processor, {
      connection,
      prefix,
      concurrency: 1,
      useWorkerThreads: true,
    })
    const warn = (what: string) => (err: Error) =>
      this.#o.log.warn({ err: err.message }, `history ${what} error`)
    this.#queue.on('error', warn('queue'))
    this.#worker.on('error', warn('worker'))
    this.#events.on('error', warn('queue events'))
    this.#worker.on('active', (job) => void this.#jobState(job.id!, job.data.version, 'running', 0))
    this.#worker.on('progress', (job, p) => {
      void this.#jobState(job.id!, job.data.version, 'running', typeof p === 'number' ? p : 0)
    })
    this.#worker.on('completed', (job, r) => void this.#completed(job.id!, job.data, r))
    this.#worker.on('failed', (job, err) => {
      if (!job) return
      this.#pending.delete(job.id!)
      // the next change builds on the version served, not on the one that failed
      if (!this.#stale.delete(job.id!)) {
        const served = this.#meta?.versions.find((v) => v.version === this.#meta?.current)
        this.#mods = (served?.modifications ?? []) as HistoryModification[]
      }
      this.#o.log.error(
        { err: err.message, version: job.data.version },
        'history regeneration failed',
      )
      void this.#jobState(job.id!, job.data.version, 'failed', 0, err.message)
    })
  }

  /** Counts the published events into the live buckets (world streams only). */
  record(events: readonly SimEvent[]): void {
    for (const e of events) {
      const field = this.#valueField.get(e.stream)
      if (field === undefined) continue
      const b = Math.floor(e.ts / BUCKET_MS) * BUCKET_MS
      let m = this.#live.get(b)
      if (!m) this.#live.set(b, (m = new Map()))
      let acc = m.get(e.stream)
      if (!acc) m.set(e.stream, (acc = [0, 0]))
      acc[0]++
      const v = e.data[field]
      if (typeof v === 'number' && Number.isFinite(v)) acc[1] += v
    }
  }

  /**
   * Writes what `record` gathered (additive, so a restart never loses a bucket's
   * earlier part), and each new bucket's expected counts (`<stream>:e`, set: the
   * same numbers again after a restart).
   */
  async flush(): Promise<void> {
    if (this.#live.size === 0) return
    const p = this.#o.redis.pipeline()
    let newest = -Infinity
    for (const [b, m] of this.#live) {
      if (b > newest) newest = b
      const key = this.#k.live(b)
      for (const [stream, [n, sum]] of m) {
        p.hincrby(key, stream, n)
        if (sum !== 0) p.hincrbyfloat(key, `${stream}:v`, sum)
      }
      if (b > this.#expectedUpTo) {
        p.hset(key, this.#expectedFields(b))
        this.#expectedUpTo = b
      }
    }
    this.#live.clear()
    this.#prune(p, newest)
    await p.exec()
  }

  /**
   * A new timeline from `to` (a restore or a travel back): the live buckets from
   * the one holding `to` on are the old line's and are deleted; that bucket's part
   * before `to` is recorded again from `before`, the new line's events from the
   * bucket's start up to `to` (the same as the old line's: the lines part at `to`).
   */
  async rewind(to: number, before: readonly SimEvent[], timeline: string): Promise<void> {
    this.#live.clear()
    // first, so no gateway caches an answer of the new line's buckets as the old line's
    await this.#updateMeta((m) => ({ ...m, timeline }))
    const from = Math.floor(to / BUCKET_MS) * BUCKET_MS
    const prefix = this.#k.live(0).slice(0, -1)
    let cursor = '0'
    do {
      const [next, found] = await this.#o.redis.scan(
        cursor,
        'MATCH',
        this.#k.livePattern,
        'COUNT',
        1000,
      )
      cursor = next
      const stale = found.filter((k) => Number(k.slice(prefix.length)) >= from)
      if (stale.length > 0) await this.#o.redis.del(...stale)
    } while (cursor !== '0')
    this.#expectedUpTo = Math.min(this.#expectedUpTo, from - BUCKET_MS)
    this.record(before)
    await this.flush()
  }

  get #maxSpanMs(): number {
    return (this.#o.maxSpanDays ?? HISTORY_MAX_SPAN_DAYS) * DAY_MS
  }

  /**
   * Deletes the live buckets history no longer serves: those ending a day or
   * more before `newest` − the served span (the day is slack for a gateway
   * whose idea of now trails the generator's). Each bucket once; after a
   * restart, every bucket of the run behind the line.
   */
  #prune(p: ChainableCommander, newest: number): void {
    const meta = this.#meta
    if (!meta) return
    const line = newest - this.#maxSpanMs - DAY_MS
    let b = Math.max(this.#prunedTo, liveFromBucket(meta))
    for (; b + BUCKET_MS <= line; b += BUCKET_MS) p.del(this.#k.live(b))
    this.#prunedTo = Math.max(this.#prunedTo, b)
  }

  /**
   * After an injection: a past event whose impact window reaches into the
   * baseline regenerates it. Returns what the control reply reports.
   */
  async afterInject(event: ExternalEvent, input: Record<string, unknown>): Promise<unknown> {
    if (event.redHerring) return { regenerated: false, reason: 'red herring: history unchanged' }
    if (event.window.start >= this.#o.startedAt)
      return { regenerated: false, reason: 'its impact window is after the run start (live only)' }
    return this.#regenerate(
      {
        kind: 'event',
        event: { ...input, timestamp: event.timestamp } as never,
        eventId: event.id,
      },
      `external event ${event.id} (${event.title}) at ${event.timestamp}`,
    )
  }

  /** `history_scenario`: applies a scenario to the baseline retroactively. */
  async applyScenario(payload: {
    scenarioId: string
    start: string
    stop?: string
  }): Promise<unknown> {
    const start = Date.parse(payload.start)
    const stop = payload.stop === undefined ? undefined : Date.parse(payload.stop)
    const book = this.book
    const bad = (message: string) => new ControlError(SimErrorCode.badArgument, message, 400)
    if (!book.model.world.scenarioSet.byId.has(payload.scenarioId))
      throw new ControlError(
        SimErrorCode.unknownScenario,
        `scenarioId: unknown scenario "${payload.scenarioId}"; expected one of ${[...book.model.world.scenarioSet.byId.keys()].join(', ')}`,
        404,
      )
    if (!Number.isFinite(start)) throw bad('start: expected an ISO 8601 date-time')
    if (start < book.series.from || start >= this.#o.startedAt)
      throw bad(
        `start: expected a time inside the baseline, ${new Date(book.series.from).toISOString()} to ${new Date(this.#o.startedAt).toISOString()}`,
      )
    if (stop !== undefined && !(Number.isFinite(stop) && stop > start))
      throw bad('stop: expected an ISO 8601 date-time after start')
    const mod: HistoryModification = {
      kind: 'scenario',
      scenarioId: payload.scenarioId,
      start,
      ...(stop === undefined ? {} : { stop }),
    }
    return this.#regenerate(
      mod,
      `scenario ${payload.scenarioId} from ${new Date(start).toISOString()}`,
    )
  }

  /** Back to the baseline (versions are kept; the next modification starts from the baseline). */
  async reset(): Promise<unknown> {
    this.#mods = []
    this.#stale = new Set(this.#pending)
    await this.#updateMeta((m) => ({ ...m, current: 0, mode: 'baseline' }))
    return { historicalMode: 'baseline', version: 0 }
  }

  /** `hist:events`: the baseline's events and the engine's (injected, scenario) events. */
  async publishEvents(engineEvents: readonly ExternalEvent[]): Promise<void> {
    const all = [...this.book.events, ...engineEvents]
    await this.#o.redis.set(this.#k.events, JSON.stringify(all))
  }

  /** Baseline events in `[start, end]` (for `list_external_events`). */
  baselineEvents(range: { start?: number; end?: number }): unknown[] {
    return this.book.events.filter(
      (e) =>
        (range.start === undefined || e.at >= range.start) &&
        (range.end === undefined || e.at <= range.end),
    )
  }

  async #regenerate(mod: HistoryModification, description: string): Promise<unknown> {
    // Validate now, with everything it comes on top of (two scenarios may not
    // overlap): a clear error to the caller instead of a failed job.
    const mods = [...this.#mods, mod]
    try {
      this.book.model.affectedWindow(mods)
    } catch (err) {
      const why = (err as Error).message.replace(/^history modification \d+ \([^)]*\): /, '')
      throw new ControlError(
        SimErrorCode.badArgument,
        `${description}: cannot be applied on top of version ${this.#meta?.current ?? 0}: ${why}`,
        400,
      )
    }
    const window = this.book.model.affectedWindow([mod])
    if (!this.#queue) throw new Error('history regeneration is not running')
    this.#mods = mods
    const meta = this.#meta!
    const version = Math.max(...meta.versions.map((v) => v.version), meta.job?.version ?? 0) + 1
    const data: RegenerationJob = {
      version,
      description,
      mods,
      world: this.#o.world.id,
      worldDir: this.#o.worldDir,
      seed: this.#o.seed,
      start: this.#o.startedAt,
      origin: this.#o.origin,
      redisUrl: this.#o.redisUrl,
      docKey: this.#k.doc(version),
    }
    const job = await this.#queue.add('regenerate', data, {
      jobId: `v${version}-${Date.now()}`,
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    })
    this.#pending.add(job.id!)
    await this.#jobState(job.id!, version, 'queued', 0)
    return {
      regenerated: true,
      jobId: job.id,
      version,
      window: window && {
        start: new Date(window.start).toISOString(),
        end: new Date(window.end).toISOString(),
      },
    }
  }

  async #completed(jobId: string, d: RegenerationJob, r: RegenerationResult): Promise<void> {
    const window = r.window
    this.#pending.delete(jobId)
    const stale = this.#stale.delete(jobId)
    await this.#updateMeta((m) => ({
      ...m,
      // a job queued before a reset is kept as a version but not served
      current: stale ? m.current : d.version,
      mode: stale ? m.mode : 'modified',
      versions: [
        ...m.versions,
        {
          version: d.version,
          createdAt: new Date().toISOString(),
          simTime: new Date(this.#o.startedAt).toISOString(),
          description: d.description,
          window,
          modifications: d.mods,
        },
      ],
      job: { id: jobId, version: d.version, state: 'completed', progress: 100 },
    }))
    await this.#pruneVersions()
    this.#o.log.info(
      { version: d.version, ms: r.ms, description: d.description },
      'history regenerated',
    )
    this.#o.announce({
      status: 'completed',
      jobId,
      version: d.version,
      progress: 100,
      historicalMode: this.mode,
      window: window && {
        start: new Date(window.start).toISOString(),
        end: new Date(window.end).toISOString(),
      },
    })
  }

  async #jobState(
    id: string,
    version: number,
    state: HistoryJobState['state'],
    progress: number,
    error?: string,
  ): Promise<void> {
    const job: HistoryJobState = { id, version, state, progress, ...(error ? { error } : {}) }
    await this.#updateMeta((m) => ({ ...m, job }))
    this.#o.announce({ status: state, jobId: id, version, progress, ...(error ? { error } : {}) })
  }

  /**
   * Keeps the baseline, the served version and the newest modified versions
   * (`keepVersions`, default {@link KEEP_HISTORY_VERSIONS}); older version documents
   * (about 1.3 MB each for tutoring) are deleted, so modifications never pile up in Redis.
   */
  async #pruneVersions(): Promise<void> {
    const m = this.#meta
    if (!m) return
    const keep = this.#o.keepVersions ?? KEEP_HISTORY_VERSIONS
    const modified = m.versions.filter((v) => v.version !== 0 && v.version !== m.current)
    const drop = new Set(
      modified
        .sort((a, b) => a.version - b.version)
        .slice(0, Math.max(0, modified.length - (keep - 1)))
        .map((v) => v.version),
    )
    if (drop.size === 0) return
    await this.#o.redis.del(...[...drop].map((v) => this.#k.doc(v)))
    await this.#updateMeta((x) => ({
      ...x,
      versions: x.versions.filter((v) => !drop.has(v.version)),
    }))
    this.#o.log.info({ dropped: [...drop], kept: keep }, 'old history versions deleted')
  }

  async #updateMeta(f: (m: HistoryMeta) => HistoryMeta): Promise<void> {
    if (!this.#meta) return
    this.#meta = f(this.#meta)
    await this.#o.redis.set(this.#k.meta, JSON.stringify(this.#meta))
  }

  async #readMeta(): Promise<HistoryMeta | null> {
    const raw = await this.#o.redis.get(this.#k.meta)
    return raw === null ? null : (JSON.parse(raw) as HistoryMeta)
  }

  /** Removes a previous run's history keys. */
  async #clear(): Promise<void> {
    const redis = this.#o.redis
    let cursor = '0'
    do {
      const pattern = this.#k.meta.replace(/meta$/, '*')
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined)
    await this.#worker?.close()
    await this.#events?.close()
    await this.#queue?.close()
  }
}
