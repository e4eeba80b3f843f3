/**
 * Starts the generator and the gateway as real processes against a discovered
 * Redis, under a random key prefix, and cleans everything up afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { deletePrefix, discoverRedis, freePort, type RedisHandle } from '@verisim/bus'
import { discoverPostgres, type PostgresHandle } from '@verisim/archive'
import pg from 'pg'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export { freePort }

/**
 * Polls `url` until it answers 2xx. The default leaves room for the generator's
 * warm-up (240 simulated hours: ~5 s alone, over 20 s while the concurrent test
 * files share two cores).
 */
export async function waitReady(url: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url)
      if (r.ok) return
      last = `${r.status} ${await r.text()}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`)
}

export interface Proc {
  child: ChildProcess
  output: string[]
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export function startProcess(
  name: 'generator' | 'gateway' | 'archiver',
  env: Record<string, string>,
): Proc {
  const child = spawn(process.execPath, [path.join(root, `services/${name}/dist/main.js`)], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()))
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  return {
    child,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

export interface Stack {
  redis: Redis
  redisUrl: string
  prefix: string
  gatewayUrl: string
  wsUrl: string
  generatorUrl: string
  generator: Proc
  gateway: Proc
  startGateway(extra?: Record<string, string>): Promise<{ proc: Proc; url: string }>
  stop(): Promise<void>
}

export interface StackOptions {
  /** Settings for both services. */
  env?: Record<string, string>
  /** Extra settings for the first gateway only (e.g. its GATEWAY_INSTANCE_ID). */
  gatewayEnv?: Record<string, string>
  /** Use this Redis instead of discovering one (e.g. a {@link startRedisServer} the test controls). */
  redisUrl?: string
  /**
   * Also run the archiver, on a PostgreSQL found as `npm start` finds one, in a
   * schema of the stack's own (dropped by `stop`); the gateway gets DATABASE_URL.
   */
  archive?: boolean
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const handle: RedisHandle = opts.redisUrl
    ? { url: opts.redisUrl, source: 'env', stop: async () => {} }
    : await discoverRedis({ allowContainer: true })
  const redis = new Redis(handle.url)
  redis.on('error', () => undefined) // tests that stop Redis on purpose see failed commands instead
  const prefix = `t${randomBytes(4).toString('hex')}`
  const base = {
    REDIS_URL: handle.url,
    VERISIM_PREFIX: prefix,
    HOST: '127.0.0.1',
    // Tests that do not look at steady-state rates start cold (faster start).
    VERISIM_WARMUP_HOURS: '0',
    ...opts.env,
  }
  let archive: { db: PostgresHandle; schema: string } | null = null
  if (opts.archive) {
    archive = {
      db: await discoverPostgres({ allowContainer: true }),
      schema: `t_${randomBytes(4).toString('hex')}`,
    }
    Object.assign(base, { DATABASE_URL: archive.db.url, ARCHIVE_SCHEMA: archive.schema })
  }
  const dropArchive = async (): Promise<void> => {
    if (!archive) return
    const c = new pg.Client({ connectionString: archive.db.url })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS "${archive.schema}" CASCADE`)
    await c.end()
    await archive.db.stop()
  }
  const genPort = await freePort()
  const generator = startProcess('generator', { ...base, GENERATOR_PORT: String(genPort) })
  const archiver = archive
    ? startProcess('archiver', { ...base, ARCHIVER_PORT: String(await freePort()) })
    : null
  const generatorUrl = `http://127.0.0.1:${genPort}`
  const gateways: Proc[] = []
  const startGateway = async (extra: Record<string, string> = {}) => {
    const port = await freePort()
    const proc = startProcess('gateway', { ...base, PORT: String(port), ...extra })
    gateways.push(proc)
    const url = `http://127.0.0.1:${port}`
    await waitReady(`${url}/health/ready`).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output.join('')}`)
    })
    return { proc, url }
  }
  let gw: { proc: Proc; url: string }
  try {
    await waitReady(`${generatorUrl}/health/ready`).catch((err: Error) => {
      throw new Error(`${err.message}\n${generator.output.join('')}`)
    })
    gw = await startGateway(opts.gatewayEnv)
  } catch (err) {
    // A stack that never came up leaves no process behind (the test's afterAll has no stack to stop).
    await Promise.all([generator, archiver, ...gateways].map((p) => p?.stop('SIGKILL')))
    redis.disconnect()
    await handle.stop()
    await dropArchive()
    throw err
  }
  return {
    redis,
    redisUrl: handle.url,
    prefix,
    gatewayUrl: gw.url,
    wsUrl: gw.url.replace('http', 'ws') + '/ws',
    generatorUrl,
    generator,
    gateway: gw.proc,
    startGateway,
    async stop() {
      await Promise.all([generator.stop(), archiver?.stop(), ...gateways.map((g) => g.stop())])
      await deletePrefix(redis, prefix)
      redis.disconnect()
      await handle.stop()
      await dropArchive()
    },
  }
}

export interface Envelope {
  id: string
  stream: string
  channel: string
  timestamp: string
  [k: string]: unknown
}

/** A raw `ws` client collecting every server message. */
export class TestClient {
  readonly messages: Record<string, unknown>[] = []
  readonly events: Envelope[] = []
  readonly ws: WebSocket
  readonly opened: Promise<void>
  /** Close code and reason, once the socket has closed. */
  readonly closed: Promise<[number, string]>
  #waiters: (() => void)[] = []

  constructor(url: string) {
    this.ws = new WebSocket(url)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
    })
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve([code, reason.toString()])),
    )
    this.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>
      this.messages.push(msg)
      if (msg.type === 'batch' || msg.type === 'catchup') {
        this.events.push(...(msg.events as Envelope[]))
      }
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg))
  }

  async waitFor<T>(
    pred: () => T | undefined | false,
    timeoutMs = 10_000,
    what = 'condition',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = pred()
      if (v) return v
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200))
        this.#waiters.push(() => {
          clearTimeout(t)
          r()
        })
      })
    }
  }

  message(type: string): Record<string, unknown> | undefined {
    return this.messages.find((m) => m.type === type)
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve()
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }
}

/** Every stored event of the world with id in (after, upTo], in id order (XRANGE read-back). */
export async function storedEvents(
  redis: Redis,
  prefix: string,
  world: string,
  after: string | null,
  upTo: string,
): Promise<Envelope[]> {
  const keys = await redis.keys(`${prefix}:{${world}}:ch:*`)
  const all: Envelope[] = []
  for (const key of keys) {
    const entries = await redis.xrange(key, after === null ? '-' : `(${after}`, upTo)
    for (const [, fields] of entries) {
      const i = fields.indexOf('e')
      all.push(JSON.parse(fields[i + 1]!) as Envelope)
    }
  }
  return all.sort((a, b) => compare(a.id, b.id))
}

export function compare(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am - bm || as - bs
}

export function expectIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (compare(ids[i]!, ids[i - 1]!) <= 0) {
      throw new Error(`ids not strictly increasing at ${i}: ${ids[i - 1]} then ${ids[i]}`)
    }
  }
}

// ---------------------------------------------------------------------------
// A redis-server of the test's own (to kill and restart)
// ---------------------------------------------------------------------------

export interface RedisServer {
  url: string
  port: number
  /** Kills the server (SIGKILL by default: a crash, nothing saved) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port: empty, since nothing is ever persisted. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts `redis-server` from PATH on a free loopback port with persistence off
 * (`--save "" --appendonly no`), so every restart comes back empty.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | null = null
  let exited: Promise<void> = Promise.resolve()
  const output: string[] = []
  const launch = async () => {
    const c = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let failed: Error | null = null
    c.once('error', (err) => (failed = err))
    c.stdout!.on('data', (d: Buffer) => output.push(d.toString()))
    c.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
    child = c
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    const deadline = Date.now() + 10_000
    for (;;) {
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      probe.on('error', () => undefined)
      try {
        await probe.connect()
        if ((await probe.ping()) === 'PONG') return
      } catch {
        // not up yet
      } finally {
        probe.disconnect()
      }
      if (failed)
        throw new Error(
          `this test needs redis-server on PATH to start and restart its own Redis: ${(failed as Error).message}`,
        )
      if (Date.now() > deadline || c.exitCode !== null)
        throw new Error(`redis-server did not start on ${port}: ${output.join('')}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  await launch()
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  return {
    url,
    port,
    kill,
    restart: launch,
    stop: () => kill('SIGTERM'),
  }
}

/** A REST call to the stack's gateway: status and parsed JSON body. */
export interface RestAnswer {
  status: number
  body: Record<string, any>
}

/**
 * REST helpers bound to a stack that is started later (tests build it in beforeAll).
 *
 * @example
 * const { call, state } = rest(() => stack)
 * expect((await call('POST', '/api/simulation/pause')).status).toBe(200)
 */
export function rest(stack: () => Stack) {
  async function call(method: string, path: string, body?: unknown): Promise<RestAnswer> {
    const r = await fetch(`${stack().gatewayUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: r.status, body: (await r.json()) as RestAnswer['body'] }
  }
  return { call, state: async () => (await call('GET', '/api/simulation/state')).body }
}

/** Polls `fn` every 200 ms until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function until<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
