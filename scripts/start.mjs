#!/usr/bin/env node
/**
 * `pnpm start`: run Verisim locally without Docker.
 *
 * 1. installs dependencies if needed (scripts/pnpm.mjs), builds if a service's
 *    `dist/main.js` is missing or older than the sources;
 * 2. finds Redis (REDIS_URL → 127.0.0.1:6379 → a `redis-server` from PATH started
 *    for this run; see packages/bus/src/discovery.ts);
 * 3. finds PostgreSQL for the archive the same way (DATABASE_URL → 127.0.0.1:5432
 *    → a `postgres` from PATH started for this run; none: runs without it);
 * 4. runs the generator, the gateway and the archiver with REDIS_URL (and
 *    DATABASE_URL) set, their pino lines made readable and tagged `[generator]` …;
 * 5. prints the URLs once the gateway is ready;
 * 6. supervises them: a service that dies on its own is restarted with backoff
 *    (0.5 s doubling to 8 s) and a log line while the other keeps serving; one that
 *    dies within seconds of starting five times in a row stops everything;
 * 7. on Ctrl-C / SIGTERM stops them (SIGTERM, SIGKILL after 10 s), then the Redis and PostgreSQL it
 *    started.
 *
 * Settings come from the environment, then from a `.env` file at the repo root
 * (real environment variables win). See `.env.example`.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseEnv } from 'node:util'
import { ensureInstalled, findPnpm, needsInstall, runPnpm } from './pnpm.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const STOP_GRACE_MS = 10_000

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

const color =
  process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'
    ? true
    : !process.env.NO_COLOR && process.stdout.isTTY === true
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text)
const dim = (text) => paint('2', text)
const bold = (text) => paint('1', text)

const TAGS = {
  start: paint('1;32', '[start]'),
  generator: paint('36', '[generator]'),
  gateway: paint('35', '[gateway]'),
}
const TAG_WIDTH = '[generator]'.length

/** Writes `msg` under a tag, each line prefixed, aligned with the services' lines. */
function say(tag, msg) {
  const pad = ' '.repeat(Math.max(0, TAG_WIDTH - tag.length - 2))
  for (const line of String(msg).split('\n')) process.stdout.write(`${TAGS[tag]}${pad} ${line}\n`)
}

const LEVELS = {
  10: paint('90', 'TRACE'),
  20: paint('34', 'DEBUG'),
  30: paint('32', 'INFO '),
  40: paint('33', 'WARN '),
  50: paint('31', 'ERROR'),
  60: paint('1;41', 'FATAL'),
}
// svc repeats the tag; pid and hostname are the same on every line.
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'svc', 'v'])

/**
 * One pino JSON line → `10:15:00.123 INFO  message key=value …`, with an error's
 * stack on the lines below. Anything that is not a pino line passes unchanged.
 */
export function formatLogLine(line) {
  if (!line.startsWith('{')) return line
  let entry
  try {
    entry = JSON.parse(line)
  } catch {
    return line
  }
  if (typeof entry !== 'object' || entry === null || !('level' in entry)) return line
  const time = typeof entry.time === 'number' ? new Date(entry.time) : new Date()
  const clock = dim(
    time.toTimeString().slice(0, 8) + '.' + String(time.getMilliseconds()).padStart(3, '0'),
  )
  const level = LEVELS[entry.level] ?? String(entry.level).padEnd(5)
  const fields = []
  const stacks = []
  for (const [key, value] of Object.entries(entry)) {
    if (HIDDEN_FIELDS.has(key)) continue
    if (isErrorLike(value)) {
      fields.push(`${key}=${formatValue(value.message)}`)
      if (typeof value.stack === 'string') stacks.push(value.stack)
      continue
    }
    fields.push(`${dim(key + '=')}${formatValue(value)}`)
  }
  const msg = typeof entry.msg === 'string' ? entry.msg : ''
  const head = [clock, level, msg, ...fields].filter(Boolean).join(' ')
  return [head, ...stacks.flatMap((stack) => stack.split('\n').map((l) => '    ' + l))].join('\n')
}

function isErrorLike(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.message === 'string' &&
    (typeof value.stack === 'string' || typeof value.type === 'string')
  )
}

function formatValue(value) {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
  if (typeof value === 'object' && value !== null) return JSON.stringify(value)
  return String(value)
}

/** Feeds a child's output, line by line, through the formatter under its tag. */
function pipeLines(stream, tag) {
  let buffered = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk) => {
    buffered += chunk
    let newline
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '')
      buffered = buffered.slice(newline + 1)
      if (line) say(tag, formatLogLine(line))
    }
  })
  stream.on('end', () => {
    if (buffered) say(tag, formatLogLine(buffered))
    buffered = ''
  })
}

// ---------------------------------------------------------------------------
// Environment, install, build
// ---------------------------------------------------------------------------

/** `.env` at the repo root, without overriding variables already set. */
function loadDotEnv() {
  const file = join(root, '.env')
  if (!existsSync(file)) return
  // Node's own .env parser; assigning only missing keys keeps the real
  // environment in charge whatever the Node version's loadEnvFile does.
  const parsed = parseEnv(readFileSync(file, 'utf8'))
  let loaded = 0
  for (const [key, value] of Object.entries(parsed)) {
    if (process.env[key] === undefined) {
      process.env[key] = value
      loaded++
    }
  }
  say('start', `loaded ${loaded} setting(s) from .env`)
}

const OUTPUTS = [
  'services/generator/dist/main.js',
  'services/gateway/dist/main.js',
  'services/archiver/dist/main.js',
  'packages/bus/dist/index.js',
  'packages/archive/dist/index.js',
  'packages/dashboard/dist/index.html',
]

/** Why a build is needed, or undefined when every output is newer than every source. */
function staleReason() {
  let oldestOutput = Infinity
  for (const output of OUTPUTS) {
    const file = join(root, output)
    if (!existsSync(file)) return `${output} is missing`
    oldestOutput = Math.min(oldestOutput, statSync(file).mtimeMs)
  }
  const sources = [join(root, 'tsconfig.base.json')]
  for (const group of ['packages', 'services']) {
    const groupDir = join(root, group)
    if (!existsSync(groupDir)) continue
    for (const name of readdirSync(groupDir)) {
      const dir = join(groupDir, name)
      sources.push(join(dir, 'package.json'), join(dir, 'tsconfig.json'))
      const src = join(dir, 'src')
      if (!existsSync(src)) continue
      for (const file of readdirSync(src, { recursive: true }))
        sources.push(join(src, String(file)))
    }
  }
  for (const file of sources) {
    if (!existsSync(file)) continue
    const stat = statSync(file)
    if (stat.isFile() && stat.mtimeMs > oldestOutput)
      return `${relative(root, file)} changed since the last build`
  }
  return undefined
}

async function prepare() {
  let pnpm
  const needPnpm = () => (pnpm ??= findPnpm())
  if (needsInstall()) await ensureInstalled(needPnpm(), (msg) => say('start', msg))
  const reason = staleReason()
  if (reason) {
    say('start', `building (${reason}): pnpm turbo run build`)
    const code = await runPnpm(needPnpm(), ['exec', 'turbo', 'run', 'build'])
    if (code !== 0) throw new Error(`the build failed (exit ${code}); its output is above`)
  }
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------

const children = new Map() // name → { child, exited: Promise<{code, signal}> }
let redis
let postgres
let stopping

/** Restart backoff: 0.5 s doubling to 8 s; back to 0.5 s once a process ran a minute. */
export const RESTART = { firstMs: 500, maxMs: 8000, stableMs: 60_000, giveUpAfter: 5 }

/**
 * The supervisor's decision after `name` exited on its own: restart after `delayMs`,
 * or give up when it died `giveUpAfter` times in a row within seconds of starting
 * (a setting or a build that cannot work: restarting would only repeat it).
 *
 * @example
 * nextRestart({ ranMs: 120_000, failures: 3 }) // { delayMs: 500, failures: 1 }
 * nextRestart({ ranMs: 800, failures: 1 })     // { delayMs: 1000, failures: 2 }
 */
export function nextRestart({ ranMs, failures }) {
  const n = ranMs >= RESTART.stableMs ? 1 : failures + 1
  if (ranMs < 5000 && n >= RESTART.giveUpAfter) return { giveUp: true, failures: n }
  return { delayMs: Math.min(RESTART.maxMs, RESTART.firstMs * 2 ** (n - 1)), failures: n }
}

const failures = new Map() // name → consecutive quick failures

function startService(name, env) {
  const startedAt = Date.now()
  const child = spawn(process.execPath, [join(root, `services/${name}/dist/main.js`)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  pipeLines(child.stdout, name)
  pipeLines(child.stderr, name)
  const exited = new Promise((resolve) => {
    child.once('error', (err) => {
      say(name, `could not start: ${err.message}`)
      resolve({ code: null, signal: null, error: err })
    })
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  children.set(name, { child, exited })
  if (child.pid) say('start', dim(`${name} started (pid ${child.pid})`))
  exited.then(({ code, signal }) => {
    if (stopping) return
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    const next = nextRestart({ ranMs: Date.now() - startedAt, failures: failures.get(name) ?? 0 })
    failures.set(name, next.failures)
    if (next.giveUp) {
      say(
        'start',
        paint(
          '31',
          `${name} ${how} ${next.failures} times in a row within seconds of starting; stopping everything (its log is above).`,
        ),
      )
      void shutdown(1)
      return
    }
    say(
      'start',
      paint(
        '33',
        `${name} ${how}; restarting it in ${next.delayMs / 1000} s (restart ${next.failures} in a row); the others keep serving`,
      ),
    )
    setTimeout(() => {
      if (!stopping) startService(name, env)
    }, next.delayMs)
  })
}

async function stopService(name, { child, exited }) {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => {
    say('start', `${name} still running after ${STOP_GRACE_MS / 1000} s: SIGKILL`)
    child.kill('SIGKILL')
  }, STOP_GRACE_MS)
  await exited
  clearTimeout(timer)
}

function shutdown(exitCode) {
  stopping ??= (async () => {
    await Promise.all([...children].map(([name, entry]) => stopService(name, entry)))
    if (redis) {
      try {
        await redis.stop()
      } catch (err) {
        say('start', `stopping Redis failed: ${err instanceof Error ? err.message : err}`)
      }
    }
    if (postgres) {
      try {
        await postgres.stop()
      } catch (err) {
        say('start', `stopping PostgreSQL failed: ${err instanceof Error ? err.message : err}`)
      }
    }
    if (exitCode === 0) say('start', 'stopped')
    process.exit(exitCode)
  })()
  return stopping
}

async function waitForReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (!stopping && Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (res.ok) return true
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

/**
 * The archive's PostgreSQL, found as Redis is (DATABASE_URL → 127.0.0.1:5432 →
 * a `postgres` from PATH started for this run; packages/archive/src/discovery.ts).
 * None, or VERISIM_ARCHIVE=off: the run goes on without the archive, said once.
 */
async function findArchive() {
  if (process.env.VERISIM_ARCHIVE === 'off') {
    return { on: false, reason: 'VERISIM_ARCHIVE=off' }
  }
  const { discoverPostgres, redact } = await import(
    pathToFileURL(join(root, 'packages/archive/dist/index.js')).href
  )
  try {
    postgres = await discoverPostgres({ log: (msg) => say('start', msg) })
  } catch (err) {
    const first = String(err instanceof Error ? err.message : err).split('\n')[0]
    say(
      'start',
      paint(
        '33',
        `running without the archive (journeys, /api/events, replay and aggregates answer 503): ${first}`,
      ),
    )
    return { on: false, reason: 'no PostgreSQL found; see README "The archive"' }
  }
  // A server found or started for the run keeps the archive in a schema of its own.
  const schema = process.env.ARCHIVE_SCHEMA || (postgres.source === 'env' ? 'public' : 'verisim')
  return {
    on: true,
    schema,
    label: `${redact(postgres.url)} (${postgres.source}, schema ${schema})`,
  }
}

async function main() {
  let signals = 0
  const onSignal = (signal) => {
    signals++
    if (signals === 1) {
      say('start', `${signal}: stopping (again to force)`)
      void shutdown(0)
    } else {
      for (const { child } of children.values()) child.kill('SIGKILL')
      void Promise.all([redis?.stop(), postgres?.stop()]).finally(() => process.exit(130))
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  loadDotEnv()
  await prepare()
  if (stopping) return

  const { discoverRedis } = await import(
    pathToFileURL(join(root, 'packages/bus/dist/index.js')).href
  )
  redis = await discoverRedis({ log: (msg) => say('start', msg) })
  if (stopping) {
    await redis.stop()
    return
  }

  const archive = await findArchive()
  if (stopping) return

  const port = process.env.PORT || '8080'
  const generatorPort = process.env.GENERATOR_PORT || '8081'
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    VERISIM_CONFIG_DIR: process.env.VERISIM_CONFIG_DIR || join(root, 'config', 'worlds'),
    ...(archive.on ? { DATABASE_URL: postgres.url, ARCHIVE_SCHEMA: archive.schema } : {}),
  }
  if (!archive.on) delete env.DATABASE_URL
  startService('generator', env)
  startService('gateway', env)
  if (archive.on) startService('archiver', env)

  const ready = await waitForReady(`http://127.0.0.1:${port}/health/ready`, 60_000)
  if (stopping) return
  if (!ready) {
    say(
      'start',
      paint('33', `gateway not ready after 60 s: check http://localhost:${port}/health/ready`),
    )
    return
  }
  const base = `localhost:${port}`
  say(
    'start',
    [
      bold(`Verisim is running`) + dim(` (Redis ${redis.url}, ${redis.source})`),
      `  Admin      http://${base}/admin/`,
      `  WebSocket  ws://${base}/ws`,
      `  SSE        http://${base}/sse?topics=*`,
      `  Ready      http://${base}/health/ready`,
      `  API docs   http://${base}/docs`,
      `  Generator  http://localhost:${generatorPort}/health/ready`,
      archive.on
        ? `  Archive    ${archive.label}`
        : `  Archive    ${paint('33', 'off')} ${dim(`(${archive.reason})`)}`,
      dim('Ctrl-C stops everything.'),
    ].join('\n'),
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    say('start', paint('31', err instanceof Error ? err.message : String(err)))
    void shutdown(1)
  })
}
