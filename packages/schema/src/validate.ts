/**
 * Compiled validators with readable errors, and the parser for client frames.
 */
import { Compile } from 'typebox/compile'
import type { TSchema, Static } from 'typebox'
import {
  ClientMessageSchemas,
  MAX_FRAME_BYTES,
  MAX_JSON_DEPTH,
  ProtocolErrorCode,
  type ClientMessage,
  type ClientMessageType,
} from './messages.js'

export interface Validator<T> {
  check(value: unknown): value is T
  /** Human-readable problems, e.g. `/topics/0: must be string`; empty when valid. */
  problems(value: unknown, limit?: number): string[]
}

/** Compiles a TypeBox schema once into a validator reporting JSON paths. */
export function compileValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  const compiled = Compile(schema)
  return {
    check: (value: unknown): value is Static<S> => compiled.Check(value),
    problems(value, limit = 5) {
      const out: string[] = []
      for (const e of compiled.Errors(value)) {
        if (e.keyword === 'boolean') continue // duplicate of the additionalProperties error
        out.push(describeError(e))
        if (out.length >= limit) break
      }
      return out
    },
  }
}

interface TypeBoxError {
  keyword: string
  instancePath: string
  message: string
  params: Record<string, unknown>
}

function describeError(e: TypeBoxError): string {
  const path = e.instancePath === '' ? '(root)' : e.instancePath
  if (e.keyword === 'additionalProperties' && Array.isArray(e.params.additionalProperties)) {
    return `${path}: unexpected field ${e.params.additionalProperties.map((p) => JSON.stringify(p)).join(', ')}`
  }
  if (e.keyword === 'required' && Array.isArray(e.params.requiredProperties)) {
    return `${path}: missing required field ${e.params.requiredProperties.map((p) => JSON.stringify(p)).join(', ')}`
  }
  if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
    return `${path}: must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
  }
  return `${path}: ${e.message}`
}

/**
 * Whether JSON text nests arrays/objects deeper than `max`: one pass over the
 * characters, no recursion, so a 50 000-deep document is refused before
 * anything (JSON.stringify, a validator) recurses into it.
 *
 * @example
 * jsonTooDeep('[[[1]]]', 2) // true
 */
export function jsonTooDeep(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \\ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--
  }
  return false
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/**
 * An ISO 8601 date or date-time as epoch ms, or null when it is not one or names
 * a day or time that does not exist (`2026-02-30`, `24:00`, `12:60`). A time
 * without an offset is UTC. Unlike `Date.parse`, nothing rolls over.
 *
 * @example
 * parseIsoTime('2026-02-28T12:00:00Z') // 1772280000000
 * parseIsoTime('2026-02-30') // null
 */
export function parseIsoTime(raw: string): number | null {
  const m = ISO_DATE_TIME.exec(raw)
  if (!m) return null
  const [, y, mo, d, h = '0', mi = '0', sec = '0', zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
  if (days === undefined || day < 1 || day > days) return null
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null
  if (zone !== undefined && /^[+-]/.test(zone)) {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.replace(':', '').slice(3) || '0')
    if (oh > 23 || om > 59) return null
  }
  const ms = Date.parse(raw.length > 10 && zone === undefined ? `${raw}Z` : raw)
  return Number.isFinite(ms) ? ms : null
}

/**
 * Where JSON.parse stopped, as ` (at position 12)`, or '' — said in our words:
 * a client never gets an exception's own text.
 */
export function jsonErrorWhere(err: unknown): string {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '')
  return m ? ` (at position ${m[1]})` : ''
}

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ProtocolErrorCode; message: string; requestId?: string }

const validators = Object.fromEntries(
  Object.entries(ClientMessageSchemas).map(([type, schema]) => [type, compileValidator(schema)]),
) as Record<ClientMessageType, Validator<ClientMessage>>

const TYPES = Object.keys(ClientMessageSchemas).join(', ')

/**
 * Parses and validates one client text frame. Never throws: every failure comes
 * back as a code plus a message naming what was wrong and what was expected.
 */
export function parseClientFrame(raw: string): ParseResult {
  if (Buffer.byteLength(raw) > MAX_FRAME_BYTES) {
    return {
      ok: false,
      code: ProtocolErrorCode.frameTooLarge,
      message: `frame of ${Buffer.byteLength(raw)} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`,
    }
  }
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (err) {
    return {
      ok: false,
      code: ProtocolErrorCode.badJson,
      message: `frame is not valid JSON${jsonErrorWhere(err)}; expected an object like {"type":"subscribe","topics":["*"]}`,
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      code: ProtocolErrorCode.badMessage,
      message: `message must be a JSON object with a "type" field, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    }
  }
  const obj = value as Record<string, unknown>
  const requestId = typeof obj.requestId === 'string' ? obj.requestId : undefined
  const withId = requestId === undefined ? {} : { requestId }
  // JSON.parse copes with any depth; what comes after it (validators,
  // JSON.stringify) recurses, so a deep frame stops here.
  if (jsonTooDeep(raw)) {
    return {
      ok: false,
      code: ProtocolErrorCode.tooDeep,
      message: `frame nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`,
      ...withId,
    }
  }
  if (typeof obj.type !== 'string') {
    return {
      ok: false,
      code: ProtocolErrorCode.badMessage,
      message: `message has no string "type" field; expected one of ${TYPES}`,
      ...withId,
    }
  }
  const validator = validators[obj.type as ClientMessageType]
  if (!Object.hasOwn(validators, obj.type) || !validator) {
    return {
      ok: false,
      code: ProtocolErrorCode.unknownType,
      message: `unknown message type ${JSON.stringify(obj.type).slice(0, 100)}; expected one of ${TYPES}`,
      ...withId,
    }
  }
  if (!validator.check(value)) {
    return {
      ok: false,
      code: ProtocolErrorCode.invalidMessage,
      message: `invalid "${obj.type}" message: ${validator.problems(value).join('; ')}`,
      ...withId,
    }
  }
  return { ok: true, message: value }
}
