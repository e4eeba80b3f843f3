/** Creates clients against the fakes and records everything they emit. */
import WebSocket from 'ws'
import {
  createClient,
  type ClientOptions,
  type ConnectionState,
  type ResetInfo,
  type StateInfo,
  type StreamEvent,
  type SubscribedInfo,
  type VerisimClient,
  type VerisimClientError,
} from '../../src/index.js'

export interface Recorded {
  client: VerisimClient
  events: StreamEvent[]
  ids: () => string[]
  batches: Array<{ n: number; source: string }>
  states: Array<{ state: ConnectionState; info: StateInfo }>
  errors: VerisimClientError[]
  resets: ResetInfo[]
  subscribed: SubscribedInfo[]
  controls: Record<string, unknown>[]
}

const open = new Set<VerisimClient>()

export function record(options: Partial<ClientOptions> & { url: string }): Recorded {
  const client = createClient({
    WebSocket,
    reconnect: { initialMs: 5, maxMs: 40, jitter: 0 },
    pingIntervalMs: 0,
    ...options,
  })
  open.add(client)
  const r: Recorded = {
    client,
    events: [],
    ids: () => r.events.map((e) => e.id),
    batches: [],
    states: [],
    errors: [],
    resets: [],
    subscribed: [],
    controls: [],
  }
  client.on('event', (e) => r.events.push(e))
  client.on('batch', (events, info) => r.batches.push({ n: events.length, source: info.source }))
  client.on('state', (state, info) => r.states.push({ state, info }))
  client.on('error', (err) => r.errors.push(err))
  client.on('reset', (info) => r.resets.push(info))
  client.on('subscribed', (info) => r.subscribed.push(info))
  client.on('control', (p) => r.controls.push(p))
  return r
}

/** Closes every client `record` made (call in afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((c) => c.close()))
  open.clear()
}
