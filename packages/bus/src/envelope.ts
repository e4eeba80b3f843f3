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
  let lastSec = Number.NaN
  let secPrefix = ''
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
      // "YYYY-MM-DDTHH:MM:SS." once per second, the milliseconds appended
      const sec = Math.floor(e.ts / 1000)
      if (sec !== lastSec) {
        lastSec = sec
        const full = new Date(e.ts).toISOString()
        secPrefix = full.length === 24 ? full.slice(0, 20) : ''
      }
      const ms = e.ts - sec * 1000
      lastIso =
        secPrefix === ''
          ? new Date(e.ts).toISOString() // a year outside 0000–9999
          : `${secPrefix}${ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : ms}Z`
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
