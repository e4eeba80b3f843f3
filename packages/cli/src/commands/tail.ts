/**
 * `verisim tail`: a running simulator's events on standard output, through the
 * SDK (@verisim/client over WebSocket): in id order, resumed without gap or
 * duplicate across reconnects, from now or after `--last-id`. Pretty lines on a
 * terminal, the envelopes as NDJSON when piped; stops after `--limit` events,
 * after `--for`, or on Ctrl-C, with exit code 0.
 */
import { styleText } from 'node:util'
import type { Command } from 'commander'
import WebSocket from 'ws'
import {
  createClient,
  isEventId,
  MAX_TOPICS,
  type StateInfo,
  type StreamEvent,
  type VerisimClientError,
} from '@verisim/client'
import { CliFailure, UsageError } from '../errors.js'
import type { Io } from '../io.js'
import { parseDuration } from '../lib/options.js'
import {
  addServerOptions,
  serverSettings,
  wsEndpoint,
  type Server,
  type ServerFlags,
} from '../lib/server.js'

export type TailFormat = 'pretty' | 'ndjson'

export interface TailSettings {
  server: Server
  topics: string[]
  lastId: string | null
  format: TailFormat
  /** Stop after this many events. */
  limit: number | undefined
  /** Stop after this long (wall ms). */
  forMs: number | undefined
  /** Failed connection attempts in a row before giving up (0: give up at the first). */
  retries: number
  /** ANSI colours in pretty lines: stdout is a terminal and NO_COLOR is not set. */
  color: boolean
}

interface TailFlags extends ServerFlags {
  topics?: string
  lastId?: string
  format?: string
  limit?: string
  for?: string
  retries?: string
}

export const DEFAULT_RETRIES = 10
/** Reconnect schedule: 0.25 s doubling to 5 s, half of each delay randomised (10 attempts ≈ 16–33 s). */
const RECONNECT = { initialMs: 250, maxMs: 5_000, jitter: 0.5 }

const q = (v: string) => JSON.stringify(v)

function count(flag: string, v: string, min: number): number {
  const n = Number(v)
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${flag} ${q(v)} is invalid; expected an integer ≥ ${min}`)
  return n
}

/** The tail settings from its flags and the environment; every bad value is a UsageError naming its flag. */
export function tailSettings(opts: TailFlags, io: Io): TailSettings {
  const server = serverSettings(opts, io.env)
  const topics = (opts.topics ?? '*')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
  if (topics.length === 0 || topics.length > MAX_TOPICS)
    throw new UsageError(
      `--topics ${q(opts.topics ?? '')} is invalid; expected 1 to ${MAX_TOPICS} comma-separated topics, e.g. "*", "session.*,anomalies" or "customer.signup"`,
    )
  let lastId: string | null = null
  if (opts.lastId !== undefined) {
    if (!isEventId(opts.lastId))
      throw new UsageError(
        `--last-id ${q(opts.lastId)} is invalid; expected an event id <ms>-<seq> like 1732350000000-17 (an envelope's "id")`,
      )
    lastId = opts.lastId
  }
  const format = opts.format ?? (io.stdout.isTTY === true ? 'pretty' : 'ndjson')
  if (format !== 'pretty' && format !== 'ndjson')
    throw new UsageError(`--format ${q(format)} is invalid; expected pretty or ndjson`)
  return {
    server,
    topics: [...new Set(topics)],
    lastId,
    format,
    limit: opts.limit === undefined ? undefined : count('--limit', opts.limit, 1),
    forMs: opts.for === undefined ? undefined : parseDuration('--for', opts.for),
    retries: opts.retries === undefined ? DEFAULT_RETRIES : count('--retries', opts.retries, 0),
    color: io.stdout.isTTY === true && !io.env.NO_COLOR,
  }
}

export function registerTail(program: Command, io: Io): void {
  const cmd = program
    .command('tail')
    .description("a running simulator's events, live, in id order (Ctrl-C stops)")
  addServerOptions(cmd)
    .option(
      '--topics <a,b,…>',
      'topics: "*" (default: every stream of the world), <domain>.* (e.g. session.*), a stream name, high-/medium-/low-frequency, anomalies, external-events, simulation_control',
    )
    .option('--last-id <id>', 'resume after this event id (<ms>-<seq>); default: from now')
    .option(
      '--format <pretty|ndjson>',
      'pretty lines, or each envelope as one JSON line (default: pretty on a terminal, ndjson when piped)',
    )
    .option('--limit <n>', 'stop after n events')
    .option('--for <duration>', 'stop after this long, e.g. 30s, 5m, 1h')
    .option(
      '--retries <n>',
      `failed connection attempts in a row before giving up (default ${DEFAULT_RETRIES}; 0: none)`,
    )
    .addHelpText(
      'after',
      `
Reconnects with backoff and resumes after the last event printed: no gap, no duplicate.
Pretty: simulation time, stream, the first fields of data, normalizedValue and the
anomaly flag (warnings yellow, criticals red on a terminal; NO_COLOR turns colours
off); connection changes on standard error. NDJSON: each envelope as it came, one per
line; standard error only for errors.

Exit codes: 0 stopped (--limit, --for, Ctrl-C); 1 the gateway cannot be reached after
the retries, or refused the token; 2 a bad flag (unknown topics included).
`,
    )
    .action(async (opts: TailFlags) => {
      await runTail(tailSettings(opts, io), io)
    })
}

// ── pretty lines ───────────────────────────────────────────────────────────

const STREAM_WIDTH = 30
const FIELDS_WIDTH = 72
const FIELD_COUNT = 4
const VALUE_CHARS = 22

type Style = Parameters<typeof styleText>[0]

const ellipsis = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)

/** The first few scalar fields of `data` as `key=value`, whole fields only, within the column. */
export function keyFields(data: unknown): string {
  if (data === null || typeof data !== 'object') return ''
  let out = ''
  let n = 0
  for (const [k, v] of Object.entries(data)) {
    if (n === FIELD_COUNT) break
    let part: string
    if (typeof v === 'string') part = `${k}=${ellipsis(v, VALUE_CHARS)}`
    else if (typeof v === 'number' || typeof v === 'boolean') part = `${k}=${v}`
    else continue
    const next = out === '' ? part : `${out} ${part}`
    if (next.length > FIELDS_WIDTH) return out === '' ? ellipsis(part, FIELDS_WIDTH) : out
    out = next
    n++
  }
  return out
}

/**
 * One event as a terminal line: simulation time, stream, key fields,
 * normalizedValue and flag; with `color`, warnings yellow and criticals red.
 *
 * @example
 * formatPretty(event, false)
 * // '2026-11-23 10:15:00  session.completed   sessionId=ses_8f2 tutorId=tut_19 …   52.3 normal'
 */
export function formatPretty(e: StreamEvent, color: boolean): string {
  const paint = (style: Style, text: string) =>
    color ? styleText(style, text, { validateStream: false }) : text
  const flag = e.anomalyFlag
  const level: Style | null = flag === 'critical' ? 'red' : flag === 'warning' ? 'yellow' : null
  const time = typeof e.timestamp === 'string' ? e.timestamp.slice(0, 19).replace('T', ' ') : '?'
  const stream = String(e.stream).padEnd(STREAM_WIDTH)
  const value =
    typeof e.normalizedValue === 'number' ? e.normalizedValue.toFixed(1).padStart(5) : '    -'
  const causes = Array.isArray(e.causes) && e.causes.length > 0 ? `  ← ${e.causes.join(', ')}` : ''
  return (
    `${paint('dim', time)}  ${level ? paint(level, stream) : paint('cyan', stream)}  ` +
    `${keyFields(e.data).padEnd(FIELDS_WIDTH)}  ` +
    `${level ? paint(level, value) : value} ` +
    `${level ? paint(flag === 'critical' ? ['red', 'bold'] : level, String(flag)) : paint('dim', String(flag))}` +
    `${causes && paint('dim', causes)}`
  )
}

// ── the run ────────────────────────────────────────────────────────────────

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/**
 * Tails until `--limit`, `--for` or a signal (resolves), or until the gateway
 * is out of reach or refuses (rejects with CliFailure / UsageError).
 */
export async function runTail(s: TailSettings, io: Io): Promise<void> {
  const pretty = s.format === 'pretty'
  const say = (msg: string) => void io.stderr.write(`verisim: ${msg}\n`)
  const status = (msg: string) => {
    if (pretty) say(msg)
  }
  // The SDK reports a failed connection by its close code alone; the socket's
  // own error ("connect ECONNREFUSED …", "Unexpected server response: 503") says why.
  let socketError: string | null = null
  class ReportingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url)
      this.on('error', (err) => (socketError = err.message))
      this.on('open', () => (socketError = null))
    }
  }
  const client = createClient({
    url: wsEndpoint(s.server),
    topics: s.topics,
    WebSocket: ReportingWebSocket,
    ...(s.server.token === undefined ? {} : { token: s.server.token }),
    lastId: s.lastId,
    snapshot: false,
    reconnect: { ...RECONNECT, maxAttempts: Math.max(1, s.retries) },
  })
  const topics = s.topics.join(',')
  const why = (info: StateInfo) =>
    info.error?.message ??
    socketError ??
    (info.code !== undefined
      ? `closed with code ${info.code}${info.reason ? `: ${info.reason}` : ''}`
      : 'closed')

  await new Promise<void>((resolve, reject) => {
    let done = false
    let printed = 0
    /** Connections opened so far. */
    let opens = 0
    let announced = false
    /**
     * The first connection's status line: on its `subscribed`, or before its first
     * events (a subscribe without a resume point may get a live batch before the
     * acknowledgement).
     */
    const announce = () => {
      if (announced) return
      announced = true
      const from = s.lastId !== null ? `after ${s.lastId}` : 'from now'
      status(`tailing ${topics} ${from} (Ctrl-C stops)`)
    }
    let timer: ReturnType<typeof setTimeout> | undefined

    const finish = (err?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      io.stdout.off('error', onStdoutError)
      client.close().then(() => (err ? reject(err) : resolve()), reject)
    }
    const unreachable = (detail: string) =>
      new CliFailure(
        `${opens === 0 ? 'cannot reach' : 'lost the stream from'} ${s.server.base}: ${detail}`,
      )
    const onSignal = () => finish()
    const onStdoutError = (err: NodeJS.ErrnoException) => {
      // The reader went away (`verisim tail | head`): a normal end.
      if (err.code === 'EPIPE') finish()
      else finish(new CliFailure(`cannot write to standard output: ${err.code ?? err.message}`))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    io.stdout.on('error', onStdoutError)
    if (s.forMs !== undefined) timer = setTimeout(() => finish(), s.forMs)

    client.on('batch', (events) => {
      if (done) return
      const take = s.limit === undefined ? events : events.slice(0, Math.max(0, s.limit - printed))
      if (take.length > 0) {
        if (pretty) announce()
        let out = ''
        for (const e of take) out += `${pretty ? formatPretty(e, s.color) : JSON.stringify(e)}\n`
        io.stdout.write(out)
        printed += take.length
      }
      if (s.limit !== undefined && printed >= s.limit) finish()
    })

    client.on('state', (state, info) => {
      if (done) return
      if (state === 'connecting') status(`connecting to ${s.server.base} (topics ${topics})`)
      else if (state === 'open') opens++
      else if (state === 'reconnecting') {
        const reason = why(info)
        if (s.retries === 0) return finish(unreachable(reason))
        const what = opens > 0 ? 'connection lost' : 'cannot connect'
        status(
          `${what} (${reason}); retrying in ${secs(info.delayMs ?? 0)} (attempt ${info.attempt} of ${s.retries})`,
        )
      }
    })

    client.on('subscribed', (info) => {
      if (done) return
      if (opens <= 1) announce()
      else status(`reconnected; resuming after ${client.lastId ?? info.lastId ?? 'the start'}`)
    })

    client.on('reset', ({ reason, lastId }) => {
      if (done) return
      const what =
        reason === 'too_old'
          ? 'it is older than what the gateway still keeps'
          : 'the stored streams were lost since (the epoch changed)'
      say(
        `warning: cannot resume after ${lastId ?? 'the last event'}: ${what} (${reason}); going on from now, events in between are missing`,
      )
    })

    client.on('error', (err: VerisimClientError) => {
      if (done) return
      switch (err.code) {
        case 'VS_GW_UNAUTHORIZED':
          return finish(new CliFailure(`${err.code}: ${err.message}`))
        case 'VS_GW_UNKNOWN_TOPIC':
        case 'VS_GW_INVALID_MESSAGE':
        case 'VS_GW_BAD_MESSAGE':
          return finish(new UsageError(`--topics ${q(topics)}: ${err.code}: ${err.message}`))
        case 'VS_CLIENT_RECONNECT_EXHAUSTED': {
          const cause = (err.cause as VerisimClientError | undefined)?.message ?? socketError
          return finish(
            unreachable(
              `gave up after ${s.retries} ${s.retries === 1 ? 'retry' : 'retries'}${cause ? `; last: ${cause}` : ''}`,
            ),
          )
        }
        case 'VS_GW_INTERNAL':
          // "gateway not ready" or a failed catch-up: the SDK drops the connection
          // and resumes, and the `reconnecting` line (pretty mode) gives the reason.
          return
        default:
          say(`${err.code}: ${err.message}`)
      }
    })
  })
}
