/**
 * The archive as the page reads it: an entity's journey (`GET /api/journeys/
 * :entityId`) and replays of an archived range (`/api/streams/replay`). The
 * requests over the page's REST client, defensive readers of their answers,
 * the entity ids an event's data names (the archive's own rule, so every id
 * the page makes clickable has a journey), and the small state changes the
 * journey dialog and the replay panel make (pages appended, a type filter,
 * milestones marked on their events, a replay followed until it ends).
 */
import type { StreamEvent } from '@verisim/client'
import { ApiError, errorMessage, isUnavailable, type Api } from './api.js'
import { readExternalEvent } from './model.js'
import { resolveTarget } from './time-travel.js'

type Obj = Record<string, unknown>
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null)
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)
const time = (x: unknown): string | null => {
  const s = str(x)
  return s !== null && Number.isFinite(Date.parse(s)) ? s : null
}

/** The gateway's code for an archive that is not configured or does not answer (503). */
export const ARCHIVE_UNAVAILABLE = 'VS_GW_ARCHIVE_UNAVAILABLE'

// ------------------------------------------------------------- entity ids

/**
 * Whether `key` of an event's data names an entity: one of the world's
 * declared `entityFields` when it has them, else any `…Id` field (what the
 * archiver indexes, `@verisim/archive` `entityIdsOf`).
 */
export function isEntityField(key: string, fields?: readonly string[]): boolean {
  return fields ? fields.includes(key) : key.endsWith('Id')
}

/** The ids of one value: a string, a number, or an array of them; empty values skipped. */
function idsOf(v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : [v]
  if (typeof v === 'number' && Number.isFinite(v)) return [String(v)]
  if (Array.isArray(v)) return v.flatMap((x) => (Array.isArray(x) ? [] : idsOf(x)))
  return []
}

/**
 * The entity ids an event's `data` names, each once, in field order: those the
 * archive finds the event by, so each has a journey.
 *
 * @example entityIdsOf({ studentId: 's_1', tutorId: 't_2', subject: 'math' }) // ['s_1', 't_2']
 */
export function entityIdsOf(data: unknown, fields?: readonly string[]): string[] {
  if (!isObj(data)) return []
  const out: string[] = []
  const keys = fields ?? Object.keys(data)
  for (const k of keys) if (isEntityField(k, fields)) out.push(...idsOf(data[k]))
  return [...new Set(out)]
}

/** One `key=value` of an event's one-line summary; `ids` non-empty when the value names entities. */
export interface SummaryPart {
  key: string
  /** The value as shown when it is not an entity (or has no id). */
  text: string
  ids: string[]
}

/**
 * The one-line summary of an event's data (the log's and the journey's): the
 * first `max` plain fields as `key=value`, entity fields (an array of ids too)
 * carrying their ids to link.
 */
export function dataSummary(data: unknown, fields?: readonly string[], max = 5): SummaryPart[] {
  if (!isObj(data)) return []
  const parts: SummaryPart[] = []
  for (const [key, v] of Object.entries(data)) {
    if (parts.length >= max) break
    const entity = isEntityField(key, fields)
    if (entity && Array.isArray(v)) {
      const ids = idsOf(v)
      if (ids.length > 0) parts.push({ key, text: ids.join(','), ids })
      continue
    }
    if (v === null || typeof v === 'object') continue
    parts.push({ key, text: String(v), ids: entity ? idsOf(v) : [] })
  }
  return parts
}

// ----------------------------------------------------------------- journey

export interface JourneyMilestone {
  name: string
  label: string
  /** Simulation time (ISO). */
  at: string
  eventId: string
  stream: string
}

/** `GET /api/journeys/:entityId`, read defensively. */
export interface Journey {
  entityId: string
  epoch: string | null
  /** The entity's events in the range, all types. */
  total: number
  /** Simulation times of its first and last event (ISO); null without any. */
  first: string | null
  last: string | null
  /** Events per stream, most first. */
  streams: { stream: string; count: number }[]
  /** In time order. */
  milestones: JourneyMilestone[]
  /** External events and applied control commands between its first and last event. */
  context: StreamEvent[]
  /** In publication order: the pages loaded so far. */
  events: StreamEvent[]
  /** The next page's cursor; null when every event (of the chosen types) is loaded. */
  nextCursor: string | null
}

/** An archived envelope as an event, or null without an id, a stream or a valid time. */
export function readArchivedEvent(x: unknown): StreamEvent | null {
  if (!isObj(x)) return null
  const id = str(x.id)
  const stream = str(x.stream)
  const timestamp = time(x.timestamp)
  if (!id || !stream || !timestamp) return null
  const flag = x.anomalyFlag
  return {
    id,
    world: str(x.world) ?? '',
    stream,
    channel: str(x.channel) ?? '',
    timestamp,
    data: isObj(x.data) ? x.data : {},
    normalizedValue: num(x.normalizedValue) ?? 50,
    anomalyFlag: flag === 'warning' || flag === 'critical' ? flag : 'normal',
    ...(Array.isArray(x.causes)
      ? { causes: x.causes.filter((c): c is string => typeof c === 'string') }
      : {}),
  }
}

const events = (x: unknown): StreamEvent[] =>
  (Array.isArray(x) ? x : []).map(readArchivedEvent).filter((e): e is StreamEvent => e !== null)

function readMilestone(x: unknown): JourneyMilestone | null {
  if (!isObj(x)) return null
  const name = str(x.name)
  const at = time(x.at)
  const eventId = str(x.eventId)
  if (!name || !at || !eventId) return null
  return { name, label: str(x.label) ?? name, at, eventId, stream: str(x.stream) ?? '' }
}

export function readJourney(x: unknown, entityId: string): Journey {
  const o = isObj(x) ? x : {}
  const counts = isObj(o.streams) ? o.streams : {}
  const streams = Object.entries(counts)
    .flatMap(([stream, n]) => (num(n) !== null ? [{ stream, count: n as number }] : []))
    .sort((a, b) => b.count - a.count || a.stream.localeCompare(b.stream))
  const list = events(o.events)
  return {
    entityId: str(o.entityId) ?? entityId,
    epoch: str(o.epoch),
    total: num(o.total) ?? streams.reduce((a, s) => a + s.count, 0),
    first: time(o.first),
    last: time(o.last),
    streams,
    milestones: (Array.isArray(o.milestones) ? o.milestones : [])
      .map(readMilestone)
      .filter((m): m is JourneyMilestone => m !== null)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at)),
    context: events(o.context),
    events: list,
    nextCursor: str(o.nextCursor),
  }
}

/** Events of a journey page per request: the dialog's first page and each "load more". */
export const JOURNEY_PAGE = 200

/**
 * `GET /api/journeys/:entityId`: one page of the entity's events (of `types`
 * only, when given), after `cursor` when given.
 */
export async function getJourney(
  api: Api,
  entityId: string,
  opts: { types?: readonly string[]; cursor?: string | null; limit?: number } = {},
): Promise<Journey> {
  const raw = await api.get<unknown>(`/api/journeys/${encodeURIComponent(entityId)}`, {
    limit: String(opts.limit ?? JOURNEY_PAGE),
    types: opts.types && opts.types.length > 0 ? opts.types.join(',') : undefined,
    cursor: opts.cursor ?? undefined,
  })
  return readJourney(raw, entityId)
}

/** Why a read of the archive failed, as the panel says it. */
export interface ArchiveFailure {
  /** `off`: the gateway has no archive, or it did not answer (503); `unavailable`: no such endpoint. */
  kind: 'off' | 'unavailable' | 'error'
  message: string
}

export function archiveFailure(err: unknown): ArchiveFailure {
  if (err instanceof ApiError && err.code === ARCHIVE_UNAVAILABLE)
    return { kind: 'off', message: err.message }
  if (isUnavailable(err)) return { kind: 'unavailable', message: 'not available on this server' }
  return { kind: 'error', message: errorMessage(err) }
}

/** A failure in words: an archive that is off says so plainly, anything else its message. */
export function archiveMessage(f: { code?: string; kind?: string; message: string }): string {
  return f.kind === 'off' || f.code === ARCHIVE_UNAVAILABLE
    ? `The archive is off: ${f.message}`
    : f.message
}

/** The journey dialog: which entity, which types, what is loaded. */
export interface JourneyView {
  entityId: string
  /** Streams shown (the `types` filter); empty: every type. */
  types: string[]
  status: 'loading' | 'ok' | 'off' | 'unavailable' | 'error'
  /** What failed (status off / unavailable / error). */
  message: string | null
  /** The pages loaded so far; kept while the filter reloads. */
  journey: Journey | null
  /** A next page is being read. */
  more: boolean
  /** Why the last next page failed (the loaded ones stay). */
  moreError: string | null
  /** Entities opened before this one from the dialog (Back). */
  trail: string[]
}

/** The dialog opening on `entityId` (after `trail`): loading its first page of every type. */
export function journeyOpened(entityId: string, trail: string[] = []): JourneyView {
  return {
    entityId,
    types: [],
    status: 'loading',
    message: null,
    journey: null,
    more: false,
    moreError: null,
    trail,
  }
}

/** The filter set to `types`: its first page is read again (the header stays meanwhile). */
export function journeyFiltered(v: JourneyView, types: string[]): JourneyView {
  return { ...v, types, status: 'loading', message: null, more: false, moreError: null }
}

/** A next page asked for. */
export function journeyMore(v: JourneyView): JourneyView {
  return { ...v, more: true, moreError: null }
}

/**
 * A page arrived: the first replaces what was shown, a next one is appended
 * (an event already shown is not repeated); the header (counts, milestones,
 * context) is the newest answer's.
 */
export function journeyLoaded(v: JourneyView, page: Journey, appended: boolean): JourneyView {
  const prev = appended ? v.journey : null
  let merged = page
  if (prev) {
    const seen = new Set(prev.events.map((e) => e.id))
    merged = { ...page, events: [...prev.events, ...page.events.filter((e) => !seen.has(e.id))] }
  }
  return { ...v, status: 'ok', message: null, journey: merged, more: false, moreError: null }
}

/** A read failed: a next page's failure leaves the loaded pages shown. */
export function journeyFailed(v: JourneyView, f: ArchiveFailure, appended: boolean): JourneyView {
  if (appended && v.journey) return { ...v, more: false, moreError: archiveMessage(f) }
  return { ...v, status: f.kind, message: f.message, more: false }
}

/**
 * The filter after a type's checkbox changed. Every type checked is no filter
 * (empty), as is none: the dialog never asks for nothing.
 */
export function toggleType(types: readonly string[], stream: string, all: readonly string[]) {
  const current = types.length === 0 ? [...all] : types.filter((t) => all.includes(t))
  const next = current.includes(stream)
    ? current.filter((t) => t !== stream)
    : all.filter((t) => t === stream || current.includes(t))
  return next.length === 0 || next.length === all.length ? [] : next
}

/** How many of the entity's events the filter covers (every one without a filter). */
export function shownTotal(j: Pick<Journey, 'total' | 'streams'>, types: readonly string[]) {
  if (types.length === 0) return j.total
  return j.streams.reduce((a, s) => a + (types.includes(s.stream) ? s.count : 0), 0)
}

/** An event of the journey's timeline with the milestones it is (usually none). */
export interface JourneyRow {
  event: StreamEvent
  milestones: JourneyMilestone[]
}

/** The timeline's rows: each event with the milestones whose `eventId` is its id. */
export function markMilestones(
  list: readonly StreamEvent[],
  milestones: readonly JourneyMilestone[],
): JourneyRow[] {
  const by = new Map<string, JourneyMilestone[]>()
  for (const m of milestones) by.set(m.eventId, [...(by.get(m.eventId) ?? []), m])
  return list.map((event) => ({ event, milestones: by.get(event.id) ?? [] }))
}

/**
 * A context event in a few words: an external event's title (and severity),
 * a control command's action (`control: set_scenario`).
 */
export function contextLabel(e: StreamEvent): string {
  if (e.channel === 'external') {
    const x = readExternalEvent(e)
    return x ? `${x.title}${x.severity !== 'info' ? ` (${x.severity})` : ''}` : e.stream
  }
  const action = str(e.data.action)
  if (action) {
    const r = isObj(e.data.result) ? e.data.result : null
    const what = r ? (str(r.scenarioId) ?? str(r.name) ?? str(r.id)) : null
    return `control: ${action}${what ? ` ${what}` : ''}`
  }
  return e.stream
}

// ------------------------------------------------------------------ replay

export type ReplayState = 'running' | 'done' | 'cancelled' | 'failed'
const REPLAY_STATES: readonly ReplayState[] = ['running', 'done', 'cancelled', 'failed']

/** A replay's status (`POST /api/streams/replay`, `GET|DELETE /api/streams/replay/:id`). */
export interface ReplayStatus {
  id: string
  /** What to subscribe to for its events: `replay:<id>`. */
  topic: string
  state: ReplayState
  total: number
  sent: number
  /** 0 … 1. */
  progress: number
  start: string | null
  end: string | null
  speed: number | null
  createdAt: string | null
  error: string | null
}

export function readReplayStatus(x: unknown): ReplayStatus | null {
  if (!isObj(x)) return null
  const id = str(x.id)
  if (!id) return null
  const total = Math.max(0, num(x.total) ?? 0)
  const sent = Math.max(0, num(x.sent) ?? 0)
  const p = num(x.progress) ?? (total > 0 ? sent / total : 0)
  const e = x.error
  return {
    id,
    topic: str(x.topic) ?? `replay:${id}`,
    state: REPLAY_STATES.includes(x.state as ReplayState) ? (x.state as ReplayState) : 'running',
    total,
    sent,
    progress: Math.min(1, Math.max(0, p)),
    start: time(x.start),
    end: time(x.end),
    speed: num(x.speed),
    createdAt: time(x.createdAt),
    error: str(e) ?? (isObj(e) ? str(e.message) : null),
  }
}

export interface ReplayRequest {
  /** ISO simulation times, start < end. */
  start: string
  end: string
  /** Topics as for subscriptions; absent: every stream. */
  streams?: string[]
  speed: number
}

const replayAnswer = (raw: unknown, what: string): ReplayStatus => {
  const s = readReplayStatus(raw)
  if (!s) throw new ApiError(0, 'VS_UI_BAD_ANSWER', `the ${what} answer has no replay id`)
  return s
}

/** `POST /api/streams/replay` (admin token and Idempotency-Key as every control call). */
export async function startReplay(api: Api, body: ReplayRequest): Promise<ReplayStatus> {
  return replayAnswer(await api.post<unknown>('/api/streams/replay', body), 'replay')
}

/** `GET /api/streams/replay/:id`. */
export async function getReplay(api: Api, id: string): Promise<ReplayStatus> {
  return replayAnswer(
    await api.get<unknown>(`/api/streams/replay/${encodeURIComponent(id)}`),
    'replay status',
  )
}

/** `DELETE /api/streams/replay/:id`: its status (cancelled, or the end it had already reached). */
export async function cancelReplay(api: Api, id: string): Promise<ReplayStatus | null> {
  return readReplayStatus(
    await api.delete<unknown>(`/api/streams/replay/${encodeURIComponent(id)}`),
  )
}

/** The replay form's fields as typed. */
export interface ReplayForm {
  start: string
  end: string
  /** Comma-separated topics; blank: every stream. */
  streams: string
  speed: string
}

export const REPLAY_DEFAULT_SPEED = 60
const HOUR = 3_600_000

/** `2026-11-23T10:15:07Z`: an ISO time to the second, as the form shows it. */
export const isoSecond = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')

/** The form's range before anything is typed: the last hour of simulation time. */
export function defaultReplayRange(now: number): { start: string; end: string } | null {
  if (!Number.isFinite(now)) return null
  const end = Math.floor(now / 1000) * 1000
  return { start: isoSecond(end - HOUR), end: isoSecond(end) }
}

/**
 * The request body of the form, or the first field to fix and why. Times are
 * ISO or as the page shows them (UTC), or spans from now (`-1h`); topics are
 * split at commas; the speed is a number above 0.
 */
export function replayRequest(
  form: ReplayForm,
  now: number,
): { ok: true; body: ReplayRequest } | { ok: false; field: keyof ReplayForm; message: string } {
  const start = resolveTarget(form.start, now)
  if (start === null)
    return {
      ok: false,
      field: 'start',
      message: 'Start must be a UTC time like 2026-11-23T10:00:00Z, or a span from now like -1h.',
    }
  const end = resolveTarget(form.end, now)
  if (end === null)
    return {
      ok: false,
      field: 'end',
      message: 'End must be a UTC time like 2026-11-23T11:00:00Z, or a span from now like -5m.',
    }
  if (end <= start) return { ok: false, field: 'end', message: 'End must be after start.' }
  const speedText = form.speed.trim()
  const speed = speedText === '' ? REPLAY_DEFAULT_SPEED : Number(speedText)
  if (!Number.isFinite(speed) || speed <= 0)
    return {
      ok: false,
      field: 'speed',
      message: 'Speed must be a number above 0 (60: 1 h in 1 min).',
    }
  const streams = form.streams
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  return {
    ok: true,
    body: {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      ...(streams.length > 0 ? { streams: [...new Set(streams)] } : {}),
      speed,
    },
  }
}

/** What the replay panel holds: the replay followed and what went wrong reading it. */
export interface ReplayView {
  status: ReplayStatus
  /** The last status read failed (the gateway may still be replaying). */
  pollError: string | null
  /** The gateway no longer knows the replay: its state is not followed any more. */
  lost: boolean
}

/** Whether the page still follows the replay (and offers Cancel). */
export function replayActive(v: ReplayView | null): boolean {
  return v !== null && v.status.state === 'running' && !v.lost
}

/** How often a running replay's status is read. */
export const REPLAY_POLL_MS = 1000

/**
 * Reads a running replay's status every `everyMs` until it is done, cancelled
 * or failed, or until `stop()`; each answer (or failure) goes to `onView`. A
 * read that fails for the network or the server is tried again; one the
 * gateway refuses (the replay is unknown to it) ends the following.
 */
export function followReplay(
  api: Api,
  first: ReplayStatus,
  onView: (v: ReplayView) => void,
  everyMs = REPLAY_POLL_MS,
): { stop(): void } {
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | null = null
  let status = first
  const next = () => {
    if (!stopped && status.state === 'running') timer = setTimeout(() => void tick(), everyMs)
  }
  const tick = async () => {
    timer = null
    try {
      const s = await getReplay(api, status.id)
      if (stopped) return
      status = s
      onView({ status, pollError: null, lost: false })
      next()
    } catch (err) {
      if (stopped) return
      const refused =
        err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429
      onView({
        status,
        pollError: refused
          ? `Its status cannot be read any more: ${errorMessage(err)}`
          : `Could not read its status (trying again): ${errorMessage(err)}`,
        lost: refused,
      })
      if (!refused) next()
    }
  }
  next()
  return {
    stop() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      timer = null
    },
  }
}
