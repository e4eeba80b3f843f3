/**
 * How one event is stored in a channel's Redis Stream: fields `s` (stream
 * name), `f` (anomaly flag) and `e` (the envelope JSON, serialized once by the
 * generator). The gateway routes on `s`/`f` and forwards `e` untouched.
 */

export interface RawEvent {
  id: string
  channel: string
  stream: string
  anomalyFlag: string
  /** The complete envelope as JSON text. */
  json: string
}

export const FIELD_STREAM = 's'
export const FIELD_FLAG = 'f'
export const FIELD_ENVELOPE = 'e'

/** Converts one XRANGE/XREAD entry (`[id, [k, v, k, v…]]`) into a RawEvent. */
export function entryToRawEvent(channel: string, id: string, fields: string[]): RawEvent {
  let stream = ''
  let anomalyFlag = 'normal'
  let json = ''
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i]
    const v = fields[i + 1] as string
    if (k === FIELD_ENVELOPE) json = v
    else if (k === FIELD_STREAM) stream = v
    else if (k === FIELD_FLAG) anomalyFlag = v
  }
  return { id, channel, stream, anomalyFlag, json }
}
