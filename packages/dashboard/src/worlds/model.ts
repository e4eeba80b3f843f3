/**
 * The running world as the page reads it from `GET /api/world` (types from
 * `@verisim/schema`), defensively: a gateway of another version may send less.
 */
import type { WorldActionInfo, WorldDescription } from '@verisim/schema'

export type { WorldActionInfo, WorldDescription }

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)
const strings = (x: unknown): string[] =>
  Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []

/** The description, or null when `raw` has no world id. */
export function readWorld(raw: unknown): WorldDescription | null {
  if (!isObject(raw) || typeof raw.id !== 'string' || raw.id === '') return null
  const actions: WorldActionInfo[] = (Array.isArray(raw.actions) ? raw.actions : [])
    .filter((a): a is Record<string, unknown> => isObject(a) && typeof a.name === 'string')
    .map((a) => ({
      name: a.name as string,
      description: typeof a.description === 'string' ? a.description : '',
      payload: a.payload ?? {},
    }))
  return {
    id: raw.id,
    model: raw.model === 'agent' ? 'agent' : 'chain',
    description: typeof raw.description === 'string' ? raw.description : '',
    channels: strings(raw.channels),
    streams: Array.isArray(raw.streams) ? (raw.streams as WorldDescription['streams']) : [],
    segments: Array.isArray(raw.segments) ? (raw.segments as WorldDescription['segments']) : [],
    actions,
    statsKeys: strings(raw.statsKeys),
    warmupHours: typeof raw.warmupHours === 'number' ? raw.warmupHours : 0,
    // the fields naming entities (the archive finds a journey by them); absent: every `…Id` field
    ...(Array.isArray(raw.entityFields) ? { entityFields: strings(raw.entityFields) } : {}),
  }
}
