/**
 * Runs the gateway in-process against a discovered Redis with a synthetic
 * producer (the bus writer, no generator), under a random key prefix.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import WebSocket from 'ws'
import {
  createIdSequence,
  createKeys,
  createStreamWriter,
  deletePrefix,
  discoverRedis,
  ensureEpoch,
  type RawEvent,
  type RedisHandle,
  type WorldKeys,
} from '@verisim/bus'
import type { StreamInfo } from '@verisim/schema'
import { buildApp, type GatewayApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

export const CATALOG: StreamInfo[] = [
  { name: 'customer.tutor.search', domain: 'customer', channel: 'customer', cadence: 'medium', unit: 'searches', description: 'search' },
  { name: 'session.completed', domain: 'session', channel: 'session', cadence: 'high', unit: 'sessions', description: 'done' },
  { name: 'system.api.request.log', domain: 'system', channel: 'system', cadence: 'high', unit: 'ms', description: 'api' },
]

export interface Harness {
  redis: Redis
  keys: WorldKeys
  prefix: string
  app: GatewayApp
  url: string
  written: RawEvent[]
  /** Writes `n` events now (spread over the catalog's streams). */
  produce(n: number, flag?: string): Promise<RawEvent[]>
  /** Produces `perTick` events every `ms` until stopped. */
  pump(perTick: number, ms: number): () => Promise<void>
  close(): Promise<void>
}

let counter = 0

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const handle: RedisHandle = await discoverRedis({ allowContainer: true })
  const redis = new Redis(handle.url)
  const prefix = `t${randomBytes(4).toString('hex')}`
  const keys = createKeys(prefix, 'tutoring')
  await redis.set(keys.catalog, JSON.stringify(CATALOG))
  await ensureEpoch(redis, keys, '0-0')
  const ids = createIdSequence()
  const writer = createStreamWriter({ redis, keys, maxLen: 100_000 })
  const written: RawEvent[] = []
  const produce = async (n: number, flag = 'normal') => {
    const batch: RawEvent[] = []
    for (let i = 0; i < n; i++) {
      const s = CATALOG[counter++ % CATALOG.length]!
      const id = ids.next(Date.now())
      batch.push({
        id,
        channel: s.channel,
        stream: s.name,
        anomalyFlag: flag,
        json: JSON.stringify({ id, world: 'tutoring', stream: s.name, channel: s.channel, timestamp: new Date().toISOString(), data: { n: counter }, normalizedValue: 50, anomalyFlag: flag, causes: [] }),
      })
    }
    await writer.write(batch)
    written.push(...batch)
    return batch
  }
  const config = loadConfig({
    REDIS_URL: handle.url,
    VERISIM_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...env,
  })
  const app = await buildApp(config, pino({ level: 'silent' }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  // Wait for the stream reader to start.
  for (let i = 0; i < 100 && app.streams.notReadyReason() !== null; i++) {
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    redis,
    keys,
    prefix,
    app,
    url: `http://127.0.0.1:${port}`,
    written,
    produce,
    pump(perTick, ms) {
      let stop = false
      const loop = (async () => {
        while (!stop) {
          await produce(perTick)
          await new Promise((r) => setTimeout(r, ms))
        }
      })()
      return async () => {
        stop = true
        await loop
      }
    },
    async close() {
      await app.close()
      await deletePrefix(redis, prefix)
      redis.disconnect()
      await handle.stop()
    },
  }
}

export interface Received {
  messages: Record<string, unknown>[]
  events: { id: string; stream: string; channel: string; anomalyFlag: string }[]
}

export function connect(url: string): { ws: WebSocket; rx: Received; opened: Promise<void>; closed: Promise<[number, string]> } {
  const ws = new WebSocket(url.replace('http', 'ws') + '/ws')
  const rx: Received = { messages: [], events: [] }
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>
    rx.messages.push(m)
    if (m.type === 'batch' || m.type === 'catchup') rx.events.push(...(m.events as Received['events']))
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])))
  return { ws, rx, opened, closed }
}

export async function until(pred: () => unknown, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
