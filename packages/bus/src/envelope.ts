/**
 * Turns engine events into stored entries: assigns the id, formats the
 * timestamp (once per distinct millisecond) and serializes the envelope once.
 */
import type { RawEvent } from './entry.js'
import type { IdSequence } from './ids.js'

/** What the encoder needs of an engine event (`SimEvent` of @verisim/sim). */
export interface EnvelopeSource {
  ts: number
  stream: string
  channel: string
  data: unknown
  normalizedValue: number
  anomalyFlag: string
  causes: readonly string[]
}

/**
 * The envelope encoder of a world: `encode(event, idClock)` gives the stored
 * entry, its id the next of `ids` at `idClock` (the generator passes the wall
 * clock; `verisim generate` the event's simulation time).
 */
export function createEnvelopeEncoder(world: string, ids: IdSequence) {
  let lastTs = Number.NaN
  let lastIso = ''
  const worldJson = JSON.stringify(world)
  const streamParts = new Map<string, string>()
  return (e: EnvelopeSource, idClock: number): RawEvent => {
    let streamPart = streamParts.get(e.stream)
    if (streamPart === undefined) {
      streamPart = `"stream":${JSON.stringify(e.stream)},"channel":${JSON.stringify(e.channel)}`
      streamParts.set(e.stream, streamPart)
    }
    if (e.ts !== lastTs) {
      lastTs = e.ts
      lastIso = new Date(e.ts).toISOString()
    }
    const id = ids.next(idClock)
    // Field order follows CONTRACT.md; built by hand to avoid a second object per event.
    const json =
      `{"id":"${id}","world":${worldJson},${streamPart},"timestamp":"${lastIso}",` +
      `"data":${JSON.stringify(e.data)},"normalizedValue":${e.normalizedValue},` +
      `"anomalyFlag":"${e.anomalyFlag}","causes":${e.causes.length === 0 ? '[]' : JSON.stringify(e.causes)}}`
    return { id, channel: e.channel, stream: e.stream, anomalyFlag: e.anomalyFlag, json }
  }
}
