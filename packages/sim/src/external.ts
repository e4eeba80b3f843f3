/**
 * External events: the world's library of templates (`external-events-library.json`,
 * validated at load), the events injected at run time (from a template plus
 * overrides, or in full), and the public shape they are reported and announced in.
 *
 * An event at `timestamp` changes the streams of its modifiers during its impact
 * window `[timestamp + delay, timestamp + delay + duration)`. A red herring is
 * announced like any other but changes nothing (and says so: `redHerring: true`).
 * Timestamps may be in the past (only the part of the window after the injection
 * affects live generation; history regeneration covers the rest) or in the future.
 */
import type {
  ExpectedImpact,
  ExternalEventCategory,
  ExternalEventInputFields,
  ExternalEventTemplate,
  ExternalEventsLibraryFile,
  ImpactDirection,
  ImpactMagnitude,
  Severity,
  StreamModifier,
} from '@verisim/schema'
import { compileValidator, ExternalEventInputSchema } from '@verisim/schema'
import { parseIsoDuration } from './durations.js'
import { SimError, SimErrorCode } from './errors.js'
import {
  compileModifier,
  isProblem,
  modifierDirection,
  patternCovers,
  streamMatcher,
  type CompiledModifier,
  type ModifierProblem,
} from './modifiers.js'
import type { World } from './world/types.js'

export type { CompiledTemplate } from './world/types.js'
import type { CompiledTemplate } from './world/types.js'

/** A library template as `Engine.templates()` lists it: its modifiers as declared. */
export interface TemplateInfo {
  id: string
  category: ExternalEventCategory
  title: string
  description: string
  severity: Severity
  icon: string
  expectedImpact: ExpectedImpact
  modifiers: StreamModifier[]
  redHerring: boolean
  /** When such events typically happen, in words. */
  timing?: string
  externalLink?: string
}

/** The public fields of a compiled template (copies: callers cannot change the library). */
export function templateInfo(t: CompiledTemplate): TemplateInfo {
  const info: TemplateInfo = {
    id: t.id,
    category: t.category,
    title: t.title,
    description: t.description,
    severity: t.severity,
    icon: t.icon,
    expectedImpact: { ...t.expectedImpact, streams: [...t.expectedImpact.streams] },
    modifiers: t.modifiers.map((m) => ({ ...m.spec })),
    redHerring: t.redHerring,
  }
  if (t.timing !== undefined) info.timing = t.timing
  if (t.externalLink !== undefined) info.externalLink = t.externalLink
  return info
}

/** Per stream, what correlation tracking measured (see correlations.ts). */
export interface ActualImpact {
  stream: string
  expected: { direction: ImpactDirection; magnitude: ImpactMagnitude; change: number }
  actual: {
    direction: 'increase' | 'decrease' | 'none'
    change: number
    strength: number
    matched: boolean
  }
  status: 'pending' | 'measuring' | 'measured' | 'unmeasurable'
}

/** An external event as reported by `externalEvents()` and announced on the `external` channel. */
export interface ExternalEvent {
  /** `evt_<n>`, assigned in injection order. */
  id: string
  templateId: string | null
  /** The kind of event: its template id (`custom` for a full event). */
  type: string
  category: ExternalEventCategory
  title: string
  description: string
  severity: Severity
  icon: string
  /** When it happens (ISO 8601); `at` is the same in epoch ms. */
  timestamp: string
  at: number
  expectedImpact: ExpectedImpact
  /** What it does to the streams during its window (nothing when `redHerring`). */
  modifiers: StreamModifier[]
  redHerring: boolean
  /** `scenario:<id>` for an event a scenario injected, `injected` otherwise. */
  source: string
  runId?: string
  /** Simulation time of the injection; `timing` says where `at` fell relative to it. */
  injectedAt: number
  timing: 'past' | 'present' | 'future'
  injectedByAI: boolean
  externalLink?: string
  /** Impact window, epoch ms: `[at + delay, at + delay + duration)`. */
  window: { start: number; end: number }
  /** Present in `externalEvents()`: correlation tracking per expected stream. */
  actualImpact?: ActualImpact[]
}

/** `injectExternalEvent` input: a template id and overrides, or a full event. */
export type ExternalEventInput = ExternalEventInputFields

/** An event as the engine keeps it. */
export interface EventRecord {
  readonly event: ExternalEvent
  readonly mods: readonly CompiledModifier[]
  /** Streams tracked by correlation (expected streams expanded to names). */
  readonly tracked: readonly number[]
  cancelled: boolean
  announced: boolean
}

/** Icons of the usual categories; a world's own categories get {@link DEFAULT_ICON}. */
export const CATEGORY_ICON: Readonly<Record<string, string>> = {
  marketing: '📣',
  product: '🚀',
  infrastructure: '🛠️',
  academic: '🎓',
  competitive: '⚔️',
  operational: '🏢',
}

export const DEFAULT_ICON = '📌'

/** Change a magnitude label stands for (decreases use the inverse); used for events without a modifier of their own. */
export const MAGNITUDE_CHANGE: Readonly<Record<ImpactMagnitude, number>> = {
  low: 1.1,
  medium: 1.3,
  high: 1.6,
}

/**
 * Checks an event's modifiers against its expected impact: every expected stream
 * exists, every modifier is valid and touches an expected stream, and goes the
 * declared way (`mixed` allows both). Paths are relative to the event.
 */
export function checkImpact(
  world: Pick<World, 'streams' | 'module' | 'config' | 'id'>,
  impact: ExpectedImpact,
  modifiers: readonly StreamModifier[],
  paths: { streams: string; modifiers: string },
): CompiledModifier[] | ModifierProblem {
  for (const [i, p] of impact.streams.entries()) {
    const match = streamMatcher(p)
    if (!world.streams.some((s) => match(s.name)))
      return {
        path: `${paths.streams}/${i}`,
        rule: `a stream of world ${world.id} (an exact name, "<domain>.*" or "*")`,
        found: p,
      }
  }
  for (const k of ['delay', 'duration'] as const) {
    if (parseIsoDuration(impact[k]) === undefined)
      return {
        path: `${paths.streams.replace(/\/streams$/, '')}/${k}`,
        rule: 'an ISO 8601 duration in weeks, days, hours, minutes, seconds (e.g. PT2H, P1DT12H)',
        found: impact[k],
      }
  }
  const out: CompiledModifier[] = []
  for (const [i, spec] of modifiers.entries()) {
    const m = compileModifier(world, spec)
    if (isProblem(m)) return { ...m, path: `${paths.modifiers}/${i}${m.path}` }
    if (!impact.streams.some((p) => patternCovers(p, spec.stream)))
      return {
        path: `${paths.modifiers}/${i}/stream`,
        rule: `a stream listed in expectedImpact.streams (${impact.streams.join(', ')})`,
        found: spec.stream,
      }
    const d = modifierDirection(m)
    if ((impact.direction === 'increase' && d < 0) || (impact.direction === 'decrease' && d > 0))
      return {
        path: `${paths.modifiers}/${i}/value`,
        rule: `a modifier that goes the declared direction "${impact.direction}" (or declare "mixed")`,
        found: spec.value,
      }
    out.push(m)
  }
  return out
}

/** Stream indices an event's expected impact names (wildcards expanded), in world order. */
export function trackedStreams(world: Pick<World, 'streams'>, impact: ExpectedImpact): number[] {
  const ms = impact.streams.map(streamMatcher)
  const out: number[] = []
  world.streams.forEach((s, i) => {
    if (ms.some((m) => m(s.name))) out.push(i)
  })
  return out
}

// ---------------------------------------------------------------------------
// load time

export interface LibraryProblem {
  path: string
  rule: string
  found?: unknown
}

/**
 * Validates `external-events-library.json` (already parsed) and compiles its
 * templates; returns the first problem (JSON path + rule) instead when there is one.
 */
export function compileLibrary(
  world: Pick<World, 'streams' | 'module' | 'config' | 'id'>,
  raw: unknown,
  /** Checks `raw` against ExternalEventsLibraryFileSchema (the loader reports schema errors its own way). */
  schemaProblem: (raw: unknown) => LibraryProblem | undefined,
): CompiledTemplate[] | LibraryProblem {
  const sp = schemaProblem(raw)
  if (sp) return sp
  const file = raw as ExternalEventsLibraryFile
  if (file.world !== world.id)
    return {
      path: '/world',
      rule: `the world id of streams.json ("${world.id}")`,
      found: file.world,
    }
  const ids = new Set<string>()
  const out: CompiledTemplate[] = []
  for (const [i, t] of file.templates.entries()) {
    const base = `/templates/${i}`
    if (ids.has(t.id))
      return { path: `${base}/id`, rule: 'a template id not used before', found: t.id }
    ids.add(t.id)
    if (!world.module.categories.includes(t.category))
      return {
        path: `${base}/category`,
        rule: `one of the categories of world ${world.id}: ${world.module.categories.map((c) => JSON.stringify(c)).join(' | ')}`,
        found: t.category,
      }
    const mods = checkImpact(world, t.expectedImpact, t.modifiers, {
      streams: `${base}/expectedImpact/streams`,
      modifiers: `${base}/modifiers`,
    })
    if (!Array.isArray(mods)) return mods
    if (mods.length === 0 && t.redHerring !== true)
      return {
        path: `${base}/modifiers`,
        rule: 'at least one modifier (or "redHerring": true for an event that changes nothing)',
        found: t.modifiers,
      }
    out.push(templateOf(t, mods))
  }
  return out
}

function templateOf(t: ExternalEventTemplate, mods: CompiledModifier[]): CompiledTemplate {
  return {
    id: t.id,
    category: t.category,
    title: t.title,
    description: t.description,
    severity: t.severity,
    icon: t.icon,
    expectedImpact: t.expectedImpact,
    modifiers: mods,
    redHerring: t.redHerring === true,
    timing: t.timing,
    externalLink: t.externalLink,
  }
}

// ---------------------------------------------------------------------------
// run time

const inputValidator = compileValidator(ExternalEventInputSchema)

const bad = (message: string): SimError => new SimError(SimErrorCode.badArgument, message)
const fieldOf = (path: string): string => path.replace(/^\//, '').replace(/\//g, '.') || '(root)'

/**
 * Resolves an injection into a complete event (not yet numbered): validates the
 * input (throws `VS_SIM_BAD_ARGUMENT` naming the field), merges template and
 * overrides, derives default modifiers for a full event that declares none.
 */
export function resolveEventInput(
  world: World,
  templates: ReadonlyMap<string, CompiledTemplate>,
  input: unknown,
  now: number,
): { event: Omit<ExternalEvent, 'id'>; mods: CompiledModifier[] } {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw bad('external event: expected an object')
  if (!inputValidator.check(input))
    throw bad(
      `external event: ${inputValidator
        .problems(input)
        .map((p) => p.replace(/^\//, ''))
        .join('; ')}`,
    )
  const x = input
  let at: number
  if (typeof x.timestamp === 'number') {
    if (!Number.isFinite(x.timestamp))
      throw bad('timestamp: expected epoch milliseconds or an ISO 8601 date-time')
    at = Math.round(x.timestamp)
  } else {
    at = Date.parse(x.timestamp)
    if (!Number.isFinite(at))
      throw bad(`timestamp: expected an ISO 8601 date-time, found ${JSON.stringify(x.timestamp)}`)
  }
  const tpl = x.templateId === undefined ? undefined : templates.get(x.templateId)
  if (x.templateId !== undefined && !tpl)
    throw bad(
      `templateId: unknown template ${JSON.stringify(x.templateId)}; expected one of ${[...templates.keys()].join(', ') || '(the world has no external-event library)'}`,
    )
  let category: ExternalEventCategory
  let impact: ExpectedImpact
  if (x.category !== undefined && !world.module.categories.includes(x.category))
    throw bad(
      `category: expected one of ${world.module.categories.join(', ')}, found ${JSON.stringify(x.category)}`,
    )
  if (tpl) {
    category = x.category ?? tpl.category
    impact = { ...tpl.expectedImpact, ...x.expectedImpact }
  } else {
    for (const f of ['category', 'title', 'severity', 'expectedImpact'] as const)
      if (x[f] === undefined) throw bad(`${f}: required for an event without templateId`)
    category = x.category!
    const ei = x.expectedImpact!
    for (const f of ['streams', 'direction', 'magnitude', 'duration'] as const)
      if (ei[f] === undefined)
        throw bad(`expectedImpact.${f}: required for an event without templateId`)
    impact = {
      streams: ei.streams!,
      direction: ei.direction!,
      magnitude: ei.magnitude!,
      duration: ei.duration!,
      delay: ei.delay ?? 'PT0S',
    }
  }
  const redHerring = x.redHerring ?? tpl?.redHerring ?? false
  let specs: StreamModifier[]
  if (x.modifiers !== undefined) specs = x.modifiers
  else if (
    tpl &&
    (x.expectedImpact?.streams === undefined ||
      x.expectedImpact.streams.every((s) => tpl.expectedImpact.streams.includes(s)))
  )
    specs = tpl.modifiers.map((m) => m.spec)
  else specs = defaultModifiers(impact)
  if (!redHerring && specs.length === 0 && impact.direction === 'mixed')
    throw bad(
      'modifiers: required when expectedImpact.direction is "mixed" (or set redHerring: true)',
    )
  const mods = checkImpact(world, impact, specs, {
    streams: '/expectedImpact/streams',
    modifiers: '/modifiers',
  })
  if (!Array.isArray(mods))
    throw bad(
      `${fieldOf(mods.path)}: expected ${mods.rule}${mods.found === undefined ? '' : `, found ${JSON.stringify(mods.found)}`}`,
    )
  const delay = parseIsoDuration(impact.delay)!
  const duration = parseIsoDuration(impact.duration)!
  const event: Omit<ExternalEvent, 'id'> = {
    templateId: tpl?.id ?? null,
    type: tpl?.id ?? 'custom',
    category,
    title: x.title ?? tpl?.title ?? '',
    description: x.description ?? tpl?.description ?? '',
    severity: x.severity ?? tpl?.severity ?? 'info',
    icon: x.icon ?? tpl?.icon ?? CATEGORY_ICON[category] ?? DEFAULT_ICON,
    timestamp: new Date(at).toISOString(),
    at,
    expectedImpact: impact,
    modifiers: specs,
    redHerring,
    source: 'injected',
    injectedAt: now,
    timing: at < now ? 'past' : at > now ? 'future' : 'present',
    injectedByAI: x.injectedByAI ?? false,
    window: { start: at + delay, end: at + delay + duration },
  }
  const link = x.externalLink ?? tpl?.externalLink
  if (link !== undefined) event.externalLink = link
  return { event, mods }
}

/** A rate multiplier per expected stream from the magnitude label (full events that declare no modifiers). */
function defaultModifiers(impact: ExpectedImpact): StreamModifier[] {
  if (impact.direction === 'mixed') return []
  const m = MAGNITUDE_CHANGE[impact.magnitude]
  const value = impact.direction === 'increase' ? m : Math.round((1 / m) * 1000) / 1000
  return impact.streams.map((stream) => ({ stream, type: 'multiplier' as const, value }))
}
