/**
 * The page's state and actions: the REST reads (catalog, state, scenarios,
 * external events and their templates, history, snapshots and timelines, an
 * entity's journey from the archive), the live stream through
 * `@verisim/client`, the chart and log buffers fed by it (started again when a
 * restore or a travel begins a new timeline), every control action with its
 * toast, and the archive replay the page follows.
 * Components read signals from here and call its actions; nothing else talks
 * to the gateway.
 */
import {
  compareIds,
  createClient,
  type ConnectionState,
  type StreamEvent,
  type VerisimClient,
} from '@verisim/client'
import { ApiError, createApi, errorMessage, isUnavailable, tokenStore, type Api } from './api.js'
import {
  archiveFailure,
  cancelReplay,
  followReplay,
  getJourney,
  journeyFailed,
  journeyFiltered,
  journeyLoaded,
  journeyMore,
  journeyOpened,
  startReplay,
  type JourneyView,
  type ReplayRequest,
  type ReplayStatus,
  type ReplayView,
} from './archive.js'
import {
  formatDuration,
  formatSimTime,
  readableDuration,
  reportWallTime,
  simNow,
  type ClockSample,
} from './format.js'
import {
  listOf,
  readExternalEvent,
  readScenario,
  readState,
  readTemplate,
  type EventTemplate,
  type ExternalEvent,
  type Flag,
  type Scenario,
  type SimState,
  type StreamInfo,
} from './model.js'
import { BucketSeries, historyPoints, type Points } from './series.js'
import { signal, type Signal } from './signal.js'
import {
  isSwitching,
  readPreview,
  readSnapshot,
  readSnapshotList,
  readSwitch,
  readTimelines,
  type Snapshot,
  type SnapshotList,
  type TimelineList,
  type TimelineSwitch,
  type TravelPreview,
} from './time-travel.js'
import { readWorld, type WorldDescription } from '../worlds/model.js'

export type Loadable<T> =
  | { status: 'loading' }
  | { status: 'ok'; data: T }
  | { status: 'unavailable' }
  | { status: 'error'; message: string }

export interface Toast {
  id: number
  kind: 'success' | 'error' | 'info'
  text: string
}

export interface LogEntry {
  event: StreamEvent
  /** Lower-cased text the free-text filter searches (built on first use). */
  haystack?: string
}

export interface AnomalyPoint {
  /** Simulation time, seconds. */
  t: number
  stream: string
  v: number
  flag: Exclude<Flag, 'normal'>
}

/** The answer of an action whose panel shows the error itself, or the error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string }

export interface Connection {
  state: ConnectionState
  attempt: number
  delayMs?: number
  code?: number
}

const STATE_POLL_MS = 2000
const EXTERNAL_POLL_MS = 15_000
/** Snapshots and timelines change on this page's actions (read again at once) and on others'. */
const TIME_TRAVEL_POLL_MS = 15_000
const LOG_CAPACITY = 2000
const ANOMALY_CAPACITY = 3000
const WEEK_MS = 7 * 86_400_000
/** Live buffers are handed to the components at most this often. */
const FLUSH_MS = 250

export type AppState = ReturnType<typeof createAppState>

export function createAppState(opts: { base?: string } = {}) {
  // ------------------------------------------------------------------ signals
  const catalog = signal<Loadable<StreamInfo[]>>({ status: 'loading' })
  const state = signal<SimState | null>(null)
  const stateError = signal<string | null>(null)
  const clock = signal<ClockSample | null>(null)
  const connection = signal<Connection>({ state: 'connecting', attempt: 0 })
  const scenarios = signal<Loadable<Scenario[]>>({ status: 'loading' })
  const externalEvents = signal<Loadable<ExternalEvent[]>>({ status: 'loading' })
  /** The world's external-event library (unavailable from a gateway that does not list it). */
  const templates = signal<Loadable<EventTemplate[]>>({ status: 'loading' })
  const historyStatus = signal<Loadable<null>>({ status: 'loading' })
  /** The running world (`GET /api/world`): what the world panels are built from. */
  const world = signal<Loadable<WorldDescription>>({ status: 'loading' })
  const toasts = signal<Toast[]>([])
  const tokenPrompt = signal<{ message: string; resolve: (t: string | null) => void } | null>(null)
  /** Incremented whenever the live buffers changed (throttled). */
  const liveTick = signal(0)
  /** Which action is in flight ('start', 'scenario:<id>', 'stop', …), for loading states. */
  const busy = signal<Set<string>>(new Set())
  /** settlingUntil of the last stop, until the state reports its own. */
  const settlingUntil = signal<string | null>(null)
  const eventsPerSecond = signal(0)
  /** Saved snapshots, the automatic ones and the current timeline (`GET /api/simulation/snapshots`). */
  const snapshots = signal<Loadable<SnapshotList>>({ status: 'loading' })
  /** The current timeline and those left (`GET /api/simulation/timelines`). */
  const timelines = signal<Loadable<TimelineList>>({ status: 'loading' })
  /** The journey dialog (`GET /api/journeys/:entityId`); null when closed. */
  const journey = signal<JourneyView | null>(null)
  /** The archive replay this page started and follows; null before the first. */
  const replay = signal<ReplayView | null>(null)

  // ------------------------------------------------------------- live buffers
  const series = new BucketSeries()
  const history = new Map<string, Points>()
  const log: LogEntry[] = []
  const anomalies: AnomalyPoint[] = []
  /** External events by id, from every source (REST, state, history, live). */
  const external = new Map<string, ExternalEvent>()
  let received = 0

  // ---------------------------------------------------------------- toasts
  let toastId = 0
  function toast(kind: Toast['kind'], text: string, ms = kind === 'error' ? 8000 : 5000) {
    const t = { id: ++toastId, kind, text }
    toasts.update((l) => [...l.slice(-4), t])
    setTimeout(() => dismiss(t.id), ms)
  }
  function dismiss(id: number) {
    toasts.update((l) => l.filter((t) => t.id !== id))
  }

  // --------------------------------------------------------------------- REST
  const api: Api = createApi({
    base: opts.base,
    askToken: (message) =>
      new Promise<string | null>((resolve) => {
        // One prompt at a time; a second 401 meanwhile waits for the same answer.
        const open = tokenPrompt.get()
        if (open) {
          const prev = open.resolve
          open.resolve = (t) => {
            prev(t)
            resolve(t)
          }
          return
        }
        tokenPrompt.set({ message, resolve })
      }),
    onToken: (token) => {
      if (live && liveToken !== token) connectLive(token)
    },
  })

  function answerToken(token: string | null) {
    const p = tokenPrompt.get()
    tokenPrompt.set(null)
    p?.resolve(token && token.trim() ? token.trim() : null)
  }

  /** Server time of the newest state applied: an older report (a poll that raced a control answer) is dropped. */
  let stateUpdatedAt = Number.NEGATIVE_INFINITY

  function applyState(raw: unknown, receivedAt = Date.now()) {
    const s = readState(raw)
    if (!s) return
    const updated = s.updatedAt ? Date.parse(s.updatedAt) : Number.NaN
    if (Number.isFinite(updated)) {
      if (updated < stateUpdatedAt) return
      stateUpdatedAt = updated
    }
    const prev = state.get()
    // a restore or a travel (from this page or elsewhere) put the run on another line
    const newTimeline = !!prev?.timeline && !!s.timeline && prev.timeline.id !== s.timeline.id
    state.set(s)
    stateError.set(null)
    clock.set({
      sim: Date.parse(s.currentSimulationTime),
      wall: reportWallTime(s.updatedAt, receivedAt),
      // the speed kept, not the one asked for: a generator that falls behind
      // must not make the page's clock run ahead of the events
      speed: s.effectiveSpeed ?? s.speed,
      running: s.running && !s.paused,
    })
    // the old line's external events are not this one's
    if (newTimeline) external.clear()
    for (const e of s.activeEvents) external.set(e.id, e)
    if (s.activeEvents.length > 0 || newTimeline) publishExternal()
    if (!s.activeModifiers.some((m) => m.status === 'settling')) settlingUntil.set(null)
    // the served history changed (a regeneration completed, or reset): load it again
    const version = (x: SimState | null) =>
      x && typeof x.history === 'object' && x.history !== null
        ? (x.history as { version?: unknown }).version
        : undefined
    if (newTimeline) timelineChanged()
    else if (prev && (prev.historicalMode !== s.historicalMode || version(prev) !== version(s)))
      void refreshHistory()
  }

  /**
   * The run is on another timeline (a restore or a travel, from this page or
   * elsewhere): its external events, its history (the generator rewound it to
   * the switch) and the lists of snapshots and timelines are read again.
   */
  function timelineChanged() {
    void refreshHistory()
    void loadExternal()
    void loadTimeTravel()
  }

  /**
   * Simulation time now. `shownBefore` (what a ticking display last showed)
   * keeps it from stepping back by report jitter while running.
   */
  function now(shownBefore?: number): number {
    const c = clock.get()
    return simNow(c, Date.now(), c?.running ? shownBefore : undefined)
  }

  async function loadCatalog(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await api.get<{ streams: StreamInfo[] }>('/api/streams')
        catalog.set({ status: 'ok', data: listOf(r, 'streams') as StreamInfo[] })
        return
      } catch (err) {
        // 503 while the generator has not published its catalog: keep trying.
        catalog.set({ status: 'error', message: errorMessage(err) })
        await sleep(Math.min(5000, 500 * 2 ** attempt))
      }
    }
  }

  async function loadState(): Promise<void> {
    try {
      applyState(await api.get('/api/simulation/state'))
    } catch (err) {
      stateError.set(errorMessage(err))
    }
  }

  let scenarioRetry: ReturnType<typeof setTimeout> | null = null
  async function loadScenarios(): Promise<void> {
    if (scenarioRetry !== null) clearTimeout(scenarioRetry)
    scenarioRetry = null
    try {
      const r = await api.get('/api/simulation/scenarios')
      const list = listOf(r, 'scenarios')
        .map(readScenario)
        .filter((s): s is Scenario => s !== null)
      scenarios.set({ status: 'ok', data: list })
    } catch (err) {
      scenarios.set(
        isUnavailable(err)
          ? { status: 'unavailable' }
          : { status: 'error', message: errorMessage(err) },
      )
      // 503: the generator has not published its scenarios yet; ask again shortly.
      if (err instanceof ApiError && (err.status === 503 || err.status === 0)) {
        scenarioRetry = setTimeout(() => void loadScenarios(), 5000)
      }
    }
  }

  let templateRetry: ReturnType<typeof setTimeout> | null = null
  async function loadTemplates(attempt = 0): Promise<void> {
    if (templateRetry !== null) clearTimeout(templateRetry)
    templateRetry = null
    try {
      const r = await api.get('/api/events/templates')
      const list = listOf(r, 'templates')
        .map(readTemplate)
        .filter((t): t is EventTemplate => t !== null)
      templates.set({ status: 'ok', data: list })
    } catch (err) {
      templates.set(
        isUnavailable(err)
          ? { status: 'unavailable' }
          : { status: 'error', message: errorMessage(err) },
      )
      // 503: no library published yet (or a generator too old to publish one): ask again, less often.
      if (err instanceof ApiError && (err.status === 503 || err.status === 0)) {
        templateRetry = setTimeout(
          () => void loadTemplates(attempt + 1),
          Math.min(60_000, 5000 * 2 ** attempt),
        )
      }
    }
  }

  let worldRetry: ReturnType<typeof setTimeout> | null = null
  async function loadWorld(attempt = 0): Promise<void> {
    if (worldRetry !== null) clearTimeout(worldRetry)
    worldRetry = null
    try {
      const w = readWorld(await api.get('/api/world'))
      world.set(
        w
          ? { status: 'ok', data: w }
          : { status: 'error', message: 'the world description is empty' },
      )
    } catch (err) {
      world.set(
        isUnavailable(err)
          ? { status: 'unavailable' }
          : { status: 'error', message: errorMessage(err) },
      )
      // 503: the generator has not written the description yet.
      if (err instanceof ApiError && (err.status === 503 || err.status === 0)) {
        worldRetry = setTimeout(
          () => void loadWorld(attempt + 1),
          Math.min(30_000, 2000 * 2 ** attempt),
        )
      }
    }
  }

  let snapshotsSeq = 0
  async function loadSnapshots(): Promise<void> {
    const seq = ++snapshotsSeq
    try {
      const r = readSnapshotList(await api.get('/api/simulation/snapshots'))
      if (seq === snapshotsSeq) snapshots.set({ status: 'ok', data: r })
    } catch (err) {
      if (seq !== snapshotsSeq) return
      snapshots.set(
        isUnavailable(err)
          ? { status: 'unavailable' }
          : { status: 'error', message: errorMessage(err) },
      )
    }
  }

  let timelinesSeq = 0
  async function loadTimelines(): Promise<void> {
    const seq = ++timelinesSeq
    try {
      const r = readTimelines(await api.get('/api/simulation/timelines'))
      if (seq === timelinesSeq) timelines.set({ status: 'ok', data: r })
    } catch (err) {
      if (seq !== timelinesSeq) return
      timelines.set(
        isUnavailable(err)
          ? { status: 'unavailable' }
          : { status: 'error', message: errorMessage(err) },
      )
    }
  }

  /** Both lists of the "Time travel" panel. */
  function loadTimeTravel(): Promise<void> {
    return Promise.all([loadSnapshots(), loadTimelines()]).then(() => undefined)
  }

  /**
   * A world action (`POST /api/world/actions/:name`): the server's answer, or its
   * error (code and message, naming the field), for the panel to show.
   */
  async function worldAction(
    name: string,
    payload: Record<string, unknown>,
  ): Promise<{ ok: true; answer: unknown } | { ok: false; code: string; message: string }> {
    const key = `world:${name}`
    busy.update((s) => new Set(s).add(key))
    try {
      const answer = await api.post(`/api/world/actions/${encodeURIComponent(name)}`, payload)
      toast('success', `World action ${name} applied`)
      void loadState()
      return { ok: true, answer }
    } catch (err) {
      return {
        ok: false,
        code: err instanceof ApiError ? err.code : 'VS_UI_ERROR',
        message: errorMessage(err),
      }
    } finally {
      busy.update((s) => {
        const n = new Set(s)
        n.delete(key)
        return n
      })
    }
  }

  function publishExternal() {
    const list = [...external.values()].sort(
      (a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp),
    )
    const cur = externalEvents.get()
    // Events known from the state or the stream show even where the REST list is unavailable.
    if (cur.status === 'unavailable' && list.length === 0) return
    externalEvents.set({ status: 'ok', data: list })
  }

  async function loadExternal(): Promise<void> {
    const t = now()
    const query = Number.isFinite(t)
      ? { start: new Date(t - WEEK_MS).toISOString(), end: new Date(t + WEEK_MS).toISOString() }
      : undefined
    try {
      const r = await api.get('/api/events/external', query)
      for (const x of listOf(r, 'events', 'externalEvents')) {
        const e = readExternalEvent(x)
        if (e) external.set(e.id, e)
      }
      externalEvents.set({ status: 'ok', data: [] })
      publishExternal()
    } catch (err) {
      if (isUnavailable(err)) {
        externalEvents.set({ status: 'unavailable' })
        publishExternal()
      } else if (externalEvents.get().status !== 'ok') {
        externalEvents.set({ status: 'error', message: errorMessage(err) })
      }
    }
  }

  // ------------------------------------------------------------------ history
  let historyStreams: string[] = []
  let historySeq = 0

  /** Loads the 7-day window of `streams` (1 h points) to draw in front of the live tail. */
  async function loadHistory(streams: string[]): Promise<void> {
    historyStreams = streams
    const seq = ++historySeq
    const t = now()
    if (!Number.isFinite(t) || streams.length === 0) return
    if (historyStatus.get().status === 'unavailable') return
    try {
      const r = await api.get<Record<string, unknown>>('/api/simulation/history', {
        start: new Date(t - WEEK_MS).toISOString(),
        end: 'now',
        streams: streams.join(','),
        interval: '1h',
      })
      if (seq !== historySeq) return
      const byStream = (r?.streams ?? {}) as Record<string, unknown>
      for (const s of streams) history.set(s, historyPoints(byStream[s]))
      for (const x of listOf(r, 'events')) {
        const e = readExternalEvent(x)
        if (e) external.set(e.id, e)
      }
      publishExternal()
      historyStatus.set({ status: 'ok', data: null })
      bump()
    } catch (err) {
      if (seq !== historySeq) return
      historyStatus.set(
        isUnavailable(err)
          ? { status: 'unavailable' }
          : { status: 'error', message: errorMessage(err) },
      )
    }
  }

  function refreshHistory(): Promise<void> {
    if (historyStatus.get().status === 'unavailable') return Promise.resolve()
    history.clear()
    return loadHistory(historyStreams)
  }

  // --------------------------------------------------------------------- live
  let live: VerisimClient | null = null
  let liveToken: string | null = null
  let flushTimer: ReturnType<typeof setTimeout> | null = null
  /** The stream epoch the live buffers hold events of (null before the first subscribe). */
  let liveEpoch: string | null = null
  /** Epochs this page's own restores and travels began (their reset needs no toast). */
  const ownEpochs = new Set<string>()
  /** A reset was seen: the snapshot of the new streams that follows begins the live tail. */
  let takeSnapshot = false

  /** The live tail (chart, anomaly markers, log) starts again: its events are of another line. */
  function clearLive() {
    series.clear()
    log.length = 0
    anomalies.length = 0
    bump()
  }

  /** A restore or a travel of this page's own: follows the new line at once (the reset may come before or after). */
  function switched(r: TimelineSwitch) {
    if (r.epoch !== null) ownEpochs.add(r.epoch)
    if (r.epoch === null || r.epoch !== liveEpoch) {
      clearLive()
      liveEpoch = r.epoch
    }
    // the new state's timeline makes applyState read the history, external events and lists again
    void loadState()
  }

  function bump() {
    if (flushTimer !== null) return
    flushTimer = setTimeout(() => {
      flushTimer = null
      liveTick.update((n) => n + 1)
    }, FLUSH_MS)
  }

  function ingest(events: StreamEvent[]) {
    let externalChanged = false
    for (const e of events) {
      if (e.channel === 'external') {
        const x = readExternalEvent(e)
        if (x) {
          external.set(x.id, x)
          externalChanged = true
        }
      } else {
        const ts = Date.parse(e.timestamp)
        series.add(e.stream, ts, e.normalizedValue)
        if (e.anomalyFlag === 'warning' || e.anomalyFlag === 'critical') {
          anomalies.push({
            t: ts / 1000,
            stream: e.stream,
            v: e.normalizedValue,
            flag: e.anomalyFlag,
          })
        }
      }
      log.push({ event: e })
    }
    received += events.length
    if (log.length > LOG_CAPACITY * 1.5) log.splice(0, log.length - LOG_CAPACITY)
    if (anomalies.length > ANOMALY_CAPACITY * 1.5)
      anomalies.splice(0, anomalies.length - ANOMALY_CAPACITY)
    if (externalChanged) publishExternal()
    bump()
  }

  function connectLive(token: string | null) {
    const previous = live
    liveToken = token
    const client = createClient({
      url: new URL('/ws', location.href).href,
      topics: ['*'],
      token: token ?? undefined,
      // Resume exactly where the previous connection stopped (a token change reconnects).
      lastId: previous?.lastId ?? null,
      reconnect: { initialMs: 500, maxMs: 10_000, jitter: 0.5 },
    })
    live = client
    if (previous) void previous.close()
    client.on('batch', (events) => {
      takeSnapshot = false // a snapshot only comes before the live events
      ingest(events)
    })
    client.on('state', (s, info) => {
      connection.set({ state: s, attempt: info.attempt, delayMs: info.delayMs, code: info.code })
      if (s === 'open') void loadState()
    })
    client.on('control', (payload) => applyState(payload))
    client.on('subscribed', (info) => {
      if (info.epoch !== null) liveEpoch = info.epoch
    })
    client.on('reset', (info) => {
      if (info.reason !== 'epoch_changed') {
        toast('info', 'The gateway could not replay what was missed; reloading history.')
        void refreshHistory()
        return
      }
      // A new stream epoch: a restore or a travel began a new timeline (here or
      // elsewhere), or Redis lost the streams. What the page holds of the old
      // streams need not be this line's past: the live tail starts again from the
      // new streams' recent events, and the state is read again (a new timeline
      // there reloads the rest; the same one means lost streams: reload the history).
      clearLive()
      liveEpoch = info.epoch
      takeSnapshot = true
      // this page's own switch: its answer already read the state again
      if (info.epoch !== null && ownEpochs.has(info.epoch)) return
      if (!isSwitching(busy.get()))
        toast(
          'info',
          'The streams began anew (a restore or a time travel, or Redis lost them): the chart and the log start again from there.',
        )
      const before = state.get()?.timeline?.id
      void loadState().then(() => {
        if (state.get()?.timeline?.id === before) void refreshHistory()
      })
    })
    client.on('snapshot', (events) => {
      if (!takeSnapshot) return
      takeSnapshot = false
      // per stream as the gateway picks them: the log wants them in order
      ingest([...events].sort((a, b) => compareIds(a.id, b.id)))
    })
  }

  // ----------------------------------------------------------------- actions
  async function run<T>(
    key: string,
    fn: () => Promise<T>,
    ok?: (r: T) => string | null,
  ): Promise<T | null> {
    if (busy.get().has(key)) return null
    busy.update((s) => new Set(s).add(key))
    try {
      const r = await fn()
      const msg = ok?.(r)
      if (msg) toast('success', msg)
      return r
    } catch (err) {
      const e = err as Error
      toast(
        'error',
        err instanceof ApiError && err.unavailable
          ? `${label(key)}: not available on this server`
          : e.message,
      )
      return null
    } finally {
      busy.update((s) => {
        const n = new Set(s)
        n.delete(key)
        return n
      })
    }
  }

  const control = {
    start: () =>
      run(
        'start',
        () => api.post('/api/simulation/start'),
        (r) => (applyState(r), 'Simulation started'),
      ),
    pause: () =>
      run(
        'pause',
        () => api.post('/api/simulation/pause'),
        (r) => (applyState(r), 'Simulation paused'),
      ),
    resume: () =>
      run(
        'resume',
        () => api.post('/api/simulation/resume'),
        (r) => (applyState(r), 'Simulation resumed'),
      ),
    speed: (multiplier: number) =>
      run(
        'speed',
        () => api.post('/api/simulation/speed', { multiplier }),
        (r) => (applyState(r), `Speed set to ${multiplier}×`),
      ),
    activate: (s: Scenario) =>
      run(
        `scenario:${s.id}`,
        () => api.post<Record<string, unknown>>('/api/simulation/scenario', { scenarioId: s.id }),
        (r) => {
          for (const x of listOf(r, 'events')) {
            const e = readExternalEvent(x)
            if (e) external.set(e.id, e)
          }
          publishExternal()
          void loadState()
          void loadExternal()
          const est =
            typeof r?.estimatedDuration === 'string'
              ? ` (about ${readableDuration(r.estimatedDuration)})`
              : ''
          return `Scenario “${s.name}” activated${est}`
        },
      ),
    stop: () =>
      run(
        'stop',
        () => api.post<Record<string, unknown>>('/api/simulation/stop'),
        (r) => {
          const until = typeof r?.settlingUntil === 'string' ? r.settlingUntil : null
          settlingUntil.set(until)
          void loadState()
          if (!until) return 'Scenario stopped; settling'
          const left = Date.parse(until) - now()
          return `Scenario stopped; settled by ${formatSimTime(Date.parse(until))} UTC${
            Number.isFinite(left) && left > 0
              ? ` (in ${formatDuration(left)} of simulation time)`
              : ''
          }`
        },
      ),
    reset: () =>
      run(
        'reset',
        () => api.post<Record<string, unknown>>('/api/simulation/reset'),
        (r) => {
          external.clear()
          anomalies.length = 0
          series.clear()
          settlingUntil.set(null)
          void loadState()
          void loadExternal()
          void refreshHistory()
          bump()
          return typeof r?.message === 'string' ? `Reset: ${r.message}` : 'Reset to baseline'
        },
      ),
    inject: (body: Record<string, unknown>) =>
      run(
        'inject',
        () => api.post<Record<string, unknown>>('/api/events/external', body),
        (r) => {
          const e = readExternalEvent(r?.event ?? r)
          if (e) external.set(e.id, e)
          publishExternal()
          void loadState()
          return `External event ${e ? `“${e.title}” ` : ''}injected`
        },
      ),
    /**
     * Stream modifier over WS `adjust_behavior` (no REST endpoint in the contract):
     * `{ stream, type, target?, value, duration? (ISO 8601), id? }`, answered with
     * `{ modifier, state }`. A server without it answers `…_NOT_SUPPORTED`: shown
     * as not available; its validation errors name the field.
     */
    modify: (payload: Record<string, unknown>) =>
      run(
        'modifier',
        async () => {
          if (!live) throw new Error('not connected')
          try {
            return await live.control('adjust_behavior', payload)
          } catch (err) {
            const code = (err as { code?: string }).code ?? ''
            if (code === 'VS_GW_UNAUTHORIZED') {
              const t = await api_askToken('this action needs the admin token')
              if (t) {
                tokenStore.set(t)
                connectLive(t)
                return await live.control('adjust_behavior', payload)
              }
            }
            if (/NOT_SUPPORTED$/.test(code)) throw new ApiError(501, code, 'stream modifiers', true)
            throw err
          }
        },
        (r) => {
          const res = (r ?? {}) as {
            state?: unknown
            modifier?: { id?: unknown; endsAt?: unknown }
          }
          applyState(res.state ?? r)
          const m = res.modifier
          const until =
            typeof m?.endsAt === 'string' ? ` until ${formatSimTime(Date.parse(m.endsAt))} UTC` : ''
          return `Stream modifier${typeof m?.id === 'string' ? ` ${m.id}` : ''} applied${until}`
        },
      ),
  }

  /**
   * Like {@link run}, but the caller shows the error (next to the form that
   * caused it); null when the same action is already in flight.
   */
  async function attempt<T>(key: string, fn: () => Promise<T>): Promise<Outcome<T> | null> {
    if (busy.get().has(key)) return null
    busy.update((s) => new Set(s).add(key))
    try {
      return { ok: true, value: await fn() }
    } catch (err) {
      return {
        ok: false,
        code: err instanceof ApiError ? err.code : 'VS_UI_ERROR',
        message:
          err instanceof ApiError && err.unavailable
            ? `${label(key)}: not available on this server`
            : errorMessage(err),
      }
    } finally {
      busy.update((s) => {
        const n = new Set(s)
        n.delete(key)
        return n
      })
    }
  }

  const at = (iso: string) => `${formatSimTime(Date.parse(iso))} UTC`

  /** Snapshots, restore and time travel (`/api/simulation/snapshot(s)`, `restore/:id`, `travel`). */
  const timeTravel = {
    /** Saves the engine now under `name`. */
    snapshot: (name: string, description: string) =>
      run(
        'snapshot',
        () =>
          api.post<unknown>('/api/simulation/snapshot', {
            name,
            ...(description ? { description } : {}),
          }),
        (r) => {
          void loadSnapshots()
          const s = readSnapshot(r)
          return `Snapshot “${s?.name ?? name}” saved${s ? ` at ${at(s.simulatedTime)}` : ''}`
        },
      ),
    remove: (s: Pick<Snapshot, 'id' | 'name'>) =>
      run(
        `snapshot-delete:${s.id}`,
        () => api.delete<unknown>(`/api/simulation/snapshots/${encodeURIComponent(s.id)}`),
        () => {
          void loadSnapshots()
          return `Snapshot “${s.name}” deleted`
        },
      ),
    /**
     * Continues the run from a saved snapshot as a new timeline; `what` names it
     * in the toast (`snapshot “before lunch”`, `timeline 2 where it was left`).
     */
    restore: (id: string, what: string) =>
      run(
        `restore:${id}`,
        () => api.post<unknown>(`/api/simulation/restore/${encodeURIComponent(id)}`),
        (r) => {
          const sw = readSwitch(r)
          if (!sw) {
            void loadState()
            return `Restored ${what}`
          }
          switched(sw)
          return `Restored ${what}: timeline ${sw.timeline.number} continues from ${at(sw.currentSimulationTime)}`
        },
      ),
    /** Takes the run to `targetMs` as a new timeline, paused there. */
    travel: async (targetMs: number): Promise<Outcome<TimelineSwitch | null> | null> => {
      const r = await attempt('travel', () =>
        api.post<unknown>('/api/simulation/travel', {
          targetTime: new Date(targetMs).toISOString(),
        }),
      )
      if (!r?.ok) return r
      const sw = readSwitch(r.value)
      if (sw) {
        switched(sw)
        toast(
          'success',
          `Travelled to ${at(sw.currentSimulationTime)}: timeline ${sw.timeline.number}, ${
            sw.paused ? 'paused there. Resume continues from that moment.' : 'running.'
          }`,
        )
      } else void loadState()
      return { ok: true, value: sw }
    },
    /** The state and the events at `targetMs` (`dryRun`): nothing switches. */
    preview: async (targetMs: number): Promise<Outcome<TravelPreview> | null> => {
      const r = await attempt('preview', () =>
        api.post<unknown>('/api/simulation/travel', {
          targetTime: new Date(targetMs).toISOString(),
          dryRun: true,
        }),
      )
      if (!r?.ok) return r
      const p = readPreview(r.value)
      return p
        ? { ok: true, value: p }
        : { ok: false, code: 'VS_UI_BAD_ANSWER', message: 'the preview answer has no targetTime' }
    },
  }

  // ------------------------------------------------------------------ archive
  let journeySeq = 0

  /** Reads a page of the dialog's journey; an answer for another entity or filter is dropped. */
  async function readJourney(v: JourneyView, cursor: string | null): Promise<void> {
    const seq = ++journeySeq
    const appended = cursor !== null
    try {
      const page = await getJourney(api, v.entityId, { types: v.types, cursor })
      if (seq === journeySeq) journey.update((cur) => cur && journeyLoaded(cur, page, appended))
    } catch (err) {
      if (seq === journeySeq)
        journey.update((cur) => cur && journeyFailed(cur, archiveFailure(err), appended))
    }
  }

  /** The journey dialog: an entity's events, milestones and context from the archive. */
  const journeys = {
    /** Opens the dialog on `entityId`; from the dialog itself, Back returns to the one shown. */
    open: (entityId: string, fromDialog = false) => {
      const cur = journey.get()
      const trail = fromDialog && cur ? [...cur.trail, cur.entityId] : []
      const v = journeyOpened(entityId, trail)
      journey.set(v)
      return readJourney(v, null)
    },
    /** The entity the dialog showed before this one. */
    back: () => {
      const cur = journey.get()
      const prev = cur?.trail.at(-1)
      if (!cur || prev === undefined) return Promise.resolve()
      const v = journeyOpened(prev, cur.trail.slice(0, -1))
      journey.set(v)
      return readJourney(v, null)
    },
    close: () => {
      journeySeq++
      journey.set(null)
    },
    /** Only these streams (empty: every one), from the first page again. */
    filter: (types: string[]) => {
      const cur = journey.get()
      if (!cur) return Promise.resolve()
      const v = journeyFiltered(cur, types)
      journey.set(v)
      return readJourney(v, null)
    },
    /** The next page (after the loaded ones); the same again after a failure (Retry). */
    more: () => {
      const cur = journey.get()
      if (!cur?.journey?.nextCursor || cur.more) return Promise.resolve()
      const v = journeyMore(cur)
      journey.set(v)
      return readJourney(v, cur.journey.nextCursor)
    },
    /** The first page again (Retry). */
    reload: () => {
      const cur = journey.get()
      if (!cur) return Promise.resolve()
      const v = journeyFiltered(cur, cur.types)
      journey.set(v)
      return readJourney(v, null)
    },
  }

  let replayFollow: { stop(): void } | null = null

  /** Shows `s` and reads it every second while it runs. */
  function followReplayStatus(s: ReplayStatus) {
    replayFollow?.stop()
    replay.set({ status: s, pollError: null, lost: false })
    replayFollow = followReplay(api, s, (v) => {
      if (replay.get()?.status.id === v.status.id) replay.set(v)
    })
  }

  /** Replays of an archived range on a topic of their own (`/api/streams/replay`). */
  const replays = {
    /** Starts one: its status or the refusal (an archive that is off, a bad range) for the form. */
    start: async (body: ReplayRequest): Promise<Outcome<ReplayStatus> | null> => {
      const r = await attempt('replay', () => startReplay(api, body))
      if (r?.ok) {
        followReplayStatus(r.value)
        toast('success', `Replay started: subscribe to ${r.value.topic}`)
      }
      return r
    },
    /** Cancels the one followed; its status as the gateway answers. */
    cancel: async (): Promise<Outcome<ReplayStatus | null> | null> => {
      const cur = replay.get()
      if (!cur) return null
      const id = cur.status.id
      const r = await attempt('replay-cancel', () => cancelReplay(api, id))
      if (r?.ok && replay.get()?.status.id === id) {
        // its status as answered (followed on if the gateway is still stopping it);
        // an answer without one: the next read shows the end
        if (r.value) followReplayStatus(r.value)
      }
      return r
    },
  }

  function api_askToken(message: string): Promise<string | null> {
    return new Promise((resolve) => tokenPrompt.set({ message, resolve }))
  }

  async function loadCorrelations(query: {
    event?: string
    stream?: string
  }): Promise<Loadable<unknown>> {
    try {
      return { status: 'ok', data: await api.get('/api/correlations', query) }
    } catch (err) {
      return isUnavailable(err)
        ? { status: 'unavailable' }
        : { status: 'error', message: errorMessage(err) }
    }
  }

  async function loadStatistics(streams: string[]): Promise<Loadable<unknown>> {
    try {
      return {
        status: 'ok',
        data: await api.get('/api/simulation/statistics', { streams: streams.join(',') }),
      }
    } catch (err) {
      return isUnavailable(err)
        ? { status: 'unavailable' }
        : { status: 'error', message: errorMessage(err) }
    }
  }

  // -------------------------------------------------------------------- start
  const timers: ReturnType<typeof setInterval>[] = []
  function start() {
    connectLive(tokenStore.get())
    void loadCatalog()
    void loadState().then(() => {
      void loadExternal()
      // after the first state: the lists go through the generator, the state need not wait for them
      void loadTimeTravel()
    })
    void loadScenarios()
    void loadTemplates()
    void loadWorld()
    timers.push(setInterval(() => void loadState(), STATE_POLL_MS))
    timers.push(setInterval(() => void loadExternal(), EXTERNAL_POLL_MS))
    timers.push(
      setInterval(() => {
        if (snapshots.get().status !== 'unavailable') void loadTimeTravel()
      }, TIME_TRAVEL_POLL_MS),
    )
    let lastCount = 0
    let lastAt = Date.now()
    timers.push(
      setInterval(() => {
        const t = Date.now()
        eventsPerSecond.set(Math.round(((received - lastCount) * 1000) / Math.max(1, t - lastAt)))
        lastCount = received
        lastAt = t
      }, 1000),
    )
  }

  return {
    // signals
    catalog,
    state,
    stateError,
    clock,
    connection,
    scenarios,
    externalEvents,
    templates,
    historyStatus,
    world,
    toasts,
    tokenPrompt,
    liveTick,
    busy,
    settlingUntil,
    eventsPerSecond,
    snapshots,
    timelines,
    journey,
    replay,
    // buffers (read on liveTick)
    series,
    history,
    log,
    anomalies,
    // reads and actions
    now,
    start,
    toast,
    dismiss,
    answerToken,
    loadHistory,
    loadScenarios,
    loadExternal,
    loadCorrelations,
    loadStatistics,
    loadWorld,
    loadTimeTravel,
    worldAction,
    control,
    timeTravel,
    journeys,
    replays,
    /** The live client (for its lastId and stats). */
    live: () => live,
  }
}

const LABELS: Record<string, string> = {
  start: 'Start',
  pause: 'Pause',
  resume: 'Resume',
  speed: 'Speed',
  stop: 'Stop',
  reset: 'Reset',
  inject: 'External event injection',
  modifier: 'Stream modifiers',
  snapshot: 'Snapshots',
  travel: 'Time travel',
  preview: 'Time travel',
  replay: 'Replay',
  'replay-cancel': 'Replay',
}
function label(key: string): string {
  if (key.startsWith('scenario:')) return 'Scenarios'
  if (key.startsWith('restore:')) return 'Restore'
  if (key.startsWith('snapshot-delete:')) return 'Snapshots'
  return LABELS[key] ?? key
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms))
}

export type { Signal }
