/**
 * The control stream between gateways and the generator (DESIGN.md "Redis is
 * the only shared state"): gateways append commands with a `requestId`; the
 * generator takes them in order, applies each once and commits it in one
 * atomic step: its result stored under the requestId (a repeated id gets the
 * stored result and applies nothing) and the command recorded in the control
 * log with the simulation time it took effect.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { ControlCommand, ControlResult } from '@verisim/schema'
import type { WorldKeys } from './keys.js'
import { luaScript, runScript } from './scripts.js'

/** How long results are kept for idempotent replays. */
export const CONTROL_RESULT_TTL_S = 24 * 60 * 60
/**
 * Seconds a refused command's result is kept: a refusal changed nothing, so a
 * retry only needs it briefly, and a client sending bad commands with fresh ids
 * cannot fill Redis for a day.
 */
export const CONTROL_REFUSED_RESULT_TTL_S = 10 * 60

/**
 * Entries the control log keeps (`MAXLEN ~`, so a little more). A restart needs
 * only the entries after the latest snapshot, which the generator takes at
 * least every half of this many commands.
 */
export const CONTROL_LOG_MAX_LEN = 100_000

/** JSON with object keys sorted at every level: equal values, equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * The digest a requestId is bound to: the action and the payload (key order
 * ignored). The payload must be depth-limited already (the gateway refuses
 * JSON deeper than `MAX_JSON_DEPTH`).
 *
 * @example
 * controlFingerprint('set_speed', { multiplier: 5 }) === controlFingerprint('set_speed', { multiplier: 5 }) // true
 */
export function controlFingerprint(action: string, payload: Record<string, unknown>): string {
  return createHash('sha256')
    .update(action)
    .update('\n')
    .update(canonicalJson(payload))
    .digest('base64url')
    .slice(0, 32)
}

export async function sendControl(
  redis: Redis,
  keys: WorldKeys,
  cmd: ControlCommand,
): Promise<string> {
  const extra: string[] = []
  if (cmd.fingerprint !== undefined) extra.push('f', cmd.fingerprint)
  if (cmd.ref !== undefined) extra.push('n', cmd.ref)
  const id = await redis.xadd(
    keys.control,
    'MAXLEN',
    '~',
    '10000',
    '*',
    'r',
    cmd.requestId,
    'a',
    cmd.action,
    'p',
    JSON.stringify(cmd.payload),
    ...extra,
  )
  return id as string
}

export async function readControlResult(
  redis: Redis,
  keys: WorldKeys,
  requestId: string,
): Promise<ControlResult | null> {
  const raw = await redis.get(keys.controlResult(requestId))
  return raw === null ? null : (JSON.parse(raw) as ControlResult)
}

export interface ControlEntry {
  /** Control stream id (the generator's cursor). */
  entryId: string
  command: ControlCommand
}

/** A stream entry's field reader (names at even positions: a value equal to a field name is no match). */
function fieldReader(fields: string[]): (k: string) => string {
  return (k) => {
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i] === k) return fields[i + 1] as string
    return ''
  }
}

function parseEntry(entryId: string, fields: string[]): ControlEntry {
  const get = fieldReader(fields)
  let payload: Record<string, unknown> = {}
  try {
    const p = JSON.parse(get('p') || '{}') as unknown
    if (p && typeof p === 'object' && !Array.isArray(p)) payload = p as Record<string, unknown>
  } catch {
    // A malformed payload is applied as empty and fails validation downstream.
  }
  const fingerprint = get('f')
  const ref = get('n')
  return {
    entryId,
    command: {
      requestId: get('r'),
      action: get('a') as ControlCommand['action'],
      payload,
      ...(fingerprint === '' ? {} : { fingerprint }),
      ...(ref === '' ? {} : { ref }),
    },
  }
}

/**
 * Reads commands after `cursor` (`$`-like start when null: only new ones),
 * blocking up to `blockMs`. Returns them in order.
 */
export async function readControl(
  redis: Redis,
  keys: WorldKeys,
  cursor: string,
  blockMs: number,
): Promise<ControlEntry[]> {
  const reply = (await redis.xread(
    'COUNT',
    100,
    'BLOCK',
    blockMs,
    'STREAMS',
    keys.control,
    cursor,
  )) as [string, [string, string[]][]][] | null
  if (!reply) return []
  return (reply[0]?.[1] ?? []).map(([id, fields]) => parseEntry(id, fields))
}

const commitScript = luaScript('commitControl-3.lua')

export interface ControlCommit {
  /** The command's control stream id: the generator's cursor moves past it. */
  entryId: string
  command: ControlCommand
  result: ControlResult
  /** Simulation time the command took effect (epoch ms). */
  simTime: number
  /** Append it to the control log (false for read-only commands). */
  log: boolean
  /** Control log length kept (default {@link CONTROL_LOG_MAX_LEN}). */
  maxLen?: number
}

/**
 * Commits an applied command in one atomic step (`commands/commitControl-3.lua`):
 * appends it to the control log with its simulation time, stores its result
 * under its requestId and moves the cursor past it — all or nothing, so a crash
 * never leaves a stored result (a repeated requestId then applies nothing) for a
 * command the log does not hold. When a result was stored already, that one is
 * returned and nothing is logged.
 *
 * @example
 * const { result, logId } = await commitControl(redis, keys, { entryId, command, result, simTime: engine.now, log: true })
 */
export async function commitControl(
  redis: Redis,
  keys: WorldKeys,
  c: ControlCommit,
): Promise<{ result: ControlResult; logId: string | null }> {
  const [stored, logId] = (await runScript(
    redis,
    commitScript,
    [keys.controlResult(c.command.requestId), keys.controlLog, keys.controlCursor],
    [
      JSON.stringify(c.result),
      c.result.success ? CONTROL_RESULT_TTL_S : CONTROL_REFUSED_RESULT_TTL_S,
      c.entryId,
      c.log ? '1' : '0',
      c.maxLen ?? CONTROL_LOG_MAX_LEN,
      c.command.requestId,
      c.command.action,
      JSON.stringify(c.command.payload),
      new Date(c.simTime).toISOString(),
      c.result.success ? '1' : '0',
    ],
  )) as [string, string]
  return {
    result: stored === '' ? c.result : (JSON.parse(stored) as ControlResult),
    logId: logId === '' ? null : logId,
  }
}

/** One control-log entry: a command as it was applied, with its simulation time. */
export interface ControlLogEntry {
  /** Control log stream id. */
  id: string
  command: ControlCommand
  /** Simulation time it took effect (epoch ms; NaN when the entry has none). */
  simTime: number
  /** Whether it was applied (false: refused, nothing changed). */
  ok: boolean
  /** Id of the entry logged before it (`'0-0'`: the first); null for entries from before it was recorded. */
  prev: string | null
}

/**
 * The control log's entries after `after` (exclusive; `'0-0'` for all of them),
 * at most `count`, oldest first.
 */
export async function readControlLog(
  redis: Redis,
  keys: WorldKeys,
  after: string,
  count: number,
): Promise<ControlLogEntry[]> {
  const start = after === '0-0' ? '-' : `(${after}`
  const entries = await redis.xrange(keys.controlLog, start, '+', 'COUNT', count)
  return entries.map(([id, f]) => {
    const get = fieldReader(f)
    return {
      id,
      command: parseEntry(id, f).command,
      simTime: Date.parse(get('sim')),
      ok: get('ok') === '1',
      prev: get('prev') || null,
    }
  })
}

/** Id of the newest control-log entry, or `'0-0'` when the log is empty. */
export async function lastControlLogId(redis: Redis, keys: WorldKeys): Promise<string> {
  const [newest] = await redis.xrevrange(keys.controlLog, '+', '-', 'COUNT', 1)
  return newest?.[0] ?? '0-0'
}
