/**
 * The shape of a stream's event `data` as its world defines it: the fields its
 * behaviour declares (a `generic` stream: its actors' ids), then the fields
 * streams.json draws, then the primary value — in the order the engine sets them.
 * `verisim types` renders it as TypeScript; tests check real events against it.
 */
import type { Distribution } from '@verisim/schema'
import { describeDistribution } from '../distributions.js'
import { SimErrorCode, WorldConfigError } from '../errors.js'
import type { DataFieldSpec, World, WorldStream } from './types.js'

export type DataFieldType = 'string' | 'number' | 'boolean'

/** One field of a stream's `data`. */
export interface StreamField {
  readonly name: string
  /** Its JavaScript type (`typeof`); entity ids are strings. */
  readonly type: DataFieldType
  /** The only values it takes, when the world lists them (categorical fields, enumerated behaviour fields). */
  readonly values?: readonly (string | number | boolean)[]
  /** Absent from some events. */
  readonly optional: boolean
  /** The entity whose id it holds (stream-relationships.json `entities`), with the id prefix. */
  readonly entity?: { readonly name: string; readonly prefix: string }
  readonly unit?: string
  readonly description?: string
  /** How a configured field or the primary value is drawn (`lognormal(median 95, σ 0.45)`). */
  readonly distribution?: string
  /** Whole numbers only (rounded to 0 decimals, or a count). */
  readonly integer?: boolean
  /** Who sets it: the behaviour, an actor of a generic stream, streams.json `fields`, or the primary value. */
  readonly source: 'behavior' | 'actor' | 'config' | 'value'
}

export interface StreamDataShape {
  readonly stream: string
  readonly fields: readonly StreamField[]
  /**
   * False when the stream's behaviour declares no `data` (`BehaviorSpec.data`):
   * its events carry fields not listed here.
   */
  readonly complete: boolean
}

/** The type of a list of values: their common `typeof` (mixed lists: the first's; `values` decides). */
const typeOfValues = (vs: readonly (string | number | boolean)[]): DataFieldType =>
  vs.length === 0 ? 'string' : (typeof vs[0] as DataFieldType)

/**
 * The `data` shape of `stream` in `world`.
 *
 * @example
 * const shape = streamDataShape(world, world.streams[world.streamIndex.get('session.completed')!]!)
 * shape.fields.map((f) => f.name) // ['sessionId', 'studentId', 'tutorId', 'firstSession', 'durationMin']
 */
export function streamDataShape(world: World, stream: WorldStream): StreamDataShape {
  const entities = Object.entries(world.config.relationships.entities)
  const entityOf = (field: string): StreamField['entity'] => {
    const e = entities.find(([, x]) => x.idField === field)
    return e ? { name: e[0], prefix: e[1].prefix } : undefined
  }
  const fields = new Map<string, StreamField>()
  let complete = true

  // 1. what the behaviour (or the kernel's generic behaviour) sets
  if (stream.behavior === 'generic') {
    for (const a of stream.actors) {
      const field = world.module.actors[a]!.field
      const entity = entityOf(field)
      fields.set(field, {
        name: field,
        type: 'string',
        optional: false,
        ...(entity ? { entity } : {}),
        description: `Picked by the world's "${a}" actor.`,
        source: 'actor',
      })
    }
  } else {
    const decl = world.module.behaviors[stream.behavior]?.data
    if (decl === undefined) complete = false
    else {
      const spec = typeof decl === 'function' ? decl(world, stream) : decl
      for (const [name, f] of Object.entries(spec)) fields.set(name, fromSpec(name, f, entityOf))
    }
  }

  // 2. streams.json `fields`: drawn when the behaviour left them unset
  for (const [name, d] of Object.entries(stream.config.fields ?? {})) {
    const drawn = fromDistribution(name, d)
    const set = fields.get(name)
    if (!set) {
      fields.set(name, drawn)
      continue
    }
    if (set.type !== drawn.type)
      throw new WorldConfigError(
        SimErrorCode.worldInvalid,
        `${world.dir}/streams.json`,
        `/streams/${stream.index}/fields/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        `a ${set.type} field: behavior "${stream.behavior}" sets "${name}" as a ${set.type}`,
        drawn.type,
      )
    // the behaviour's field, never left out now; its values widen by the drawn ones
    const { values: _own, ...rest } = set
    const values =
      set.values && drawn.values ? [...new Set([...set.values, ...drawn.values])] : undefined
    fields.set(name, {
      ...rest,
      ...(values ? { values } : {}),
      optional: false,
      distribution: drawn.distribution!,
    })
  }

  // 3. the primary value, always a number
  const v = stream.config.value
  fields.delete(v.field)
  fields.set(v.field, {
    name: v.field,
    type: 'number',
    optional: false,
    unit: stream.unit,
    description: `The stream's primary value: its normalizedValue and anomalyFlag follow it.`,
    distribution: v.dist
      ? describeDistribution(v.dist)
      : `observed from the simulation state, mean ${stream.baseline.mean} ± ${stream.baseline.sd}`,
    // no `integer`: a scenario's value multiplier makes fractions of whole-number draws
    source: 'value',
  })
  return { stream: stream.name, fields: [...fields.values()], complete }
}

/** Every stream's data shape, in the world's stream order. */
export function worldDataShapes(world: World): StreamDataShape[] {
  return world.streams.map((s) => streamDataShape(world, s))
}

function fromSpec(
  name: string,
  f: DataFieldSpec,
  entityOf: (field: string) => StreamField['entity'],
): StreamField {
  const entity = f.type === 'id' ? entityOf(name) : undefined
  return {
    name,
    type: f.type === 'id' ? 'string' : f.type,
    ...(f.values ? { values: [...new Set(f.values)] } : {}),
    optional: f.optional === true,
    ...(entity ? { entity } : {}),
    ...(f.unit ? { unit: f.unit } : {}),
    ...(f.description ? { description: f.description } : {}),
    source: 'behavior',
  }
}

function isInteger(d: Distribution): boolean {
  if (d.type === 'poisson') return d.round === undefined || d.round === 0
  if (d.type === 'categorical' || d.type === 'constant')
    return (d.values ?? [d.value]).every((x) => typeof x === 'number' && Number.isInteger(x))
  return d.round === 0
}

function fromDistribution(name: string, d: Distribution): StreamField {
  const values =
    d.type === 'categorical'
      ? [...new Set(d.values ?? [])]
      : d.type === 'constant' && d.value !== undefined
        ? [d.value]
        : undefined
  const type: DataFieldType = values ? typeOfValues(values) : 'number'
  return {
    name,
    type,
    ...(values ? { values } : {}),
    optional: false,
    distribution: describeDistribution(d),
    ...(!values && isInteger(d) ? { integer: true } : {}),
    source: 'config',
  }
}
