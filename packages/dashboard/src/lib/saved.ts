/**
 * Saved scenarios: the current modifiers and external events under a name, in
 * localStorage, exportable and importable as JSON. Event times are stored as
 * offsets from the simulation time of saving, so re-applying one later puts
 * its events at the same distance from "now".
 */
import { toIsoDuration } from './format.js'

export const SAVED_KEY = 'verisim:savedScenarios'
export const SAVED_FORMAT = 'verisim.saved-scenario/1'

export interface SavedScenario {
  format: typeof SAVED_FORMAT
  name: string
  world: string
  savedAt: string
  /** Simulation time when saved. */
  simTime: string
  /** `activeModifiers` as the state reported them. */
  modifiers: Record<string, unknown>[]
  /** External events, each with `offsetMs` from `simTime`. */
  events: (Record<string, unknown> & { offsetMs: number })[]
}

export function makeSaved(
  name: string,
  world: string,
  simTimeMs: number,
  modifiers: Record<string, unknown>[],
  events: { timestamp: string; raw: Record<string, unknown> }[],
): SavedScenario {
  return {
    format: SAVED_FORMAT,
    name,
    world,
    savedAt: new Date().toISOString(),
    simTime: new Date(simTimeMs).toISOString(),
    modifiers,
    events: events.map((e) => ({ ...e.raw, offsetMs: Date.parse(e.timestamp) - simTimeMs })),
  }
}

/** Validates one imported object; throws an Error saying what is wrong. */
export function parseSaved(x: unknown, where = 'scenario'): SavedScenario {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    throw new Error(`${where}: not an object`)
  const o = x as Record<string, unknown>
  if (o.format !== SAVED_FORMAT) throw new Error(`${where}: "format" must be "${SAVED_FORMAT}"`)
  if (typeof o.name !== 'string' || !o.name.trim())
    throw new Error(`${where}: "name" must be a non-empty string`)
  if (typeof o.simTime !== 'string' || Number.isNaN(Date.parse(o.simTime)))
    throw new Error(`${where}: "simTime" must be an ISO date`)
  if (!Array.isArray(o.modifiers) || o.modifiers.some((m) => typeof m !== 'object' || m === null))
    throw new Error(`${where}: "modifiers" must be an array of objects`)
  if (
    !Array.isArray(o.events) ||
    o.events.some(
      (e) =>
        typeof e !== 'object' ||
        e === null ||
        typeof (e as { offsetMs?: unknown }).offsetMs !== 'number',
    )
  )
    throw new Error(`${where}: "events" must be an array of objects with a numeric "offsetMs"`)
  return {
    format: SAVED_FORMAT,
    name: o.name.trim(),
    world: typeof o.world === 'string' ? o.world : '',
    savedAt: typeof o.savedAt === 'string' ? o.savedAt : new Date().toISOString(),
    simTime: o.simTime,
    modifiers: o.modifiers as Record<string, unknown>[],
    events: o.events as SavedScenario['events'],
  }
}

/** Reads an export file: one saved scenario or an array of them. */
export function parseImport(text: string): SavedScenario[] {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`)
  }
  const list = Array.isArray(json) ? json : [json]
  return list.map((x, i) => parseSaved(x, list.length > 1 ? `scenario ${i + 1}` : 'scenario'))
}

export function loadSaved(storage: Pick<Storage, 'getItem'> = localStorage): SavedScenario[] {
  try {
    const raw = storage.getItem(SAVED_KEY)
    if (!raw) return []
    const list = JSON.parse(raw) as unknown
    if (!Array.isArray(list)) return []
    return list.flatMap((x) => {
      try {
        return [parseSaved(x)]
      } catch {
        return []
      }
    })
  } catch {
    return []
  }
}

/** Stores the list; a name already present is replaced. */
export function storeSaved(
  list: SavedScenario[],
  storage: Pick<Storage, 'setItem'> = localStorage,
): void {
  storage.setItem(SAVED_KEY, JSON.stringify(list))
}

export function upsert(list: SavedScenario[], s: SavedScenario): SavedScenario[] {
  return [...list.filter((x) => x.name !== s.name), s].sort((a, b) => a.name.localeCompare(b.name))
}

/** The scenario a saved modifier belongs to (`scenarioId`, or a `scenario:<id>` source); null for others. */
function scenarioOf(m: Record<string, unknown>): string | null {
  if (typeof m.scenarioId === 'string') return m.scenarioId
  if (typeof m.source === 'string' && m.source.startsWith('scenario:')) return m.source.slice(9)
  return null
}

/**
 * A saved stream modifier as an `adjust_behavior` payload: `{ stream, type,
 * target?, value, duration?, id? }` (the payload admits no other field); the
 * time it had left becomes its duration.
 */
function adjustPayload(m: Record<string, unknown>): Record<string, unknown> {
  const value = typeof m.declaredValue === 'number' ? m.declaredValue : m.value
  const left = m.remainingMs
  return {
    stream: m.stream,
    type: m.type,
    ...(typeof m.target === 'string' ? { target: m.target } : {}),
    value,
    ...(typeof left === 'number' && left > 0 ? { duration: toIsoDuration(left) } : {}),
    ...(typeof m.id === 'string' ? { id: m.id } : {}),
  }
}

/**
 * The requests that re-apply a saved scenario: external events re-timed to
 * `simNowMs` (POST /api/events/external) and modifiers (a predefined scenario
 * by its id, manual ones as `adjust_behavior` stream modifiers; those of
 * external events come back with their events).
 */
export function replayPlan(s: SavedScenario, simNowMs: number) {
  const events = s.events.map(({ offsetMs, ...e }) => {
    const { id: _id, actualImpact: _a, ...rest } = e as Record<string, unknown>
    return { ...rest, timestamp: new Date(simNowMs + offsetMs).toISOString() }
  })
  const scenarioIds = [
    ...new Set(s.modifiers.map(scenarioOf).filter((x): x is string => x !== null)),
  ]
  const streamModifiers = s.modifiers
    .filter(
      (m) =>
        scenarioOf(m) === null &&
        !(typeof m.source === 'string' && m.source.startsWith('external:')),
    )
    .map(adjustPayload)
  return { events, scenarioIds, streamModifiers }
}
