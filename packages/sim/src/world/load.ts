/**
 * Loads a world folder (`config/worlds/<world>/`): reads the JSON files (the only
 * I/O of this package, done once at boot), validates each against its TypeBox
 * schema, checks the references between files, and compiles everything the engine
 * needs (samplers, chains, profiles, baseline statistics) into a {@link World}.
 * Any problem throws a {@link WorldConfigError} naming the file, the JSON path and
 * what was expected.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Compile } from 'typebox/compile'
import Type from 'typebox'
import type {
  AnomalyRule,
  BaselineMetricsFile,
  Distribution,
  StreamCadencesFile,
  StreamRelationshipsFile,
  StreamsFile,
} from '@verisim/schema'
import {
  BaselineMetricsKernelProperties,
  ExternalEventsLibraryFileSchema,
  ScenarioDefinitionsFileSchema,
  StreamCadencesFileSchema,
  StreamRelationshipsFileSchema,
  StreamsFileSchema,
} from '@verisim/schema'
import { GENERIC_CONTRACT } from '../kit/generic.js'
import type { AnchorSpec, BehaviorContract, StateRateSpec, WorldModule } from '../kit/module.js'
import { HOUR, SECOND } from '../calendar.js'
import { DistributionParamError, compileDistribution, type Sampler } from '../distributions.js'
import { SimErrorCode, WorldConfigError } from '../errors.js'
import { compileScenarioSet } from '../scenarios/compile.js'
import { compilePeriods, compileProfile } from '../rates.js'
import type {
  StreamBaseline,
  World,
  WorldChain,
  WorldConfig,
  WorldOutcome,
  WorldStream,
} from './types.js'
import { ArrivalKind, DEFAULT_ANOMALY_RULE } from './types.js'

export const WORLD_FILES = {
  streams: 'streams.json',
  baseline: 'baseline-metrics.json',
  relationships: 'stream-relationships.json',
  cadences: 'stream-cadences.json',
  scenarios: 'scenario-definitions.json',
  externalEvents: 'external-events-library.json',
} as const

export * from './types.js'

type FileKey = 'streams' | 'baseline' | 'relationships' | 'cadences'

const SCHEMAS = {
  streams: Compile(StreamsFileSchema),
  relationships: Compile(StreamRelationshipsFileSchema),
  cadences: Compile(StreamCadencesFileSchema),
}

/** baseline-metrics.json: the kernel's properties plus the module's, closed (compiled once per module). */
const baselineSchemas = new WeakMap<WorldModule, ReturnType<typeof Compile>>()
function baselineSchema(module: WorldModule): ReturnType<typeof Compile> {
  let c = baselineSchemas.get(module)
  if (!c) {
    c = Compile(
      Type.Object(
        { ...BaselineMetricsKernelProperties, ...(module.baselineProperties ?? {}) },
        { additionalProperties: false },
      ),
    )
    baselineSchemas.set(module, c)
  }
  return c
}

/**
 * Reads, validates and compiles the world in `dir` for `module`.
 *
 * @example
 * const world = loadWorld('config/worlds/tutoring', tutoring)
 * world.catalog.length // 50
 */
export function loadWorld(dir: string, module: WorldModule): World {
  const abs = resolve(dir)
  const read = (file: string, optional: boolean): unknown => {
    const path = join(abs, file)
    const shown = join(dir, file)
    if (!existsSync(path)) {
      if (optional) return undefined
      throw new WorldConfigError(
        SimErrorCode.worldNotFound,
        shown,
        '',
        `the file to exist in the world folder ${abs}`,
      )
    }
    const text = readFileSync(path, 'utf8')
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new WorldConfigError(
        SimErrorCode.worldInvalidJson,
        shown,
        '',
        `valid JSON (${(err as Error).message})`,
        undefined,
        {
          cause: err,
        },
      )
    }
  }
  const raw = {
    streams: read(WORLD_FILES.streams, false),
    baseline: read(WORLD_FILES.baseline, false),
    relationships: read(WORLD_FILES.relationships, false),
    cadences: read(WORLD_FILES.cadences, false),
    scenarios: read(WORLD_FILES.scenarios, true),
    externalEvents: read(WORLD_FILES.externalEvents, true),
  }
  return compileWorld(raw, module, dir)
}

/**
 * Validates and compiles world files already parsed (what {@link loadWorld} does
 * after reading them); `dir` is only used in error messages and `World.dir`.
 */
export function compileWorld(
  raw: {
    streams: unknown
    baseline: unknown
    relationships: unknown
    cadences: unknown
    scenarios?: unknown
    externalEvents?: unknown
  },
  module: WorldModule,
  dir = '.',
): World {
  const fileOf = (k: FileKey): string => join(dir, WORLD_FILES[k])
  const fail = (k: FileKey, path: string, expected: string, found?: unknown): never => {
    throw new WorldConfigError(
      SimErrorCode.worldInvalid,
      fileOf(k),
      path,
      expected,
      found === undefined ? undefined : show(found),
    )
  }
  for (const k of ['streams', 'baseline', 'relationships', 'cadences'] as const) {
    const validator = k === 'baseline' ? baselineSchema(module) : SCHEMAS[k]
    const value = raw[k]
    if (!validator.Check(value)) {
      const e = describeSchemaError([...validator.Errors(value)] as SchemaError[], value)
      fail(k, e.path, e.expected, e.found)
    }
  }
  const config: WorldConfig = {
    streams: raw.streams as StreamsFile,
    baseline: raw.baseline as BaselineMetricsFile,
    relationships: raw.relationships as StreamRelationshipsFile,
    cadences: raw.cadences as StreamCadencesFile,
    ...(raw.scenarios === undefined ? {} : { scenarios: raw.scenarios }),
    ...(raw.externalEvents === undefined ? {} : { externalEvents: raw.externalEvents }),
  }
  const { streams: sf, baseline: bf, relationships: rf, cadences: cf } = config

  // --- worlds agree
  if (sf.world !== module.id)
    fail(
      'streams',
      '/world',
      `the id of the world module it is loaded with (${show(module.id)})`,
      sf.world,
    )
  for (const k of ['baseline', 'relationships', 'cadences'] as const) {
    if (config[k].world !== sf.world)
      fail(k, '/world', `the world id of streams.json (${show(sf.world)})`, config[k].world)
  }

  // --- profiles, calendar, metrics
  const profileNames = Object.keys(bf.seasonality.profiles)
  const profiles = profileNames.map((n) => compileProfile(n, bf.seasonality.profiles[n]!))
  const profileIndex = new Map(profileNames.map((n, i) => [n, i]))
  for (const [name, p] of Object.entries(bf.seasonality.profiles)) {
    if (!p.hourly.some((x) => x > 0))
      fail('baseline', `/seasonality/profiles/${name}/hourly`, 'at least one positive hour')
    if (!p.weekly.some((x) => x > 0))
      fail('baseline', `/seasonality/profiles/${name}/weekly`, 'at least one positive day')
  }
  bf.seasonality.calendar.forEach((p, i) => {
    if (!module.calendarKinds.includes(p.kind))
      fail(
        'baseline',
        `/seasonality/calendar/${i}/kind`,
        `one of the calendar kinds of world ${module.id} (${module.calendarKinds.join(', ')})`,
        p.kind,
      )
    for (const key of ['from', 'to'] as const) {
      const [m, d] = p[key].split('-').map(Number) as [number, number]
      const days = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m]!
      if (d > days)
        fail(
          'baseline',
          `/seasonality/calendar/${i}/${key}`,
          `a day of month ${m} (1–${days})`,
          p[key],
        )
    }
  })
  const periods = compilePeriods(bf.seasonality.calendar)
  const metricTarget = (name: string, k: FileKey, path: string): number => {
    const m = bf.metrics[name]
    if (!m)
      return fail(
        k,
        path,
        `a probability or the name of a metric in baseline-metrics.json (one of ${Object.keys(bf.metrics).join(', ')})`,
        name,
      )
    if (m.target === undefined || m.target < 0 || m.target > 1)
      return fail(
        'baseline',
        `/metrics/${name}/target`,
        `a target between 0 and 1 (it is used as a probability at ${fileOf(k)} ${path})`,
        m.target,
      )
    return m.target
  }
  const dist = (k: FileKey, path: string, d: Distribution) => {
    try {
      return compileDistribution(d)
    } catch (err) {
      if (err instanceof DistributionParamError)
        return fail(
          k,
          `${path}/${err.param}`,
          err.expected,
          (d as Record<string, unknown>)[err.param],
        )
      throw err
    }
  }
  const numericDist = (k: FileKey, path: string, d: Distribution): Sampler<number> => {
    const c = dist(k, path, d)
    if (!c.numeric) return fail(k, `${path}/values`, 'numeric values', d.values)
    return c.numeric
  }

  // --- behaviours: the kernel's `generic` and the module's
  const contractOf = (k: FileKey, path: string, name: string): BehaviorContract => {
    if (name === 'generic') return GENERIC_CONTRACT
    const b = module.behaviors[name]
    if (!b)
      return fail(
        k,
        path,
        `"generic" or a behaviour of world ${module.id} (${Object.keys(module.behaviors).join(', ')})`,
        name,
      )
    return b.contract
  }
  const canArrive = (c: BehaviorContract): boolean =>
    c.accepts === 'any' || c.accepts.includes('none')
  sf.streams.forEach((s, i) => {
    contractOf('streams', `/streams/${i}/behavior`, s.behavior ?? 'generic')
    s.actors?.forEach((a, j) => {
      if (!module.actors[a])
        fail(
          'streams',
          `/streams/${i}/actors/${j}`,
          `an actor of world ${module.id} (${Object.keys(module.actors).join(', ') || 'none'})`,
          a,
        )
    })
  })

  // --- streams
  const domains = new Set(sf.domains.map((d) => d.name))
  const streamIndex = new Map<string, number>()
  sf.streams.forEach((s, i) => {
    if (streamIndex.has(s.name))
      fail('streams', `/streams/${i}/name`, 'a stream name not used before', s.name)
    streamIndex.set(s.name, i)
    if (!domains.has(s.domain))
      fail(
        'streams',
        `/streams/${i}/domain`,
        `one of the domains ${[...domains].join(', ')}`,
        s.domain,
      )
    if (!s.name.startsWith(`${s.domain}.`))
      fail(
        'streams',
        `/streams/${i}/name`,
        `a name beginning with its domain "${s.domain}."`,
        s.name,
      )
  })
  const streamRef = (k: FileKey, path: string, name: string): number => {
    const i = streamIndex.get(name)
    if (i === undefined) return fail(k, path, 'the name of a stream in streams.json', name)
    return i
  }

  // --- chains
  const supplyByOutcome = new Map<number, { elasticity: number; floor: number; cap: number }>()
  rf.correlations.forEach((c, i) => {
    const s = streamRef('relationships', `/correlations/${i}/outcome`, c.outcome)
    if (c.cap < c.floor)
      fail('relationships', `/correlations/${i}/cap`, `a number >= floor (${c.floor})`, c.cap)
    supplyByOutcome.set(s, { elasticity: c.elasticity, floor: c.floor, cap: c.cap })
  })
  const chainIds = new Set<string>()
  const chainsByTrigger: WorldChain[][] = sf.streams.map(() => [])
  const produced = new Set<number>()
  const producers: number[][] = sf.streams.map(() => [])
  rf.chains.forEach((c, i) => {
    const base = `/chains/${i}`
    if (chainIds.has(c.id)) fail('relationships', `${base}/id`, 'a chain id not used before', c.id)
    chainIds.add(c.id)
    const trigger = streamRef('relationships', `${base}/trigger`, c.trigger)
    const triggerGives = contractOf(
      'streams',
      `/streams/${trigger}/behavior`,
      sf.streams[trigger]!.behavior ?? 'generic',
    ).gives
    const outcomes = c.outcomes.map((o, j): WorldOutcome => {
      const p = `${base}/outcomes/${j}`
      const stream = streamRef('relationships', `${p}/stream`, o.stream)
      const target = sf.streams[stream]!
      const accepts = contractOf(
        'streams',
        `/streams/${stream}/behavior`,
        target.behavior ?? 'generic',
      ).accepts
      if (accepts !== 'any' && !accepts.includes(triggerGives))
        fail(
          'relationships',
          `${p}/stream`,
          `a stream whose behavior accepts what "${c.trigger}" produces (${triggerGives}); "${o.stream}" (${target.behavior ?? 'generic'}) accepts ${accepts.join(' | ')}`,
          o.stream,
        )
      const anchorName = o.delay.anchor ?? 'trigger'
      const anchorNames = Object.keys(module.anchors)
      let anchor = 0
      let anchorSpec: AnchorSpec | undefined
      if (anchorName !== 'trigger') {
        anchorSpec = module.anchors[anchorName]
        if (!anchorSpec)
          fail(
            'relationships',
            `${p}/delay/anchor`,
            `"trigger" or an anchor of world ${module.id} (${anchorNames.join(', ') || 'none'})`,
            anchorName,
          )
        if (anchorSpec!.context !== triggerGives)
          fail(
            'relationships',
            `${p}/delay/anchor`,
            `"trigger" (anchor "${anchorName}" needs a ${anchorSpec!.context}, "${c.trigger}" produces ${triggerGives})`,
            anchorName,
          )
        anchor = anchorNames.indexOf(anchorName) + 1
      }
      produced.add(stream)
      producers[stream]!.push(trigger)
      return {
        stream,
        probability:
          typeof o.probability === 'number'
            ? o.probability
            : metricTarget(o.probability, 'relationships', `${p}/probability`),
        anchor,
        anchorSpec,
        delay: numericDist('relationships', `${p}/delay/hours`, o.delay.hours),
        supply: supplyByOutcome.get(stream),
      }
    })
    const sum = outcomes.reduce((a, o) => a + o.probability, 0)
    if (c.mode === 'oneOf' && (c.complete ? Math.abs(sum - 1) > 1e-6 : sum > 1 + 1e-6))
      fail(
        'relationships',
        `${base}/outcomes`,
        c.complete
          ? 'outcome probabilities summing to 1 (the chain is complete)'
          : 'outcome probabilities summing to at most 1',
        Number(sum.toFixed(6)),
      )
    if (c.complete && c.mode !== 'oneOf')
      fail('relationships', `${base}/complete`, 'complete only on oneOf chains', c.complete)
    chainsByTrigger[trigger]!.push({
      id: c.id,
      trigger,
      when: c.when,
      oneOf: c.mode === 'oneOf',
      complete: c.complete === true,
      outcomes,
    })
  })

  // --- entities, lifecycles, cascades (documentation data the tests and docs rely on)
  const prefixes = new Set<string>()
  for (const [name, e] of Object.entries(rf.entities)) {
    if (prefixes.has(e.prefix))
      fail(
        'relationships',
        `/entities/${name}/prefix`,
        'a prefix not used by another entity',
        e.prefix,
      )
    prefixes.add(e.prefix)
    e.createdBy.forEach((s, j) => streamRef('relationships', `/entities/${name}/createdBy/${j}`, s))
  }
  rf.lifecycles.forEach((l, i) => {
    if (!rf.entities[l.entity])
      fail(
        'relationships',
        `/lifecycles/${i}/entity`,
        `one of the entities ${Object.keys(rf.entities).join(', ')}`,
        l.entity,
      )
    l.transitions.forEach((t, j) =>
      streamRef('relationships', `/lifecycles/${i}/transitions/${j}/stream`, t.stream),
    )
  })
  rf.cascades.forEach((c, i) => {
    c.path.forEach((s, j) => {
      const to = streamRef('relationships', `/cascades/${i}/path/${j}`, s)
      if (j > 0 && !producers[to]!.includes(streamIndex.get(c.path[j - 1]!)!))
        fail(
          'relationships',
          `/cascades/${i}/path/${j}`,
          `a stream produced by a chain triggered by "${c.path[j - 1]}"`,
          s,
        )
    })
  })

  // --- cadences
  for (const name of Object.keys(cf.periodic)) {
    const i = streamRef('cadences', `/periodic/${escapePointer(name)}`, name)
    if (sf.streams[i]!.arrival?.kind !== 'periodic')
      fail(
        'cadences',
        `/periodic/${escapePointer(name)}`,
        `a stream whose arrival kind is "periodic" in streams.json`,
        name,
      )
  }

  // --- compile streams
  const baseline: Record<string, StreamBaseline> = {}
  const compiled = sf.streams.map((s, i): WorldStream => {
    const p = `/streams/${i}`
    const behavior = s.behavior ?? 'generic'
    const contract = contractOf('streams', `${p}/behavior`, behavior)
    let stateRate: StateRateSpec | undefined
    let arrivalKind: number = ArrivalKind.none
    let perDay = 0
    let profile = -1
    let everyMs = 0
    let jitterMs = 0
    if (s.arrival) {
      if (!canArrive(contract))
        fail(
          'streams',
          `${p}/arrival`,
          `no arrival: behavior "${behavior}" only happens as the outcome of a chain`,
        )
      arrivalKind = ArrivalKind[s.arrival.kind]
      const prof =
        s.arrival.profile ??
        (s.arrival.kind === 'periodic'
          ? undefined
          : fail('streams', `${p}/arrival/profile`, 'a seasonality profile name'))
      if (prof !== undefined) {
        const pi = profileIndex.get(prof)
        if (pi === undefined)
          fail(
            'streams',
            `${p}/arrival/profile`,
            `one of the profiles in baseline-metrics.json (${profileNames.join(', ')})`,
            prof,
          )
        profile = pi!
      }
      if (s.arrival.kind === 'poisson') {
        if (s.arrival.perDay === undefined)
          fail(
            'streams',
            `${p}/arrival/perDay`,
            'a mean number of events per day for a poisson arrival',
          )
        perDay = s.arrival.perDay!
      } else if (s.arrival.kind === 'periodic') {
        const per =
          cf.periodic[s.name] ??
          fail(
            'cadences',
            `/periodic/${escapePointer(s.name)}`,
            `an entry for the periodic stream "${s.name}"`,
          )
        everyMs = per.everySec * SECOND
        jitterMs = Math.min(per.jitterSec * SECOND, everyMs / 2)
        perDay = (24 * HOUR) / everyMs
      } else if (s.arrival.kind === 'state') {
        const names = Object.keys(module.stateRates)
        stateRate =
          s.arrival.rate === undefined
            ? undefined
            : (module.stateRates[s.arrival.rate] as StateRateSpec | undefined)
        if (!stateRate)
          return fail(
            'streams',
            `${p}/arrival/rate`,
            `a state rate of world ${module.id} (${names.join(', ') || 'none'})`,
            s.arrival.rate,
          )
        if (stateRate.behaviors.length > 0 && !stateRate.behaviors.includes(behavior))
          fail(
            'streams',
            `${p}/arrival/rate`,
            `a state rate for behaviour "${behavior}" ("${s.arrival.rate}" is only for ${stateRate.behaviors.join(', ')})`,
            s.arrival.rate,
          )
      }
    } else if (!produced.has(i)) {
      fail(
        'streams',
        `${p}`,
        `an "arrival", or a chain in stream-relationships.json producing "${s.name}" (otherwise it never fires)`,
      )
    }
    const v = s.value
    if ((v.dist === undefined) === (v.observed === undefined))
      fail('streams', `${p}/value`, 'exactly one of "dist" or "observed"')
    let valueSampler: Sampler<number> | undefined
    let b: StreamBaseline
    if (v.dist) {
      const c = dist('streams', `${p}/value/dist`, v.dist)
      if (!c.numeric)
        fail(
          'streams',
          `${p}/value/dist/values`,
          'numeric values (the primary value is a number)',
          v.dist.values,
        )
      valueSampler = c.numeric
      b = {
        field: v.field,
        mean: c.mean,
        sd: c.sd,
        source: c.statsSource === 'sampled' ? 'sampled' : 'analytic',
      }
    } else {
      if (contract.observes === 'no')
        fail(
          'streams',
          `${p}/value/observed`,
          `a "dist": behavior "${behavior}" does not observe a value from the simulation state`,
        )
      b = { field: v.field, mean: v.observed!.mean, sd: v.observed!.sd, source: 'declared' }
    }
    if (contract.observes === 'yes' && !v.observed)
      fail(
        'streams',
        `${p}/value`,
        `an "observed" value: behavior "${behavior}" sets the value from the simulation state`,
      )
    baseline[s.name] = b
    const fields = Object.entries(s.fields ?? {}).map(([name, d]) => ({
      name,
      sample: dist('streams', `${p}/fields/${escapePointer(name)}`, d).sample,
    }))
    if (fields.some((f) => f.name === v.field))
      fail(
        'streams',
        `${p}/fields/${escapePointer(v.field)}`,
        `no field named like the value field "${v.field}"`,
      )
    return {
      index: i,
      name: s.name,
      domain: s.domain,
      channel: s.channel ?? s.domain,
      cadence: s.cadence,
      unit: s.unit,
      description: s.description,
      behavior,
      contract,
      actors: s.actors ?? [],
      arrivalKind,
      stateRate,
      perDay,
      profile,
      everyMs,
      jitterMs,
      valueField: v.field,
      valueSampler,
      baseline: b,
      fields,
      signalKind: s.signal ?? (arrivalKind === ArrivalKind.periodic ? 'value' : 'rate'),
      anomaly: anomalyRule(sf.anomaly, s.anomaly, (path, expected, found) =>
        fail('streams', s.anomaly ? `${p}/anomaly${path}` : `/anomaly${path}`, expected, found),
      ),
      chains: chainsByTrigger[i]!,
      config: s,
    }
  })

  // --- metrics reference streams
  for (const [name, m] of Object.entries(bf.metrics)) {
    for (const key of ['numerator', 'denominator', 'of'] as const) {
      m.measure[key]?.forEach((sel, j) =>
        streamRef('baseline', `/metrics/${name}/measure/${key}/${j}/stream`, sel.stream),
      )
    }
    if (m.range.max < m.range.min)
      fail(
        'baseline',
        `/metrics/${name}/range/max`,
        `a number >= min (${m.range.min})`,
        m.range.max,
      )
  }

  const world: Omit<World, 'scenarioSet' | 'ext'> & { ext: unknown } = {
    id: sf.world,
    dir,
    module,
    hash: createHash('sha256')
      .update(
        JSON.stringify([
          module.id,
          raw.streams,
          raw.baseline,
          raw.relationships,
          raw.cadences,
          raw.scenarios ?? null,
          raw.externalEvents ?? null,
        ]),
      )
      .digest('hex'),
    ext: undefined,
    channels: [...new Set(compiled.map((c) => c.channel))],
    config,
    streams: compiled,
    streamIndex,
    catalog: compiled.map((c) => ({
      name: c.name,
      domain: c.domain,
      channel: c.channel,
      cadence: c.cadence,
      unit: c.unit,
      description: c.description,
    })),
    profiles,
    periods,
    baseline,
    profileIndex,
  }
  // The module's own config, once the kernel's part is compiled (it may refer to profiles, streams …).
  world.ext = module.compile(world as World, (path, expected, found) =>
    fail('baseline', path, expected, found),
  )
  const scenarioSet = compileScenarioSet(
    world,
    raw,
    {
      scenarios: join(dir, WORLD_FILES.scenarios),
      externalEvents: join(dir, WORLD_FILES.externalEvents),
    },
    (file, value) => {
      const validator = SCENARIO_SCHEMAS[file]
      if (validator.Check(value)) return undefined
      const e = describeSchemaError([...validator.Errors(value)] as SchemaError[], value)
      return { path: e.path, rule: e.expected, found: e.found }
    },
  )
  return { ...world, scenarioSet }
}

const SCENARIO_SCHEMAS = {
  scenarios: Compile(ScenarioDefinitionsFileSchema),
  externalEvents: Compile(ExternalEventsLibraryFileSchema),
}

// ---------------------------------------------------------------------------
// schema error → (path, expected, found)

interface SchemaError {
  keyword: string
  instancePath: string
  message: string
  params: Record<string, unknown>
}

function describeSchemaError(
  errors: SchemaError[],
  root: unknown,
): { path: string; expected: string; found?: unknown } {
  const useful = errors.filter((e) => e.keyword !== 'boolean' && e.keyword !== 'anyOf')
  const pool = useful.length ? useful : errors
  // The deepest problem is the most precise one.
  let best = pool[0]!
  for (const e of pool) if (e.instancePath.length > best.instancePath.length) best = e
  const path = best.instancePath
  const found = valueAt(root, path)
  switch (best.keyword) {
    case 'required': {
      const props = (best.params.requiredProperties as string[] | undefined) ?? []
      return { path, expected: `the property ${props.map((p) => `"${p}"`).join(', ')}` }
    }
    case 'additionalProperties': {
      const props = (best.params.additionalProperties as string[] | undefined) ?? []
      return {
        path: `${path}/${escapePointer(props[0] ?? '')}`,
        expected: `no property ${props.map((p) => `"${p}"`).join(', ')} (not in the schema)`,
      }
    }
    case 'const': {
      const allowed = pool
        .filter((e) => e.instancePath === path && e.keyword === 'const')
        .map((e) => show(e.params.allowedValue))
      return {
        path,
        expected: allowed.length > 1 ? `one of ${allowed.join(' | ')}` : `${allowed[0]}`,
        found,
      }
    }
    case 'enum': {
      const allowed = ((best.params.allowedValues as unknown[] | undefined) ?? []).map(show)
      return { path, expected: `one of ${allowed.join(' | ')}`, found }
    }
    case 'type': {
      const types = pool
        .filter((e) => e.instancePath === path && e.keyword === 'type')
        .map((e) => String(e.params.type))
      return { path, expected: `a value of type ${[...new Set(types)].join(' or ')}`, found }
    }
    default:
      return { path, expected: `a value that ${best.message}`, found }
  }
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1')
}

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root
  let cur: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function show(v: unknown): string {
  const s = JSON.stringify(v)
  if (s === undefined) return String(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** A stream's anomaly rule: its own fields over the world's over the kernel's defaults (docs/SIGNAL.md). */
function anomalyRule(
  world: AnomalyRule,
  own: AnomalyRule | undefined,
  fail: (path: string, expected: string, found?: unknown) => never,
): Required<AnomalyRule> {
  const r = { ...DEFAULT_ANOMALY_RULE, ...world, ...own }
  if (!(r.criticalSigma > r.warningSigma))
    fail('/criticalSigma', `a value above warningSigma (${r.warningSigma})`, r.criticalSigma)
  if (!(r.hysteresisSigma < r.warningSigma))
    fail('/hysteresisSigma', `a value below warningSigma (${r.warningSigma})`, r.hysteresisSigma)
  return r
}
