/**
 * Snapshots, restore and time travel as the page reads them (`/api/simulation/
 * snapshot(s)`, `restore/:id`, `travel`, `timelines`): defensive readers of the
 * answers, and the small decisions the "Time travel" panel and the header make
 * from them (labels, sizes, the UTC time field, a preview's figures, which
 * timeline comes next). Times stay ISO strings as the server sent them; epoch
 * ms where the page computes with them.
 */
import type { StreamEvent } from '@verisim/client'
import { parseSpan } from './format.js'

type Obj = Record<string, unknown>
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null)
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)
const time = (x: unknown): string | null => {
  const s = str(x)
  return s !== null && Number.isFinite(Date.parse(s)) ? s : null
}

/** Why a snapshot was saved: the run's start, asked for, or where a timeline was left. */
export type SnapshotKind = 'origin' | 'manual' | 'branch'

export interface Snapshot {
  /** `snap_<n>`. */
  id: string
  name: string
  description: string
  kind: SnapshotKind
  /** Simulation time it holds (ISO). */
  simulatedTime: string
  /** Wall time it was taken (ISO), when said. */
  createdAt: string | null
  sizeBytes: number | null
  /** The timeline it was taken on (`tl_<n>`). */
  timeline: string | null
  /** Commands of the run it holds. */
  commands: number | null
}

/** The current timeline as the state and the snapshot list report it. */
export interface TimelineInfo {
  /** `tl_<n>`. */
  id: string
  number: number
  parent: string | null
  reason: 'start' | 'restore' | 'travel'
  /** Simulation time it began at (ISO). */
  forkedAt: string
}

export interface SnapshotList {
  /** Oldest first, as the server lists them. */
  snapshots: Snapshot[]
  /** Saved snapshots kept at most (`VERISIM_SNAPSHOTS_MAX`). */
  maxSaved: number | null
  /** The automatic snapshots travel starts from (in the generator's memory). */
  automatic: { everyHours: number; count: number; sizeBytes: number; storage: string } | null
  timeline: TimelineInfo | null
}

export interface TimelineCommand {
  action: string
  /** Simulation time it took effect (ISO). */
  simulatedTime: string
  detail: Obj
}

export interface Timeline extends TimelineInfo {
  /** Wall time it began (ISO). */
  createdAt: string | null
  /** The snapshot restored to begin it (reason `restore`). */
  restoredFrom: string | null
  /** Simulation time it had reached when it was left (ISO); null for the current one. */
  leftAt: string | null
  /** The snapshot saved where it was left: restoring it goes back to this line. */
  returnSnapshot: string | null
  commands: TimelineCommand[]
}

export interface TimelineList {
  /** The current timeline's id. */
  current: string | null
  /** The current one first, then the ones left, newest first. */
  timelines: Timeline[]
}

/** A restore's or a travel's answer. */
export interface TimelineSwitch {
  timeline: TimelineInfo
  left: { id: string; leftAt: string | null; returnSnapshot: string | null } | null
  /** The streams' new epoch. */
  epoch: string | null
  currentSimulationTime: string
  paused: boolean
  /** Simulation time of the snapshot it started from, and the commands replayed after it. */
  from: string | null
  replayed: number | null
  tookMs: number | null
}

/** An event of a preview (no id: it was computed, not stored). */
export type PreviewEvent = Pick<
  StreamEvent,
  'timestamp' | 'stream' | 'channel' | 'normalizedValue' | 'anomalyFlag'
> & { data: unknown }

export interface AnomalousStream {
  stream: string
  flag: 'warning' | 'critical'
  z: number | null
}

/** A travel's dry run: the state at the target and the events around it. */
export interface TravelPreview {
  targetTime: string
  from: string | null
  replayed: number | null
  tookMs: number | null
  /** The world's stats at the target (`stats` of the state: tutoring's `entities` …). */
  stats: Obj | null
  scenario: { name: string; status: string } | null
  activeModifiers: number
  activeEvents: number
  anomalousStreams: AnomalousStream[]
  /** The events before the target (oldest first) and after it, within `windowMs` either side. */
  before: PreviewEvent[]
  after: PreviewEvent[]
  windowMs: number | null
}

const KINDS: readonly SnapshotKind[] = ['origin', 'manual', 'branch']
const REASONS: readonly TimelineInfo['reason'][] = ['start', 'restore', 'travel']

export function readSnapshot(x: unknown): Snapshot | null {
  if (!isObj(x)) return null
  const id = str(x.id)
  const simulatedTime = time(x.simulatedTime)
  if (!id || !simulatedTime) return null
  return {
    id,
    name: str(x.name) ?? id,
    description: str(x.description) ?? '',
    kind: KINDS.includes(x.kind as SnapshotKind) ? (x.kind as SnapshotKind) : 'manual',
    simulatedTime,
    createdAt: time(x.createdAt),
    sizeBytes: num(x.sizeBytes),
    timeline: str(x.timeline),
    commands: num(x.commands),
  }
}

export function readTimelineInfo(x: unknown): TimelineInfo | null {
  if (!isObj(x)) return null
  const id = str(x.id)
  const forkedAt = time(x.forkedAt)
  if (!id || !forkedAt) return null
  const fromId = /^tl_(\d+)$/.exec(id)
  return {
    id,
    number: num(x.number) ?? (fromId ? Number(fromId[1]) : 0),
    parent: str(x.parent),
    reason: REASONS.includes(x.reason as TimelineInfo['reason'])
      ? (x.reason as TimelineInfo['reason'])
      : 'start',
    forkedAt,
  }
}

export function readSnapshotList(x: unknown): SnapshotList {
  const o = isObj(x) ? x : {}
  const a = isObj(o.automatic) ? o.automatic : null
  return {
    snapshots: (Array.isArray(o.snapshots) ? o.snapshots : [])
      .map(readSnapshot)
      .filter((s): s is Snapshot => s !== null),
    maxSaved: num(o.maxSaved),
    automatic: a
      ? {
          everyHours: num(a.everyHours) ?? 0,
          count: num(a.count) ?? 0,
          sizeBytes: num(a.sizeBytes) ?? 0,
          storage: str(a.storage) ?? 'generator memory',
        }
      : null,
    timeline: readTimelineInfo(o.timeline),
  }
}

function readCommand(x: unknown): TimelineCommand | null {
  if (!isObj(x)) return null
  const action = str(x.action)
  const simulatedTime = time(x.simulatedTime)
  if (!action || !simulatedTime) return null
  return { action, simulatedTime, detail: isObj(x.detail) ? x.detail : {} }
}

export function readTimeline(x: unknown): Timeline | null {
  const info = readTimelineInfo(x)
  if (!info || !isObj(x)) return null
  return {
    ...info,
    createdAt: time(x.createdAt),
    restoredFrom: str(x.restoredFrom),
    leftAt: time(x.leftAt),
    returnSnapshot: str(x.returnSnapshot),
    commands: (Array.isArray(x.commands) ? x.commands : [])
      .map(readCommand)
      .filter((c): c is TimelineCommand => c !== null),
  }
}

export function readTimelines(x: unknown): TimelineList {
  const o = isObj(x) ? x : {}
  return {
    current: str(o.current),
    timelines: (Array.isArray(o.timelines) ? o.timelines : [])
      .map(readTimeline)
      .filter((t): t is Timeline => t !== null),
  }
}

export function readSwitch(x: unknown): TimelineSwitch | null {
  if (!isObj(x)) return null
  const timeline = readTimelineInfo(x.timeline)
  const at = time(x.currentSimulationTime)
  if (!timeline || !at) return null
  const left = isObj(x.left) ? x.left : null
  return {
    timeline,
    left:
      left && str(left.id)
        ? {
            id: str(left.id) as string,
            leftAt: time(left.leftAt),
            returnSnapshot: str(left.returnSnapshot),
          }
        : null,
    epoch: str(x.epoch),
    currentSimulationTime: at,
    paused: x.paused === true,
    from: time(x.from),
    replayed: num(x.replayed),
    tookMs: num(x.tookMs),
  }
}

function readPreviewEvent(x: unknown): PreviewEvent | null {
  if (!isObj(x)) return null
  const timestamp = time(x.timestamp)
  const stream = str(x.stream)
  if (!timestamp || !stream) return null
  const flag = x.anomalyFlag
  return {
    timestamp,
    stream,
    channel: str(x.channel) ?? '',
    data: x.data,
    normalizedValue: num(x.normalizedValue) ?? 50,
    anomalyFlag: flag === 'warning' || flag === 'critical' ? flag : 'normal',
  }
}

export function readPreview(x: unknown): TravelPreview | null {
  if (!isObj(x)) return null
  const targetTime = time(x.targetTime)
  if (!targetTime) return null
  const s = isObj(x.state) ? x.state : {}
  const e = isObj(x.events) ? x.events : {}
  const events = (list: unknown) =>
    (Array.isArray(list) ? list : [])
      .map(readPreviewEvent)
      .filter((v): v is PreviewEvent => v !== null)
  const scenario = isObj(s.scenario) ? s.scenario : null
  return {
    targetTime,
    from: time(x.from),
    replayed: num(x.replayed),
    tookMs: num(x.tookMs),
    stats: isObj(s.stats) ? s.stats : null,
    scenario: scenario
      ? {
          name: str(scenario.name) ?? str(scenario.id) ?? 'scenario',
          status: str(scenario.status) ?? 'active',
        }
      : null,
    activeModifiers: Array.isArray(s.activeModifiers) ? s.activeModifiers.length : 0,
    activeEvents: Array.isArray(s.activeEvents) ? s.activeEvents.length : 0,
    anomalousStreams: (Array.isArray(s.anomalousStreams) ? s.anomalousStreams : []).flatMap(
      (a): AnomalousStream[] =>
        isObj(a) && str(a.stream) && (a.flag === 'warning' || a.flag === 'critical')
          ? [{ stream: a.stream as string, flag: a.flag, z: num(a.z) }]
          : [],
    ),
    before: events(e.before),
    after: events(e.after),
    windowMs: num(x.windowMs),
  }
}

/**
 * A restore or a travel is in flight (its busy key: `travel`, `restore:<id>`):
 * no second switch meanwhile.
 */
export function isSwitching(busy: ReadonlySet<string>): boolean {
  for (const k of busy) if (k === 'travel' || k.startsWith('restore:')) return true
  return false
}

/** The header's words for a timeline: `timeline 1`, `timeline 3 · travel`, `timeline 4 · restore`. */
export function timelineLabel(t: Pick<TimelineInfo, 'number' | 'reason'>): string {
  return t.reason === 'start' ? `timeline ${t.number}` : `timeline ${t.number} · ${t.reason}`
}

/** What the snapshot list calls each kind. */
export const KIND_LABEL: Record<SnapshotKind, string> = {
  origin: 'run start',
  manual: 'saved',
  branch: 'timeline left',
}

/** The number the next restore or travel gives its timeline (the generator counts every timeline of the run). */
export function nextTimelineNumber(
  list: TimelineList | null,
  current: Pick<TimelineInfo, 'number'> | null,
): number {
  const numbers = [current?.number ?? 0, ...(list?.timelines ?? []).map((t) => t.number)]
  return Math.max(...numbers) + 1
}

/** `512 B`, `829 KB`, `2.7 MB` (powers of 1024, as sizes of stored bytes). */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n) || n < 0) return '—'
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${units[u]}`
}

const pad = (n: number) => String(n).padStart(2, '0')

/**
 * A time typed as UTC → epoch ms; null when it is not one. Accepts the page's
 * own `2026-11-23 10:15[:07[.250]]` (copied from the log or the header), the
 * same with a `T`, and an ISO time with `Z` or an offset.
 */
export function parseUtcInput(text: string): number | null {
  const t = text.trim()
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      t,
    )
  if (!m) return null
  const [, y, mo, d, h, mi, s = '0', frac = '0', zone] = m
  if (zone) {
    const ms = Date.parse(t.replace(' ', 'T'))
    return Number.isFinite(ms) ? ms : null
  }
  const ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Number(frac.padEnd(3, '0')),
  )
  // Date.UTC rolls over (Feb 30 → Mar 2): a day or an hour that does not exist is no time.
  const back = new Date(ms)
  if (
    back.getUTCDate() !== Number(d) ||
    back.getUTCMonth() !== Number(mo) - 1 ||
    back.getUTCHours() !== Number(h) ||
    back.getUTCMinutes() !== Number(mi) ||
    back.getUTCSeconds() !== Number(s)
  )
    return null
  return ms
}

/**
 * The travel field's time: a UTC time ({@link parseUtcInput}) or a span from
 * the simulation time `now` (`-2h`, `+30m`, `-1d 6h`); null when neither.
 */
export function resolveTarget(text: string, now: number): number | null {
  const at = parseUtcInput(text)
  if (at !== null) return at
  const span = parseSpan(text)
  return span !== null && Number.isFinite(now) ? now + span : null
}

/** How far past the current simulation time a travel may go (the generator's limit). */
export const TRAVEL_MAX_AHEAD_MS = 30 * 86_400_000

/** The window a travel may reach, for the field's hint: the run's start to 30 simulated days past now. */
export function travelWindow(
  startedAt: string | undefined,
  now: number,
): { from: number | null; to: number | null } {
  const from = startedAt ? Date.parse(startedAt) : Number.NaN
  return {
    from: Number.isFinite(from) ? from : null,
    to: Number.isFinite(now) ? now + TRAVEL_MAX_AHEAD_MS : null,
  }
}

/** One figure of a preview, next to the same figure now. */
export interface Figure {
  key: string
  value: number
  now: number | null
}

const FIGURES_PREFERRED = ['students', 'tutors']

/**
 * The head-count figures of a world's stats (`entities` when it has them):
 * `students` and `tutors` where present, else its first four numbers; each
 * with the same figure of `current` (the state now) to compare.
 */
export function previewFigures(stats: Obj | null, current: unknown): Figure[] {
  const numbers = (s: unknown): Obj => {
    if (!isObj(s)) return {}
    return isObj(s.entities) ? s.entities : s
  }
  const at = numbers(stats)
  const nowAt = numbers(current)
  const keys = Object.keys(at).filter((k) => num(at[k]) !== null)
  const preferred = FIGURES_PREFERRED.filter((k) => keys.includes(k))
  return (preferred.length > 0 ? preferred : keys.slice(0, 4)).map((key) => ({
    key,
    value: at[key] as number,
    now: num(nowAt[key]),
  }))
}

/**
 * A few events around a preview's target: the last `n` before it and the first
 * `n` after it.
 */
export function eventsAround(
  p: Pick<TravelPreview, 'before' | 'after'>,
  n = 3,
): { before: PreviewEvent[]; after: PreviewEvent[] } {
  return { before: p.before.slice(-n), after: p.after.slice(0, n) }
}

/**
 * A wall time (when a snapshot was saved) in UTC, short: `17:35:51` on the day
 * of `now`, else `12-05 17:35`.
 */
export function formatWall(ms: number, now: number): string {
  if (!Number.isFinite(ms)) return '—'
  const d = new Date(ms)
  const day = (x: Date) => `${x.getUTCFullYear()}-${x.getUTCMonth()}-${x.getUTCDate()}`
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  return day(d) === day(new Date(now))
    ? `${hm}:${pad(d.getUTCSeconds())}`
    : `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}`
}
