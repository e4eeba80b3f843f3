/**
 * Redis discovery: the one place that decides which Redis a run talks to.
 *
 * `pnpm start`, the benchmarks and the tests all call {@link discoverRedis}, which
 * tries, in order:
 *
 * 1. `REDIS_URL`, when set — trusted, but it must answer PING, or discovery fails
 *    (a wrong URL is a mistake to report, not a reason to fall back silently);
 * 2. `redis://127.0.0.1:6379`, when it answers PING;
 * 3. a `redis-server` from PATH, started on a free loopback port with no persistence
 *    and stopped by `stop()` or when this process goes away;
 * 4. Testcontainers' Redis, only with `allowContainer` (tests) and a Docker engine;
 * 5. otherwise a {@link RedisUnavailableError} naming the ways to get a Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants as fsConstants } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { Redis } from 'ioredis'

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export type RedisSource = 'env' | 'default' | 'spawned' | 'container'

export interface RedisHandle {
  /** Connection URL, ready for `new Redis(url)`. */
  readonly url: string
  /** Which discovery step produced it. */
  readonly source: RedisSource
  /**
   * Stops what discovery started (a spawned `redis-server`, a container);
   * a no-op for a Redis found at `REDIS_URL` or the default address. Idempotent.
   */
  stop(): Promise<void>
}

export interface DiscoverOptions {
  /** Allow Testcontainers' Redis as the last resort. Tests only: production never loads it. */
  allowContainer?: boolean
  /** Where progress goes (one line per decision); silent when omitted. */
  log?: (msg: string) => void
  /** Environment to read `REDIS_URL` and `PATH` from; `process.env` when omitted. */
  env?: NodeJS.ProcessEnv
  /** The address checked in step 2; `redis://127.0.0.1:6379` when omitted. */
  defaultUrl?: string
  /** How long a PING may take before that Redis counts as absent (ms). Default 3000 for `REDIS_URL`, 500 for the default address. */
  pingTimeoutMs?: number
  /** How long a spawned `redis-server` may take to answer PING (ms). Default 10000. */
  startTimeoutMs?: number
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

/** Image used when discovery falls back to a container (tests only). */
export const REDIS_CONTAINER_IMAGE = 'redis:7-alpine'

const HOW_TO_GET_REDIS = [
  'set REDIS_URL to a Redis you can reach (e.g. REDIS_URL=redis://localhost:6379)',
  'run Redis on 127.0.0.1:6379 (e.g. `apt-get install redis-server`, or `docker run -p 6379:6379 redis:7-alpine`)',
  'put `redis-server` on PATH so it can be started for the run (or, for tests and `docker compose up`, have a Docker engine running)',
]

export type RedisUnavailableReason = 'redis_url_unreachable' | 'no_redis'

/**
 * No usable Redis. `reason` says whether `REDIS_URL` pointed at a Redis that did not
 * answer (worth retrying: it may be starting) or nothing was found at all.
 */
export class RedisUnavailableError extends Error {
  readonly code = 'VS_BUS_REDIS_UNAVAILABLE' as const
  readonly reason: RedisUnavailableReason
  readonly canRetry: boolean

  constructor(message: string, options: { reason: RedisUnavailableReason; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RedisUnavailableError'
    this.reason = options.reason
    this.canRetry = options.reason === 'redis_url_unreachable'
  }
}

// ---------------------------------------------------------------------------
// discoverRedis
// ---------------------------------------------------------------------------

/**
 * Finds (or starts) a Redis for this run. Call `stop()` on the result when done.
 *
 * @example
 * const redis = await discoverRedis({ log: (m) => console.error(m) })
 * try {
 *   const client = new Redis(redis.url)
 *   // …
 * } finally {
 *   await redis.stop()
 * }
 */
export async function discoverRedis(opts: DiscoverOptions = {}): Promise<RedisHandle> {
  const env = opts.env ?? process.env
  const log = opts.log ?? (() => {})
  const defaultUrl = opts.defaultUrl ?? DEFAULT_REDIS_URL

  const fromEnv = env.REDIS_URL?.trim()
  if (fromEnv) {
    try {
      await ping(fromEnv, opts.pingTimeoutMs ?? 3000)
    } catch (err) {
      throw new RedisUnavailableError(
        `REDIS_URL is set to ${redact(fromEnv)} but that Redis did not answer PING (${describe(err)}). ` +
          'Fix or unset REDIS_URL (when unset, Redis is looked for on 127.0.0.1:6379, then started from `redis-server` on PATH).',
        { reason: 'redis_url_unreachable', cause: err },
      )
    }
    log(`redis: using REDIS_URL ${redact(fromEnv)}`)
    return fixedHandle(fromEnv, 'env')
  }

  const failures: string[] = []
  const causes: unknown[] = []

  try {
    await ping(defaultUrl, opts.pingTimeoutMs ?? 500)
    log(`redis: using ${redact(defaultUrl)}`)
    return fixedHandle(defaultUrl, 'default')
  } catch (err) {
    failures.push(`${redact(defaultUrl)} did not answer (${describe(err)})`)
    causes.push(err)
  }

  const redisServer = findOnPath('redis-server', env.PATH ?? '')
  if (redisServer) {
    try {
      return await spawnRedisServer(redisServer, opts.startTimeoutMs ?? 10_000, log)
    } catch (err) {
      failures.push(`starting ${redisServer} failed (${describe(err)})`)
      causes.push(err)
    }
  } else {
    failures.push('no redis-server on PATH')
  }

  if (opts.allowContainer) {
    try {
      return await startContainer(log)
    } catch (err) {
      failures.push(`no Redis container (${describe(err)})`)
      causes.push(err)
    }
  }

  throw new RedisUnavailableError(
    `No Redis available: ${failures.join('; ')}. To get one, either\n` +
      HOW_TO_GET_REDIS.map((way, i) => `  ${i + 1}. ${way}`).join('\n'),
    { reason: 'no_redis', cause: new AggregateError(causes, 'every Redis discovery step failed') },
  )
}

function fixedHandle(url: string, source: RedisSource): RedisHandle {
  return { url, source, stop: async () => {} }
}

// ---------------------------------------------------------------------------
// PING
// ---------------------------------------------------------------------------

/**
 * One connection, one PING, no retries: ioredis' own reconnect loop would turn an
 * absent Redis into a stream of errors, so it is switched off and errors are
 * reported once through the returned promise.
 */
async function ping(url: string, timeoutMs: number): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  })
  // The first socket error (ECONNREFUSED, ENOTFOUND, …) says more than the
  // "Connection is closed." that connect() rejects with after it.
  let socketError: Error | undefined
  client.on('error', (err: Error) => {
    socketError ??= err
  })
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    })
    const answer = await Promise.race([client.connect().then(() => client.ping()), timeout])
    if (answer !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(answer)}`)
  } catch (err) {
    throw socketError ?? err
  } finally {
    clearTimeout(timer)
    client.disconnect()
  }
}

// ---------------------------------------------------------------------------
// Spawned redis-server
// ---------------------------------------------------------------------------

/**
 * A small shell keeps watch between us and redis-server: it starts the server, then
 * blocks reading its stdin, which is a pipe from this process. When that pipe
 * closes — `stop()`, a normal exit, a crash or even SIGKILL of this process — the
 * read returns and the shell stops the server, so no redis-server outlives the run.
 */
const WATCHDOG = [
  '"$0" "$@" &',
  'pid=$!',
  'while read -r _; do :; done',
  'kill "$pid" 2>/dev/null',
  'wait "$pid"',
].join('\n')

async function spawnRedisServer(
  bin: string,
  startTimeoutMs: number,
  log: (msg: string) => void,
): Promise<RedisHandle> {
  let lastError: unknown
  // A free port can be taken between our probe and the server's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    try {
      return await startRedisServerOn(bin, port, startTimeoutMs, log)
    } catch (err) {
      lastError = err
    }
  }
  throw lastError
}

async function startRedisServerOn(
  bin: string,
  port: number,
  startTimeoutMs: number,
  log: (msg: string) => void,
): Promise<RedisHandle> {
  const url = `redis://127.0.0.1:${port}`
  const settings: Array<[string, string]> = [
    ['port', String(port)],
    ['bind', '127.0.0.1'],
    ['save', ''], // no RDB snapshots
    ['appendonly', 'no'],
    ['dir', tmpdir()],
    ['daemonize', 'no'],
    ['loglevel', 'warning'],
  ]
  const args = settings.flatMap(([name, value]) => [`--${name}`, value])
  // detached: its own process group, so a Ctrl-C meant for the run reaches the
  // services first and the caller decides when Redis goes (after them).
  const child = spawn('/bin/sh', ['-c', WATCHDOG, bin, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  const output = tail(child, 20)
  let exited = false
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      resolve()
    })
    child.once('error', (err) => {
      output.push(String(err))
      exited = true
      resolve()
    })
  })

  let serverPid: number | undefined
  const killServer = (): void => {
    if (serverPid !== undefined) {
      try {
        process.kill(serverPid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  const onProcessExit = (): void => {
    child.stdin?.destroy()
    killServer()
  }

  try {
    const deadline = Date.now() + startTimeoutMs
    for (;;) {
      if (exited)
        throw new Error(`redis-server exited during start: ${output.text() || 'no output'}`)
      try {
        await ping(url, 500)
        break
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(
            `redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms (${describe(err)}): ${output.text() || 'no output'}`,
          )
        }
      }
      await Promise.race([sleep(50), exit])
    }
    serverPid = await serverProcessId(url)
  } catch (err) {
    child.stdin?.end()
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await exit
    clearTimeout(killer)
    throw err
  }

  process.once('exit', onProcessExit)
  // Do not keep the event loop alive for the server's sake: a run that forgets
  // stop() still ends, and the watchdog then stops the server.
  child.unref()
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Socket | null)?.unref()

  log(`redis: started ${bin} on 127.0.0.1:${port} (pid ${serverPid ?? child.pid}) for this run`)

  let stopping: Promise<void> | undefined
  return {
    url,
    source: 'spawned',
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', onProcessExit)
        if (!exited) {
          child.ref()
          child.stdin?.end()
          const killer = setTimeout(() => {
            killServer()
            child.kill('SIGKILL')
          }, 5000)
          await exit
          clearTimeout(killer)
        }
        log(`redis: stopped redis-server on 127.0.0.1:${port}`)
      })()
      return stopping
    },
  }
}

/** redis-server's own pid (the child we spawned is the watchdog shell). */
async function serverProcessId(url: string): Promise<number | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.info('server')
    const match = /^process_id:(\d+)/m.exec(info)
    return match?.[1] === undefined ? undefined : Number(match[1])
  } catch {
    return undefined
  } finally {
    client.disconnect()
  }
}

function tail(child: ChildProcess, maxLines: number): { push(line: string): void; text(): string } {
  const lines: string[] = []
  const push = (line: string): void => {
    if (!line.trim()) return
    lines.push(line.trim())
    if (lines.length > maxLines) lines.shift()
  }
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8')
    stream?.on('data', (chunk: string) => chunk.split('\n').forEach(push))
  }
  return { push, text: () => lines.join(' | ') }
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; it may be taken again before use). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))))
    })
  })
}

/** The first executable `name` in the directories of `path` (a PATH value). */
export function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, fsConstants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Container (tests only)
// ---------------------------------------------------------------------------

async function startContainer(log: (msg: string) => void): Promise<RedisHandle> {
  // Imported on demand: a devDependency that production images do not contain.
  const { RedisContainer } = await import('@testcontainers/redis')
  const container = await new RedisContainer(REDIS_CONTAINER_IMAGE).start()
  const url = container.getConnectionUrl()
  log(`redis: started container ${REDIS_CONTAINER_IMAGE} at ${url}`)
  let stopping: Promise<void> | undefined
  return {
    url,
    source: 'container',
    stop() {
      stopping ??= container
        .stop()
        .then(() => log(`redis: stopped container ${REDIS_CONTAINER_IMAGE}`))
      return stopping
    },
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** The URL with any password replaced, safe for logs and error messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<unparseable URL>'
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0)
    return err.errors.map(describe).join(', ')
  if (err instanceof Error) return err.message || err.name
  return String(err)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
