import { describe, expect, it } from 'vitest'
import {
  formFields,
  initialValues,
  readPayload,
  type FormField,
} from '../src/worlds/schema-form.js'
import { panelsFor, DEFAULT_PANELS } from '../src/worlds/index.js'
import { readWorld } from '../src/worlds/model.js'

/** tutoring's spawn_students, as GET /api/world serves it. */
const SPAWN = {
  type: 'object',
  required: ['count'],
  properties: {
    count: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      description: 'students to sign up now',
    },
    cohort: { type: 'string', description: 'acquisition cohort (default: by share)' },
  },
  additionalProperties: false,
}

const ALL = {
  type: 'object',
  required: ['rate', 'kind'],
  properties: {
    rate: { type: 'number', exclusiveMinimum: 0, default: 1.5 },
    kind: { enum: ['lunch', 'dinner'] },
    size: { anyOf: [{ const: 2 }, { const: 4 }] },
    vip: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    code: { type: 'string', minLength: 2, maxLength: 4, pattern: '^[A-Z]+$' },
  },
}

const field = (fields: FormField[], name: string) => fields.find((f) => f.name === name)!

describe('schema-generated form', () => {
  it("should make a field per property with the schema's kind, bounds and hints", () => {
    const fields = formFields(SPAWN)
    expect(fields).toEqual([
      {
        name: 'count',
        kind: 'integer',
        required: true,
        description: 'students to sign up now',
        minimum: 1,
        maximum: 10000,
        exclusiveMinimum: undefined,
        exclusiveMaximum: undefined,
      },
      {
        name: 'cohort',
        kind: 'string',
        required: false,
        description: 'acquisition cohort (default: by share)',
        minLength: undefined,
        maxLength: undefined,
      },
    ])
    const all = formFields(ALL)
    expect(all.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['rate', 'number', true],
      ['kind', 'enum', true],
      ['size', 'enum', false],
      ['vip', 'boolean', false],
      ['tags', 'json', false],
      ['code', 'string', false],
    ])
    expect(field(all, 'kind').options).toEqual(['lunch', 'dinner'])
    expect(field(all, 'size').options).toEqual([2, 4])
    expect(formFields({ type: 'object' })).toEqual([])
    expect(formFields(null)).toEqual([])
  })

  it('should start from the defaults', () => {
    expect(initialValues(formFields(ALL))).toEqual({
      rate: '1.5',
      kind: '',
      size: '',
      vip: false,
      tags: '',
      code: '',
    })
  })

  it('should read the payload with typed values and leave empty optional fields out', () => {
    const fields = formFields(SPAWN)
    expect(readPayload(fields, { count: ' 5 ', cohort: '' })).toEqual({
      payload: { count: 5 },
      errors: {},
    })
    expect(readPayload(fields, { count: '10000', cohort: 'paid' }).payload).toEqual({
      count: 10000,
      cohort: 'paid',
    })
    const all = formFields(ALL)
    expect(
      readPayload(all, {
        rate: '0.25',
        kind: 'dinner',
        size: '4',
        vip: true,
        tags: '["a","b"]',
        code: 'AB',
      }),
    ).toEqual({
      payload: { rate: 0.25, kind: 'dinner', size: 4, vip: true, tags: ['a', 'b'], code: 'AB' },
      errors: {},
    })
  })

  it('should name the problem of each field before anything is sent', () => {
    const fields = formFields(SPAWN)
    expect(readPayload(fields, { count: '', cohort: '' }).errors).toEqual({ count: 'is required' })
    expect(readPayload(fields, { count: '2.5' }).errors.count).toBe('must be a whole number')
    expect(readPayload(fields, { count: 'x' }).errors.count).toBe('must be a whole number')
    expect(readPayload(fields, { count: '0' }).errors.count).toBe(
      'must be a whole number ≥ 1 and ≤ 10000',
    )
    const all = formFields(ALL)
    const bad = readPayload(all, {
      rate: '0',
      kind: 'brunch',
      vip: false,
      tags: '[oops',
      code: 'abc',
    }).errors
    expect(bad).toEqual({
      rate: 'must be a number > 0',
      kind: 'must be one of lunch, dinner',
      tags: 'must be JSON',
      code: 'must match ^[A-Z]+$',
    })
    expect(readPayload(all, { rate: '1', kind: 'lunch', code: 'A' }).errors.code).toBe(
      'must have at least 2 characters',
    )
  })
})

describe('world panels', () => {
  it('should read a world description defensively', () => {
    expect(readWorld({})).toBeNull()
    const w = readWorld({
      id: 'tutoring',
      actions: [{ name: 'spawn_students', payload: SPAWN }, 7],
    })
    expect(w).toMatchObject({
      id: 'tutoring',
      model: 'chain',
      actions: [{ name: 'spawn_students', description: '', payload: SPAWN }],
      statsKeys: [],
    })
  })

  it('should register the generic World panel for tutoring and for worlds without an entry', () => {
    expect(panelsFor('tutoring')).toEqual(DEFAULT_PANELS)
    expect(panelsFor('dining')).toBe(DEFAULT_PANELS)
  })
})
