/**
 * The control stream between gateways and the generator (DESIGN.md "Redis is
 * the only shared state"): gateways append commands with a `requestId`; the
 * generator takes them in order, applies each once, stores its result under the
 * requestId (a repeated id gets the stored result and applies nothing) and
 * records it in the control log with the simulation time it took effect.
 */
import type { Redis } from 'ioredis'
import type { ControlCommand, ControlResult } from '@verisim/schema'
import type { WorldKeys } from './keys.js'

/** How long results are kept for idempotent replays. */
export const CONTROL_RESULT_TTL_S = 24 * 60 * 60

export async function sendControl(
  redis: Redis,
  keys: WorldKeys,
  cmd: ControlCommand,
): Promise<string> {
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

/** Stores a result unless one exists; returns the one that is stored now. */
export async function storeControlResult(
  redis: Redis,
  keys: WorldKeys,
  result: ControlResult,
): Promise<ControlResult> {
  const prev = (await redis.call(
    'SET',
    keys.controlResult(result.requestId),
    JSON.stringify(result),
    'NX',
    'GET',
    'EX',
    String(CONTROL_RESULT_TTL_S),
  )) as string | null
  return prev === null ? result : (JSON.parse(prev) as ControlResult)
}

export interface ControlEntry {
  /** Control stream id (the generator's cursor). */
  entryId: string
  command: ControlCommand
}

function parseEntry(entryId: string, fields: string[]): ControlEntry {
  const get = (k: string) => fields[fields.indexOf(k) + 1] ?? ''
  let payload: Record<string, unknown> = {}
  try {
    const p = JSON.parse(get('p') || '{}') as unknown
    if (p && typeof p === 'object' && !Array.isArray(p)) payload = p as Record<string, unknown>
  } catch {
    // A malformed payload is applied as empty and fails validation downstream.
  }
  return {
    entryId,
    command: { requestId: get('r'), action: get('a') as ControlCommand['action'], payload },
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

/** Appends an applied command to the control log. */
export async function logControl(
  redis: Redis,
  keys: WorldKeys,
  entry: { command: ControlCommand; simTime: number; success: boolean },
): Promise<void> {
  await redis.xadd(
    keys.controlLog,
    'MAXLEN',
    '~',
    '100000',
    '*',
    'r',
    entry.command.requestId,
    'a',
    entry.command.action,
    'p',
    JSON.stringify(entry.command.payload),
    'sim',
    new Date(entry.simTime).toISOString(),
    'ok',
    entry.success ? '1' : '0',
  )
}
