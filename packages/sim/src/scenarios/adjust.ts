/**
 * Manual modifiers (the control action adjust_behavior): input checks with
 * messages naming the field, and how adjustments and modifiers are described.
 */
import type { ModifierTarget, ModifierType, StreamModifier } from '@verisim/schema'
import { parseIsoDuration } from '../durations.js'
import { SimError, SimErrorCode } from '../errors.js'
import { compileModifier, isProblem, type CompiledModifier } from '../modifiers.js'
import type { World } from '../world/types.js'
import type { BehaviorAdjustment } from './types.js'
import { show } from './compile.js'
export interface Adjustment {
  readonly id: string
  readonly mod: CompiledModifier
  readonly start: number
  readonly end: number
  readonly duration: string | null
}

export const iso = (ms: number): string => new Date(ms).toISOString()

const ADJUST_FIELDS = ['stream', 'type', 'target', 'value', 'duration', 'id'] as const
const MODIFIER_TYPES: readonly string[] = ['multiplier', 'additive', 'override', 'probabilityShift']
const MODIFIER_TARGETS: readonly string[] = ['rate', 'value', 'probability']
const ADJUST_ID = /^[A-Za-z0-9_.-]{1,64}$/

/** Checks an adjustBehavior input and compiles its modifier; throws `VS_SIM_BAD_ARGUMENT` naming the field. */
export function resolveAdjustment(
  world: World,
  input: unknown,
): { mod: CompiledModifier; durationMs?: number; duration?: string; id?: string } {
  const bad = (field: string, rule: string, found?: unknown): never => {
    throw new SimError(
      SimErrorCode.badArgument,
      `${field}: expected ${rule}${found === undefined ? '' : `, found ${show(found)}`}`,
    )
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return bad('(root)', 'an object { stream, type, value, target?, duration?, id? }', input)
  const x = input as Record<string, unknown>
  for (const k of Object.keys(x))
    if (!(ADJUST_FIELDS as readonly string[]).includes(k))
      throw new SimError(
        SimErrorCode.badArgument,
        `${k}: unexpected field; the fields are ${ADJUST_FIELDS.join(', ')}`,
      )
  if (typeof x.stream !== 'string' || x.stream === '')
    bad('stream', 'a stream name, "<domain>.*" or "*"', x.stream)
  if (typeof x.type !== 'string' || !MODIFIER_TYPES.includes(x.type))
    bad('type', `one of ${MODIFIER_TYPES.map((t) => `"${t}"`).join(', ')}`, x.type)
  if (
    x.target !== undefined &&
    (typeof x.target !== 'string' || !MODIFIER_TARGETS.includes(x.target))
  )
    bad('target', `one of ${MODIFIER_TARGETS.map((t) => `"${t}"`).join(', ')}`, x.target)
  if (typeof x.value !== 'number') bad('value', 'a number', x.value)
  let durationMs: number | undefined
  if (x.duration !== undefined) {
    durationMs = typeof x.duration === 'string' ? parseIsoDuration(x.duration) : undefined
    if (durationMs === undefined || durationMs <= 0)
      bad('duration', 'a positive ISO 8601 duration (e.g. PT2H, PT30M, P1D)', x.duration)
  }
  if (x.id !== undefined && (typeof x.id !== 'string' || !ADJUST_ID.test(x.id)))
    bad('id', '1 to 64 letters, digits, "_", "-" or "."', x.id)
  const spec: StreamModifier = {
    stream: x.stream as string,
    type: x.type as ModifierType,
    value: x.value as number,
    ...(x.target === undefined ? {} : { target: x.target as ModifierTarget }),
  }
  const mod = compileModifier(world, spec)
  if (isProblem(mod)) return bad(mod.path.slice(1) || '(root)', mod.rule, mod.found)
  return {
    mod,
    ...(durationMs === undefined ? {} : { durationMs, duration: x.duration as string }),
    ...(x.id === undefined ? {} : { id: x.id as string }),
  }
}

export function describeAdjustment(a: Adjustment): BehaviorAdjustment {
  return {
    id: a.id,
    cause: `manual:${a.id}`,
    stream: a.mod.stream,
    type: a.mod.type,
    target: a.mod.target,
    value: a.mod.value,
    duration: a.duration,
    startTime: iso(a.start),
    startMs: a.start,
    endsAt: a.end === Infinity ? null : iso(a.end),
    endMs: a.end === Infinity ? null : a.end,
  }
}

/** `customer.tutor.search rate ×1.5`, `support.ticket.created rate +4`, `… probability = 0.6`. */
export function describeModifier(m: CompiledModifier): string {
  const op =
    m.type === 'multiplier'
      ? `×${m.value}`
      : m.type === 'override'
        ? `= ${m.value}`
        : m.value < 0
          ? `${m.value}`
          : `+${m.value}`
  return `${m.stream} ${m.target} ${op}`
}
