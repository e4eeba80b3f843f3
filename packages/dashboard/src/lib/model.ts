/**
 * What the page reads from the gateway, read defensively: the contract fixes
 * paths and the main field names, the scenario and history issues fill in the
 * rest, so every reader here accepts the seed's names and a few obvious
 * alternatives, and never throws on a missing field.
 */
import type { StreamEvent } from '@verisim/client'
import type { ActiveModifier, SimulationState } from '@verisim/schema'
import { readTimelineInfo, type TimelineInfo } from './time-travel.js'

export type { StreamEvent }

export interface StreamInfo {
  name: string
  domain: string
  channel: string
  cadence: 'high' | 'medium' | 'low'
  unit: string
  description: string
}

export type Severity = 'info' | 'warning' | 'critical'
export type Flag = 'normal' | 'warning' | 'critical'

export interface SimState {
  world: string
  seed: number
  speed: number
  /** The speed actually kept (absent from generators that predate it). */
  effectiveSpeed?: SimulationState['effectiveSpeed']
  running: boolean
  paused: boolean
  startedAt?: string
  currentSimulationTime: string
  epoch?: string | null
  lastId?: string | null
  eventsGenerated?: number
  /** The running scenario as the generator reports it (its schema's type), `null` at baseline. */
  scenario?: SimulationState['scenario']
  /** The state's `activeModifiers` as the server sends them (the schema's type). */
  modifiers: ActiveModifier[]
  /** The same, read into the page's rows (name, streams, remaining). */
  activeModifiers: Modifier[]
  activeEvents: ExternalEvent[]
  recentAnomalies: Anomaly[]
  historicalMode?: string
  updatedAt?: string
  /** The timeline the run is on; null from a generator without time travel. */
  timeline: TimelineInfo | null
  [k: string]: unknown
}

export interface Modifier {
  id: string
  name: string
  scenarioId: string | null
  status: 'active' | 'settling' | 'settled' | string
  startTime: string | null
  /** Simulation time it ends (active) or is settled (settling), when known. */
  endsAt: string | null
  /** As the server states it ("5h 20m", or ms), when it does. */
  timeRemaining: string | number | null
  streams: string[]
  description: string
  raw: Record<string, unknown>
}

export interface ExpectedImpact {
  streams: string[]
  direction?: string
  magnitude?: string
  duration?: string
  delay?: string
}

export interface ExternalEvent {
  id: string
  timestamp: string
  type: string
  title: string
  description: string
  severity: Severity
  expectedImpact: ExpectedImpact | null
  actualImpact: unknown
  redHerring: boolean | null
  templateId: string | null
  raw: Record<string, unknown>
}

export interface Anomaly {
  id?: string
  stream: string
  timestamp: string
  normalizedValue: number
  anomalyFlag: Flag
}

/** A template of the world's external-event library (`GET /api/events/templates`). */
export interface EventTemplate {
  id: string
  category: string
  title: string
  description: string
  severity: Severity
  icon: string
  redHerring: boolean
  /** When such events typically happen, in words ('' when not said). */
  timing: string
  expectedImpact: ExpectedImpact | null
}

export interface Scenario {
  id: string
  name: string
  description: string
  duration: string
}

type Obj = Record<string, unknown>
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null)
const strs = (x: unknown): string[] =>
  Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []

/** The first array found at one of `keys` (or `x` itself when it is an array). */
export function listOf(x: unknown, ...keys: string[]): unknown[] {
  if (Array.isArray(x)) return x
  if (!isObj(x)) return []
  for (const k of keys) if (Array.isArray(x[k])) return x[k] as unknown[]
  return []
}

export function readSeverity(x: unknown): Severity {
  return x === 'critical' || x === 'warning' ? x : 'info'
}

export function readImpact(x: unknown): ExpectedImpact | null {
  if (!isObj(x)) return null
  return {
    streams: strs(x.streams),
    direction: str(x.direction) ?? undefined,
    magnitude:
      str(x.magnitude) ?? (typeof x.magnitude === 'number' ? String(x.magnitude) : undefined),
    duration: str(x.duration) ?? undefined,
    delay: str(x.delay) ?? undefined,
  }
}

export function readExternalEvent(x: unknown): ExternalEvent | null {
  if (!isObj(x)) return null
  // A live envelope on the `external` channel carries the event in `data`.
  const inner =
    isObj(x.data) && (x.channel === 'external' || x.data.title !== undefined) ? x.data : x
  const id = str(inner.id) ?? str(inner.eventId) ?? str(x.id)
  const timestamp = str(inner.timestamp) ?? str(inner.startTime) ?? str(x.timestamp)
  if (!id || !timestamp || Number.isNaN(Date.parse(timestamp))) return null
  return {
    id,
    timestamp,
    type: str(inner.type) ?? str(inner.category) ?? 'event',
    title: str(inner.title) ?? str(inner.name) ?? id,
    description: str(inner.description) ?? '',
    severity: readSeverity(inner.severity),
    expectedImpact: readImpact(inner.expectedImpact),
    actualImpact: inner.actualImpact ?? inner.actual ?? null,
    redHerring:
      typeof inner.redHerring === 'boolean'
        ? inner.redHerring
        : typeof inner.isRedHerring === 'boolean'
          ? inner.isRedHerring
          : null,
    templateId: str(inner.templateId) ?? str(inner.template) ?? null,
    raw: inner,
  }
}

export function readModifier(x: unknown, index: number): Modifier | null {
  if (!isObj(x)) return null
  const affected = isObj(x.affectedStreams)
    ? Object.keys(x.affectedStreams)
    : strs(x.affectedStreams)
  // The server's ActiveModifier: `source` (`scenario:<id>` …), one `stream`, `remainingMs`.
  const source = str(x.source)
  const fromScenario = source?.startsWith('scenario:') ? source.slice('scenario:'.length) : null
  const tr = x.remainingMs ?? x.timeRemaining ?? x.remaining ?? null
  const one = str(x.stream)
  return {
    id: str(x.id) ?? `modifier-${index}`,
    name:
      str(x.name) ??
      str(x.scenarioName) ??
      str(x.scenarioId) ??
      fromScenario ??
      source ??
      str(x.description) ??
      str(x.id) ??
      'modifier',
    scenarioId: str(x.scenarioId) ?? str(x.scenario) ?? fromScenario,
    status: str(x.status) ?? 'active',
    startTime: str(x.startTime) ?? str(x.startedAt) ?? null,
    endsAt:
      (x.status === 'active' ? (str(x.activeUntil) ?? str(x.endsAt) ?? str(x.endTime)) : null) ??
      str(x.settlingUntil) ??
      str(x.settledBy) ??
      str(x.settledAt) ??
      str(x.endsAt) ??
      str(x.endTime) ??
      str(x.expectedEnd) ??
      null,
    timeRemaining: typeof tr === 'string' || typeof tr === 'number' ? tr : null,
    streams: affected.length > 0 ? affected : one ? [one] : strs(x.streams),
    description: str(x.description) ?? '',
    raw: x,
  }
}

export function readAnomaly(x: unknown): Anomaly | null {
  if (!isObj(x)) return null
  const stream = str(x.stream)
  const timestamp = str(x.timestamp)
  const flag = x.anomalyFlag
  if (!stream || !timestamp || (flag !== 'warning' && flag !== 'critical')) return null
  return {
    id: str(x.id) ?? undefined,
    stream,
    timestamp,
    normalizedValue: typeof x.normalizedValue === 'number' ? x.normalizedValue : 50,
    anomalyFlag: flag,
  }
}

export function readState(x: unknown): SimState | null {
  if (!isObj(x) || typeof x.currentSimulationTime !== 'string') return null
  return {
    ...x,
    world: str(x.world) ?? '?',
    seed: typeof x.seed === 'number' ? x.seed : 0,
    speed: typeof x.speed === 'number' ? x.speed : 1,
    effectiveSpeed: typeof x.effectiveSpeed === 'number' ? x.effectiveSpeed : undefined,
    running: x.running === true,
    paused: x.paused === true,
    currentSimulationTime: x.currentSimulationTime,
    modifiers: listOf(x.activeModifiers).filter(
      (m): m is ActiveModifier =>
        isObj(m) && typeof m.source === 'string' && typeof m.stream === 'string',
    ),
    activeModifiers: listOf(x.activeModifiers)
      .map(readModifier)
      .filter((m): m is Modifier => m !== null),
    activeEvents: listOf(x.activeEvents)
      .map(readExternalEvent)
      .filter((e): e is ExternalEvent => e !== null),
    recentAnomalies: listOf(x.recentAnomalies)
      .map(readAnomaly)
      .filter((a): a is Anomaly => a !== null),
    timeline: readTimelineInfo(x.timeline),
  } as SimState
}

/** The state's `history`: the version served and the regeneration job, if any. */
export interface HistoryStatus {
  mode: 'baseline' | 'modified'
  version: number
  job: { version: number; state: string; progress: number; error?: string } | null
}

export function readHistoryStatus(s: SimState | null): HistoryStatus | null {
  if (!s || !isObj(s.history)) return null
  const h = s.history
  const j = isObj(h.job) ? h.job : null
  return {
    mode: s.historicalMode === 'modified' ? 'modified' : 'baseline',
    version: typeof h.version === 'number' ? h.version : 0,
    job:
      j && typeof j.version === 'number' && typeof j.state === 'string'
        ? {
            version: j.version,
            state: j.state,
            progress: typeof j.progress === 'number' ? j.progress : 0,
            ...(typeof j.error === 'string' ? { error: j.error } : {}),
          }
        : null,
  }
}

/** One line on what the history shows and what its regeneration job is doing. */
export function describeHistory(h: HistoryStatus | null): string {
  if (!h) return ''
  const served = h.mode === 'modified' ? `modified history, version ${h.version}` : 'baseline'
  const j = h.job
  if (j && (j.state === 'queued' || j.state === 'running'))
    return `${served}; regenerating version ${j.version}: ${Math.round(j.progress)} %`
  if (j && j.state === 'failed')
    return `${served}; regenerating version ${j.version} failed${j.error ? `: ${j.error}` : ''}`
  return served
}

export function readScenario(x: unknown): Scenario | null {
  if (!isObj(x)) return null
  const id = str(x.id) ?? str(x.scenarioId)
  if (!id) return null
  const d = x.duration ?? x.estimatedDuration
  return {
    id,
    name: str(x.name) ?? id,
    description: str(x.description) ?? '',
    duration: typeof d === 'string' ? d : typeof d === 'number' ? `${d}` : '',
  }
}

export function readTemplate(x: unknown): EventTemplate | null {
  if (!isObj(x)) return null
  const id = str(x.id) ?? str(x.templateId)
  if (!id) return null
  return {
    id,
    category: str(x.category) ?? 'other',
    title: str(x.title) ?? id,
    description: str(x.description) ?? '',
    severity: readSeverity(x.severity),
    icon: str(x.icon) ?? '',
    redHerring: x.redHerring === true,
    timing: str(x.timing) ?? '',
    expectedImpact: readImpact(x.expectedImpact),
  }
}

/** Templates by category, categories and templates in library order (for `<optgroup>`s). */
export function groupTemplates(
  list: readonly EventTemplate[],
): { category: string; templates: EventTemplate[] }[] {
  const groups = new Map<string, EventTemplate[]>()
  for (const t of list) {
    const g = groups.get(t.category)
    if (g) g.push(t)
    else groups.set(t.category, [t])
  }
  return [...groups].map(([category, templates]) => ({ category, templates }))
}

/** What a template's option says: icon, title, and whether it is a red herring. */
export function templateLabel(t: EventTemplate): string {
  return `${t.icon ? `${t.icon} ` : ''}${t.title}${t.redHerring ? ' (red herring)' : ''}`
}

/**
 * Running (a scenario active) / Settling / Baseline: from the scenario's own
 * status when the server reports it, else from the modifiers' statuses.
 */
export function systemStatus(state: SimState | null): 'Running' | 'Settling' | 'Baseline' {
  const scenario = state?.scenario
  if (scenario !== undefined) {
    if (scenario?.status === 'active') return 'Running'
    if (scenario?.status === 'settling') return 'Settling'
    return 'Baseline'
  }
  const mods = state?.activeModifiers ?? []
  if (mods.some((m) => m.status === 'active')) return 'Running'
  if (mods.some((m) => m.status === 'settling')) return 'Settling'
  return 'Baseline'
}

export function domainOf(stream: string): string {
  const dot = stream.indexOf('.')
  return dot === -1 ? stream : stream.slice(0, dot)
}
