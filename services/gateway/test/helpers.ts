/**
 * Runs the gateway in-process against a discovered Redis with a synthetic
 * producer (the bus writer, no generator), under a random key prefix.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
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
  freePort,
  type RawEvent,
  type RedisHandle,
  type WorldKeys,
} from '@verisim/bus'
import type { StreamInfo } from '@verisim/schema'
import { buildApp, type GatewayApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

export const CATALOG: StreamInfo[] = [
  {
    name: 'customer.tutor.search',
    domain: 'customer',
    channel: 'customer',
    cadence: 'medium',
    unit: 'searches',
    description: 'search',
  },
  {
    name: 'session.completed',
    domain: 'session',
    channel: 'session',
    cadence: 'high',
    unit: 'sessions',
    description: 'done',
  },
  {
    name: 'system.api.request.log',
    domain: 'system',
    channel: 'system',
    cadence: 'high',
    unit: 'ms',
    description: 'api',
  },
]

export interface Harness {
  redis: Redis
  keys: WorldKeys
  prefix: string
  app: GatewayApp
  url: string
  written: RawEvent[]
  /** Writes `n` events now (spread over the catalog's streams); `pad` adds that many bytes to each. */
  produce(n: number, flag?: string, pad?: number): Promise<RawEvent[]>
  /** Produces `perTick` events every `ms` until stopped. */
  pump(perTick: number, ms: number): () => Promise<void>
  /** Settings the in-process gateway runs with (reuse them for a gateway process). */
  env: Record<string, string>
  close(): Promise<void>
}

export interface HarnessOptions {
  /** Run the gateway in this process (default) or not at all (tests that spawn their own). */
  inProcess?: boolean
}

let counter = 0

export async function startHarness(
  env: Record<string, string> = {},
  opts: HarnessOptions = {},
): Promise<Harness> {
  const handle: RedisHandle = await discoverRedis({ allowContainer: true })
  const redis = new Redis(handle.url)
  const prefix = `t${randomBytes(4).toString('hex')}`
  const keys = createKeys(prefix, 'tutoring')
  await redis.set(keys.catalog, JSON.stringify(CATALOG))
  await ensureEpoch(redis, keys, '0-0')
  const ids = createIdSequence()
  const writer = createStreamWriter({ redis, keys, maxLen: 100_000 })
  const written: RawEvent[] = []
  const produce = async (n: number, flag = 'normal', pad = 0) => {
    const filler = pad > 0 ? 'x'.repeat(pad) : ''
    const batch: RawEvent[] = []
    for (let i = 0; i < n; i++) {
      const s = CATALOG[counter++ % CATALOG.length]!
      const id = ids.next(Date.now())
      batch.push({
        id,
        channel: s.channel,
        stream: s.name,
        anomalyFlag: flag,
        json: JSON.stringify({
          id,
          world: 'tutoring',
          stream: s.name,
          channel: s.channel,
          timestamp: new Date().toISOString(),
          data: pad > 0 ? { n: counter, pad: filler } : { n: counter },
          normalizedValue: 50,
          anomalyFlag: flag,
          causes: [],
        }),
      })
    }
    await writer.write(batch)
    written.push(...batch)
    return batch
  }
  const settings = {
    REDIS_URL: handle.url,
    VERISIM_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...env,
  }
  let app: GatewayApp | null = null
  let port = 0
  if (opts.inProcess !== false) {
    const config = loadConfig(settings)
    app = await buildApp(config, pino({ level: 'silent' }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as { port: number }).port
    // Wait for the stream reader to start.
    for (let i = 0; i < 100 && app.streams.notReadyReason() !== null; i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    env: settings,
    redis,
    keys,
    prefix,
    // Tests that asked for no in-process gateway must not touch it.
    app: app as GatewayApp,
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
      await app?.close()
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

export function connect(url: string): {
  ws: WebSocket
  rx: Received
  opened: Promise<void>
  closed: Promise<[number, string]>
} {
  const ws = new WebSocket(url.replace('http', 'ws') + '/ws')
  const rx: Received = { messages: [], events: [] }
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>
    rx.messages.push(m)
    if (m.type === 'batch' || m.type === 'catchup')
      rx.events.push(...(m.events as Received['events']))
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const closed = new Promise<[number, string]>((resolve) =>
    ws.once('close', (code, reason) => resolve([code, reason.toString()])),
  )
  return { ws, rx, opened, closed }
}

export async function until(
  pred: () => unknown,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

// ---------------------------------------------------------------------------
// A gateway as a process of its own (for what only a process shows: its RSS)
// ---------------------------------------------------------------------------

const gatewayRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Builds `dist/` when a source file is newer than it (so the process runs this checkout's code). */
export function ensureBuilt(): void {
  const main = path.join(gatewayRoot, 'dist/main.js')
  let built = 0
  try {
    built = statSync(main).mtimeMs
  } catch {
    // not built yet
  }
  if (built >= newestMtime(path.join(gatewayRoot, 'src'))) return
  const tsc = path.resolve(gatewayRoot, '../../node_modules/typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', path.join(gatewayRoot, 'tsconfig.json')], {
    stdio: 'inherit',
    timeout: 120_000,
  })
}

export interface GatewayProcess {
  url: string
  child: ChildProcess
  output: string[]
  /** Resident set size of the gateway process, in bytes. */
  rss(): number
  stop(): Promise<void>
}

export { freePort }

/** Starts `dist/main.js` with the harness's settings plus `env`, and waits until it is ready. */
export async function spawnGateway(
  h: Harness,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  ensureBuilt()
  const port = await freePort()
  const child = spawn(process.execPath, [path.join(gatewayRoot, 'dist/main.js')], {
    env: {
      ...process.env,
      ...h.env,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()))
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL')
      throw new Error(`gateway process not ready: ${output.join('')}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    child,
    output,
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)
      if (!kb) throw new Error('no VmRSS for the gateway process')
      return Number(kb[1]) * 1024
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    },
  }
}
