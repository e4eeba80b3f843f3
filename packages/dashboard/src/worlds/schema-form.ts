/**
 * Forms generated from a world action's payload JSON Schema (what
 * `GET /api/world` lists): one field per property (integer, number, string,
 * enum, boolean; anything else as a JSON text field), and the payload read back
 * from the form's text values with the schema's own bounds, so a mistake is
 * named before anything is sent. The server checks again and has the last word.
 */

export type FieldKind = 'integer' | 'number' | 'string' | 'enum' | 'boolean' | 'json'

export interface FormField {
  name: string
  kind: FieldKind
  required: boolean
  description?: string
  /** `enum`: the allowed values, as the schema gives them. */
  options?: readonly (string | number | boolean)[]
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  default?: unknown
}

/** A form's values: text for every field but booleans. */
export type FormValues = Record<string, string | boolean>

type Json = Record<string, unknown>

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x)
const num = (x: unknown): number | undefined =>
  typeof x === 'number' && Number.isFinite(x) ? x : undefined

/** The allowed values of an `enum`, or of a union of `const`s (TypeBox literals); null when neither. */
function enumValues(s: Json): (string | number | boolean)[] | null {
  const plain = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
  if (Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every(plain))
    return s.enum as (string | number | boolean)[]
  const alts = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : null
  if (alts && alts.length > 0 && alts.every((a) => isObject(a) && plain(a.const)))
    return alts.map((a) => (a as Json).const as string | number | boolean)
  return null
}

function fieldOf(name: string, s: unknown, required: boolean): FormField {
  const f: FormField = { name, kind: 'json', required }
  if (!isObject(s)) return f
  if (typeof s.description === 'string') f.description = s.description
  if (s.default !== undefined) f.default = s.default
  const options = enumValues(s)
  if (options) return { ...f, kind: 'enum', options }
  const type = s.type
  if (type === 'integer' || type === 'number') {
    f.kind = type
    f.minimum = num(s.minimum)
    f.maximum = num(s.maximum)
    f.exclusiveMinimum = num(s.exclusiveMinimum)
    f.exclusiveMaximum = num(s.exclusiveMaximum)
  } else if (type === 'string') {
    f.kind = 'string'
    f.minLength = num(s.minLength)
    f.maxLength = num(s.maxLength)
    if (typeof s.pattern === 'string') f.pattern = s.pattern
  } else if (type === 'boolean') f.kind = 'boolean'
  return f
}

/**
 * The fields of an object schema, in the schema's order. A schema that is not
 * an object with properties gives no fields (the action takes `{}`).
 *
 * @example
 * formFields({ type: 'object', required: ['count'], properties: { count: { type: 'integer', minimum: 1 } } })
 * // → [{ name: 'count', kind: 'integer', required: true, minimum: 1 }]
 */
export function formFields(schema: unknown): FormField[] {
  if (!isObject(schema) || !isObject(schema.properties)) return []
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [],
  )
  return Object.entries(schema.properties).map(([name, s]) => fieldOf(name, s, required.has(name)))
}

/** Starting values: the schema's defaults, else empty (booleans false). */
export function initialValues(fields: readonly FormField[]): FormValues {
  const out: FormValues = {}
  for (const f of fields) {
    if (f.kind === 'boolean') out[f.name] = f.default === true
    else if (f.default === undefined) out[f.name] = ''
    else out[f.name] = f.kind === 'json' ? JSON.stringify(f.default) : String(f.default)
  }
  return out
}

/** What a field's number must be, for messages and the input's hint. */
export function bounds(f: FormField): string {
  const parts: string[] = []
  if (f.minimum !== undefined) parts.push(`≥ ${f.minimum}`)
  if (f.exclusiveMinimum !== undefined) parts.push(`> ${f.exclusiveMinimum}`)
  if (f.maximum !== undefined) parts.push(`≤ ${f.maximum}`)
  if (f.exclusiveMaximum !== undefined) parts.push(`< ${f.exclusiveMaximum}`)
  return parts.join(' and ')
}

function readNumber(f: FormField, text: string): { value?: number; error?: string } {
  const n = Number(text)
  const what = f.kind === 'integer' ? 'a whole number' : 'a number'
  if (!Number.isFinite(n) || (f.kind === 'integer' && !/^[+-]?\d+$/.test(text)))
    return { error: `must be ${what}` }
  const out =
    (f.minimum !== undefined && n < f.minimum) ||
    (f.maximum !== undefined && n > f.maximum) ||
    (f.exclusiveMinimum !== undefined && n <= f.exclusiveMinimum) ||
    (f.exclusiveMaximum !== undefined && n >= f.exclusiveMaximum)
  return out ? { error: `must be ${what} ${bounds(f)}` } : { value: n }
}

function readString(f: FormField, text: string): { value?: string; error?: string } {
  if (f.minLength !== undefined && text.length < f.minLength)
    return { error: `must have at least ${f.minLength} characters` }
  if (f.maxLength !== undefined && text.length > f.maxLength)
    return { error: `must have at most ${f.maxLength} characters` }
  if (f.pattern !== undefined) {
    let re: RegExp | null = null
    try {
      re = new RegExp(f.pattern, 'u')
    } catch {
      // a pattern this browser cannot compile: the server checks it
    }
    if (re && !re.test(text)) return { error: `must match ${f.pattern}` }
  }
  return { value: text }
}

/**
 * The payload a form's values stand for, or the problem of each field that
 * cannot be read (by field name). Empty optional fields are left out.
 *
 * @example
 * readPayload(fields, { count: '5', cohort: '' }) // → { payload: { count: 5 }, errors: {} }
 */
export function readPayload(
  fields: readonly FormField[],
  values: FormValues,
): { payload: Record<string, unknown>; errors: Record<string, string> } {
  const payload: Record<string, unknown> = {}
  const errors: Record<string, string> = {}
  for (const f of fields) {
    const raw = values[f.name]
    if (f.kind === 'boolean') {
      payload[f.name] = raw === true
      continue
    }
    const text = typeof raw === 'string' ? raw.trim() : ''
    if (text === '') {
      if (f.required) errors[f.name] = 'is required'
      continue
    }
    let r: { value?: unknown; error?: string }
    switch (f.kind) {
      case 'integer':
      case 'number':
        r = readNumber(f, text)
        break
      case 'string':
        r = readString(f, typeof raw === 'string' ? raw : '')
        break
      case 'enum': {
        const v = f.options?.find((o) => String(o) === text)
        r = v === undefined ? { error: `must be one of ${f.options?.join(', ')}` } : { value: v }
        break
      }
      default:
        try {
          r = { value: JSON.parse(text) as unknown }
        } catch {
          r = { error: 'must be JSON' }
        }
    }
    if (r.error !== undefined) errors[f.name] = r.error
    else payload[f.name] = r.value
  }
  return { payload, errors }
}
