/**
 * From a published event (a channel stream entry) to an archive row: its
 * simulated time and the ids it is about.
 */
import type { ArchiveRow } from './store.js'

/** A channel stream entry as the archiver reads it (see `@verisim/bus` RawEvent). */
export interface PublishedEvent {
  id: string
  channel: string
  stream: string
  anomalyFlag: string
  /** The envelope JSON. */
  json: string
}

/**
 * The ids an event's `data` names: the values of `fields` when the world
 * module declares its entity fields, else of every `…Id` field. Strings and
 * numbers are taken, and arrays of them; empty values are skipped.
 */
export function entityIdsOf(
  data: Record<string, unknown> | undefined,
  fields: readonly string[] | undefined,
): string[] {
  if (!data) return []
  const out: string[] = []
  const take = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v !== '') out.push(v)
    } else if (typeof v === 'number' && Number.isFinite(v)) out.push(String(v))
    else if (Array.isArray(v)) for (const x of v) if (!Array.isArray(x)) take(x)
  }
  if (fields) for (const f of fields) take(data[f])
  else for (const [k, v] of Object.entries(data)) if (k.endsWith('Id')) take(v)
  return [...new Set(out)]
}

/**
 * The archive row of a published event. Throws on an envelope that is not
 * JSON or has no valid `timestamp` (the generator never writes one).
 */
export function toArchiveRow(
  e: PublishedEvent,
  epoch: string,
  world: string,
  entityFields: readonly string[] | undefined,
): ArchiveRow {
  const env = JSON.parse(e.json) as {
    timestamp?: unknown
    data?: Record<string, unknown>
    normalizedValue?: unknown
  }
  const ts = typeof env.timestamp === 'string' ? Date.parse(env.timestamp) : NaN
  if (!Number.isFinite(ts)) {
    throw new Error(`event ${e.id} of ${e.channel} has no valid timestamp (expected ISO 8601)`)
  }
  return {
    epoch,
    id: e.id,
    ts,
    world,
    channel: e.channel,
    stream: e.stream,
    anomalyFlag: e.anomalyFlag,
    value:
      typeof env.normalizedValue === 'number' && Number.isFinite(env.normalizedValue)
        ? env.normalizedValue
        : null,
    entities: entityIdsOf(env.data, entityFields),
    envelope: e.json,
  }
}
