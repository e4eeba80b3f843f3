/**
 * Shared by the fan-out benchmark's processes: the fixed-size event envelope
 * (so a client can count the events in a frame from its length, without
 * parsing it, and read each event's write time from a known offset), frame
 * layouts, and a tiny request/response over the IPC channel.
 */

/** Bytes of every event envelope. */
export const EVENT_BYTES = 300
export const WORLD = 'bench'
export const CHANNELS = ['customer', 'tutor', 'session', 'support', 'marketing', 'system']
export const CATALOG = CHANNELS.map((channel) => ({
  name: `${channel}.metric`,
  domain: channel,
  channel,
  cadence: 'high',
  unit: 'count',
  description: `${channel} metric (benchmark)`,
}))

/** The diagnostic single stream of 100 ms batches (one entry each, field `e`: the events joined by commas). */
export const batchesKey = (prefix) => `${prefix}:batches`

/**
 * The envelope of one event, exactly EVENT_BYTES long: the id (`<ms>-<seq>`,
 * its ms the time the event was made, just before XADD) comes first, so a
 * reader finds it at offset 7 (`{"id":"`).
 */
export function envelope(id, channel, isoTime) {
  const head = `{"id":"${id}","world":"${WORLD}","stream":"${channel}.metric","channel":"${channel}","timestamp":"${isoTime}","data":{"value":42,"pad":"`
  const tail = `"},"normalizedValue":50,"anomalyFlag":"normal","causes":[]}`
  const pad = EVENT_BYTES - head.length - tail.length
  if (pad < 0) throw new Error('EVENT_BYTES too small for the envelope')
  return head + 'x'.repeat(pad) + tail
}

/**
 * Frame layouts: bytes before the first event and the fixed overhead, so that
 * events = (frameLength - overhead) / (EVENT_BYTES + 1) for batches.
 *   verisim / bare: {"type":"batch","events":[e,e,…]}
 *   socket.io batch: 42["batch",[e,e,…]]
 *   socket.io event: 42["event",e]
 */
export const LAYOUT = {
  batch: {
    prefix: '{"type":"batch","events":['.length,
    overhead: '{"type":"batch","events":[]}'.length - 1,
  },
  sioBatch: { prefix: '42["batch",['.length, overhead: '42["batch",[]]'.length - 1 },
  sioEvent: { prefix: '42["event",'.length, overhead: '42["event",]'.length },
}

/** Child side: answers `{ rid, type, … }` requests with handler results. */
export function serve(handlers) {
  process.on('message', async (msg) => {
    const h = handlers[msg.type]
    try {
      const result = h ? await h(msg) : { error: `unknown request ${msg.type}` }
      process.send({ rid: msg.rid, ...result })
    } catch (err) {
      process.send({ rid: msg.rid, error: String(err?.stack ?? err) })
    }
  })
}

/** Parent side: one request, one response. */
let nextRid = 1
export function request(child, msg, timeoutMs = 60_000) {
  const rid = nextRid++
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage)
      reject(new Error(`no answer to ${msg.type} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (m) => {
      if (m?.rid !== rid) return
      clearTimeout(timer)
      child.off('message', onMessage)
      if (m.error) reject(new Error(m.error))
      else resolve(m)
    }
    child.on('message', onMessage)
    child.send({ ...msg, rid })
  })
}
