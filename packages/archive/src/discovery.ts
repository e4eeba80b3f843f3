/**
 * PostgreSQL discovery: which database the archive uses, decided as Redis's is
 * (DESIGN.md "Running"):
 *
 * 1. `DATABASE_URL`, when set — it must answer, or discovery fails (a wrong URL
 *    is a mistake to report, not a reason to fall back silently);
 * 2. `postgres://postgres@127.0.0.1:5432/postgres`, when it answers;
 * 3. a `postgres` from PATH (with `initdb`), started in a temporary data
 *    directory on a free loopback port and removed by `stop()`;
 * 4. Testcontainers' PostgreSQL, only with `allowContainer` (tests) and a Docker engine;
 * 5. otherwise a {@link PostgresUnavailableError} naming the ways to get one.
 *    The archive is optional: callers run without it and say so once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { findOnPath, freePort } from '@verisim/bus'

export type PostgresSource = 'env' | 'default' | 'spawned' | 'container'

export interface PostgresHandle {
  /** Connection URL, ready for `new pg.Pool({ connectionString })`. */
  readonly url: string
  readonly source: PostgresSource
  /** Stops and removes a server discovery started; a no-op otherwise. Idempotent. */
  stop(): Promise<void>
  /**
   * A server discovery started only: stops it (`crash`: an immediate shutdown,
   * recovered from its log at the next start) and starts it again on the same
   * data and port. For fault tests.
   */
  restart?(opts?: { crash?: boolean }): Promise<void>
}

export interface DiscoverPostgresOptions {
  /** One line per decision; silent when omitted. */
  log?: (msg: string) => void
  /** Environment to read `DATABASE_URL` and `PATH` from; `process.env` when omitted. */
  env?: NodeJS.ProcessEnv
  /** The address of step 2. */
  defaultUrl?: string
  /** Allow step 3 (start a server from PATH). Default true. */
  allowSpawn?: boolean
  /** How long a spawned server may take to accept connections (ms). Default 30000. */
  startTimeoutMs?: number
  /** Allow Testcontainers' PostgreSQL as the last resort. Tests only: production never loads it. */
  allowContainer?: boolean
}

/** Image used when discovery falls back to a container (tests only). */
export const POSTGRES_CONTAINER_IMAGE = 'postgres:15-alpine'

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

const HOW_TO_GET_POSTGRES = [
  'set DATABASE_URL to a PostgreSQL you can reach (e.g. DATABASE_URL=postgres://user:pass@localhost:5432/verisim)',
  'run PostgreSQL on 127.0.0.1:5432 accepting user postgres (e.g. `apt-get install postgresql`)',
  'put `postgres` and `initdb` on PATH so one can be started for the run',
]

export class PostgresUnavailableError extends Error {
  readonly code = 'VS_ARCHIVE_POSTGRES_UNAVAILABLE' as const
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'PostgresUnavailableError'
  }
}

/**
 * Finds (or starts) a PostgreSQL for the archive. Call `stop()` when done.
 *
 * @example
 * const db = await discoverPostgres({ log: (m) => console.error(m) })
 * try { await migrateArchive(db.url) } finally { await db.stop() }
 */
export async function discoverPostgres(
  opts: DiscoverPostgresOptions = {},
): Promise<PostgresHandle> {
  const env = opts.env ?? process.env
  const log = opts.log ?? (() => {})
  const fromEnv = env.DATABASE_URL?.trim()
  if (fromEnv) {
    try {
      await probe(fromEnv, 5000)
    } catch (err) {
      throw new PostgresUnavailableError(
        `DATABASE_URL is set to ${redact(fromEnv)} but that PostgreSQL did not answer (${describe(err)}). ` +
          'Fix or unset DATABASE_URL (when unset, PostgreSQL is looked for on 127.0.0.1:5432, then started from `postgres` on PATH).',
        err,
      )
    }
    log(`postgres: using DATABASE_URL ${redact(fromEnv)}`)
    return fixed(fromEnv, 'env')
  }
  const failures: string[] = []
  const defaultUrl = opts.defaultUrl ?? DEFAULT_DATABASE_URL
  try {
    await probe(defaultUrl, 1000)
    log(`postgres: using ${redact(defaultUrl)}`)
    return fixed(defaultUrl, 'default')
  } catch (err) {
    failures.push(`${redact(defaultUrl)} did not answer (${describe(err)})`)
  }
  if (opts.allowSpawn !== false) {
    const path = env.PATH ?? ''
    const server = findOnPath('postgres', path)
    const initdb = findOnPath('initdb', path)
    if (server && initdb) {
      try {
        return await spawnPostgres(server, initdb, opts.startTimeoutMs ?? 30_000, log)
      } catch (err) {
        failures.push(`starting ${server} failed (${describe(err)})`)
      }
    } else {
      failures.push('no postgres and initdb on PATH')
    }
  }
  if (opts.allowContainer) {
    try {
      // Imported on demand: a devDependency that production images do not contain.
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
      const container = await new PostgreSqlContainer(POSTGRES_CONTAINER_IMAGE).start()
      log(`postgres: started a ${POSTGRES_CONTAINER_IMAGE} container`)
      let stopped: Promise<void> | undefined
      return {
        url: container.getConnectionUri(),
        source: 'container',
        stop: () => (stopped ??= container.stop().then(() => undefined)),
      }
    } catch (err) {
      failures.push(`no PostgreSQL container (${describe(err)})`)
    }
  }
  throw new PostgresUnavailableError(
    `No PostgreSQL available: ${failures.join('; ')}. To get one, either\n` +
      HOW_TO_GET_POSTGRES.map((way, i) => `  ${i + 1}. ${way}`).join('\n'),
  )
}

function fixed(url: string, source: PostgresSource): PostgresHandle {
  return { url, source, stop: async () => {} }
}

/** One connection, one `SELECT 1`, no retries. */
export async function probe(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * `initdb` into a temporary directory, then `postgres` on a free port (trust
 * authentication, loopback only, no fsync: the data lives for this run, but a
 * crash of the server process loses no acknowledged commit). As
 * root it runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
async function spawnPostgres(
  server: string,
  initdb: string,
  startTimeoutMs: number,
  log: (msg: string) => void,
): Promise<PostgresHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'verisim-pg-'))
  const ids = runAs()
  if (ids) chownSync(dir, ids.uid, ids.gid)
  const data = join(dir, 'data')
  const init = spawnSync(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8'], {
    encoding: 'utf8',
    ...(ids ?? {}),
  })
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim()}`)
  }
  const port = await freePort()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  let child: ChildProcess | null = null
  const kill = (): void => void child?.kill('SIGINT')
  process.once('exit', kill)

  /** Starts the server on the data directory and waits until it accepts connections. */
  const launch = async (): Promise<void> => {
    const c = spawn(
      server,
      [
        ...['-D', data, '-p', String(port), '-k', dir],
        // No fsync (the data lives for this run), but commits are synchronous: a
        // server process that crashes keeps every transaction it acknowledged.
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...(ids ?? {}) },
    )
    child = c
    let output = ''
    c.stderr?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-2000)
    })
    let exited = false
    c.once('exit', () => {
      exited = true
      if (child === c) child = null
    })
    const deadline = Date.now() + startTimeoutMs
    for (;;) {
      if (exited) throw new Error(`postgres exited during start: ${output.trim() || 'no output'}`)
      try {
        await probe(url, 1000)
        return
      } catch (err) {
        if (Date.now() > deadline) {
          c.kill('SIGKILL')
          throw new Error(
            `postgres did not accept connections within ${startTimeoutMs} ms (${describe(err)})`,
          )
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }
  /** Stops the server: `SIGINT` is a fast shutdown, `SIGQUIT` an immediate one (a crash, recovered at the next start). */
  const halt = async (signal: 'SIGINT' | 'SIGQUIT'): Promise<void> => {
    const c = child
    if (!c) return
    const gone = new Promise<void>((r) => c.once('exit', () => r()))
    c.kill(signal)
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))])
    if (child === c) c.kill('SIGKILL')
    await gone
  }

  try {
    await launch()
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  log(`postgres: started ${server} on 127.0.0.1:${port} (data in ${dir}, removed at exit)`)
  let stopped: Promise<void> | undefined
  return {
    url,
    source: 'spawned',
    async restart({ crash = false } = {}) {
      await halt(crash ? 'SIGQUIT' : 'SIGINT')
      await launch()
    },
    stop: () =>
      (stopped ??= (async () => {
        process.off('exit', kill)
        await halt('SIGINT')
        rmSync(dir, { recursive: true, force: true })
      })()),
  }
}

/** The `postgres` user's ids when running as root; undefined otherwise. */
function runAs(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root and there is no `postgres` user to run the server as')
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

/** The URL without its password. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(an unparsable URL)'
  }
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0])
  return err instanceof Error ? err.message || err.name : String(err)
}
