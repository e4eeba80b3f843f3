/**
 * Turns engine events into stored entries: assigns the id, formats the
 * timestamp (once per distinct millisecond) and serializes the envelope once.
 */
import type { RawEvent, IdSequence } from '@verisim/bus'
import type { SimEvent } from '@verisim/sim'

export function createEnvelopeEncoder(world: string, ids: IdSequence) {
  let lastTs = Number.NaN
  let lastIso = ''
  const worldJson = JSON.stringify(world)
  const streamParts = new Map<string, string>()
  return (e: SimEvent, wallNow: number): RawEvent => {
    let streamPart = streamParts.get(e.stream)
    if (streamPart === undefined) {
      streamPart = `"stream":${JSON.stringify(e.stream)},"channel":${JSON.stringify(e.channel)}`
      streamParts.set(e.stream, streamPart)
    }
    if (e.ts !== lastTs) {
      lastTs = e.ts
      lastIso = new Date(e.ts).toISOString()
    }
    const id = ids.next(wallNow)
    // Field order follows CONTRACT.md; built by hand to avoid a second object per event.
    const json =
      `{"id":"${id}","world":${worldJson},${streamPart},"timestamp":"${lastIso}",` +
      `"data":${JSON.stringify(e.data)},"normalizedValue":${e.normalizedValue},` +
      `"anomalyFlag":"${e.anomalyFlag}","causes":${JSON.stringify(e.causes)}}`
    return { id, channel: e.channel, stream: e.stream, anomalyFlag: e.anomalyFlag, json }
  }
}
