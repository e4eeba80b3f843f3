/**
 * Load time: validates and compiles a world's optional scenario-definitions.json
 * and external-events-library.json against the world (streams, templates,
 * cascade order), with errors naming the file, the JSON path and the rule.
 */
import type { ScenarioDefinitionsFile, StreamModifier } from '@verisim/schema'
import { formatIsoDuration, parseIsoDuration } from '../durations.js'
import { SimErrorCode, WorldConfigError } from '../errors.js'
import {
  checkImpact,
  compileLibrary,
  type CompiledTemplate,
  type LibraryProblem,
} from '../external.js'
import { compileModifier, isProblem, patternCovers, type CompiledModifier } from '../modifiers.js'
import type { World } from '../world/types.js'
import type { CompiledCascade, CompiledScenario, ScenarioSet } from './types.js'
// ---------------------------------------------------------------------------
// load time

/** Checks a file against its schema (ScenarioDefinitionsFileSchema / ExternalEventsLibraryFileSchema); the loader reports schema errors its own way. */
export type SchemaProblemFn = (
  file: 'scenarios' | 'externalEvents',
  raw: unknown,
) => LibraryProblem | undefined

/**
 * Validates and compiles the optional scenario and library files of a world.
 * Throws {@link WorldConfigError} naming the file, the JSON path and the rule.
 */
export function compileScenarioSet(
  world: Pick<World, 'streams' | 'module' | 'config' | 'id'>,
  raw: { scenarios?: unknown; externalEvents?: unknown },
  files: { scenarios: string; externalEvents: string },
  schemaProblem: SchemaProblemFn,
): ScenarioSet {
  const fail = (file: string, p: LibraryProblem): never => {
    throw new WorldConfigError(
      SimErrorCode.worldInvalid,
      file,
      p.path,
      p.rule,
      p.found === undefined ? undefined : show(p.found),
    )
  }
  let templates: CompiledTemplate[] = []
  if (raw.externalEvents !== undefined) {
    const lib = compileLibrary(world, raw.externalEvents, (x) => schemaProblem('externalEvents', x))
    if (!Array.isArray(lib)) fail(files.externalEvents, lib)
    templates = lib as CompiledTemplate[]
  }
  const templateById = new Map(templates.map((t) => [t.id, t]))
  const scenarios: CompiledScenario[] = []
  if (raw.scenarios !== undefined) {
    const sp = schemaProblem('scenarios', raw.scenarios)
    if (sp) fail(files.scenarios, sp)
    const file = raw.scenarios as ScenarioDefinitionsFile
    if (file.world !== world.id)
      fail(files.scenarios, {
        path: '/world',
        rule: `the world id of streams.json ("${world.id}")`,
        found: file.world,
      })
    const ids = new Set<string>()
    file.scenarios.forEach((d, i) => {
      const problem = (path: string, rule: string, found?: unknown): never =>
        fail(files.scenarios, { path: `/scenarios/${i}${path}`, rule, found })
      if (ids.has(d.id)) problem('/id', 'a scenario id not used before', d.id)
      ids.add(d.id)
      const durationMs = parseIsoDuration(d.duration)
      if (durationMs === undefined || durationMs <= 0)
        problem('/duration', 'a positive ISO 8601 duration (e.g. PT8H)', d.duration)
      const settleMs = parseIsoDuration(d.settlement.duration)
      if (settleMs === undefined)
        problem('/settlement/duration', 'an ISO 8601 duration (e.g. PT12H)', d.settlement.duration)
      if (d.settlement.curve === 'exponential' && settleMs === 0)
        problem(
          '/settlement/duration',
          'a positive duration for an exponential settlement',
          d.settlement.duration,
        )
      const mods = (list: readonly StreamModifier[], path: string): CompiledModifier[] =>
        list.map((spec, j) => {
          const m = compileModifier(world, spec)
          if (isProblem(m)) return problem(`${path}/${j}${m.path}`, m.rule, m.found)
          return m
        })
      const direct = mods(d.modifiers, '/modifiers')
      const backlog = mods(d.settlement.backlog ?? [], '/settlement/backlog')
      const cascadeMods = d.cascades.map((c, j) => mods(c.modifiers, `/cascades/${j}/modifiers`))
      // cascades: unique ids, triggers the scenario affects, no loops; start = trigger's start + delay
      const cids = new Set<string>()
      d.cascades.forEach((c, j) => {
        if (cids.has(c.id))
          problem(`/cascades/${j}/id`, 'a cascade id not used before in this scenario', c.id)
        cids.add(c.id)
        if (!world.streams.some((s) => s.name === c.trigger))
          problem(`/cascades/${j}/trigger`, `a stream of world ${world.id}`, c.trigger)
      })
      const affects = (ms: readonly CompiledModifier[], stream: string): boolean =>
        ms.some((m) => patternCovers(m.stream, stream))
      const feeds: number[][] = d.cascades.map((c) =>
        d.cascades.flatMap((_, k) => (affects(cascadeMods[k]!, c.trigger) ? [k] : [])),
      )
      d.cascades.forEach((c, j) => {
        if (!affects(direct, c.trigger) && feeds[j]!.length === 0)
          problem(
            `/cascades/${j}/trigger`,
            "a stream the scenario's modifiers or another cascade's modifiers change (a cascade follows from an effect)",
            c.trigger,
          )
      })
      // cycle: j is fed by k when k's modifiers touch j's trigger
      const state = d.cascades.map(() => 0)
      const visit = (j: number, path: number[]): void => {
        if (state[j] === 2) return
        if (state[j] === 1) {
          const loop = [...path.slice(path.indexOf(j)), j].map((k) => d.cascades[k]!.id)
          problem(
            `/cascades/${j}/trigger`,
            `cascades that do not loop (${loop.join(' → ')})`,
            d.cascades[j]!.trigger,
          )
        }
        state[j] = 1
        for (const k of feeds[j]!) visit(k, [...path, j])
        state[j] = 2
      }
      d.cascades.forEach((_, j) => visit(j, []))
      const starts: number[] = []
      const startOf = (j: number): number => {
        if (starts[j] !== undefined) return starts[j]!
        const c = d.cascades[j]!
        const delay =
          parseIsoDuration(c.delay) ??
          problem(`/cascades/${j}/delay`, 'an ISO 8601 duration', c.delay)
        let from = affects(direct, c.trigger) ? 0 : Infinity
        for (const k of feeds[j]!) from = Math.min(from, startOf(k))
        return (starts[j] = from + delay)
      }
      const cascades = d.cascades.map((c, j): CompiledCascade => {
        const startMs = startOf(j)
        if (startMs >= durationMs!)
          problem(
            `/cascades/${j}/delay`,
            `a cascade that starts within the scenario's duration (${d.duration}); it would start at +${formatIsoDuration(startMs)}`,
            c.delay,
          )
        return {
          id: c.id,
          description: c.description,
          trigger: c.trigger,
          delayMs: parseIsoDuration(c.delay)!,
          startMs,
          modifiers: cascadeMods[j]!,
        }
      })
      // events: known templates, valid overrides, impact over by the time the scenario has settled
      const events = d.events.map((e, j) => {
        const tpl = templateById.get(e.templateId)
        if (!tpl)
          problem(
            `/events/${j}/templateId`,
            `the id of a template in ${files.externalEvents}${templates.length === 0 ? ' (no library loaded)' : ` (one of ${[...templateById.keys()].join(', ')})`}`,
            e.templateId,
          )
        const offsetMs = parseIsoDuration(e.offset, { signed: true })
        if (offsetMs === undefined)
          problem(`/events/${j}/offset`, 'a signed ISO 8601 duration (e.g. PT2H, -PT3H)', e.offset)
        const ov = e.overrides
        const impact = { ...tpl!.expectedImpact, ...ov?.expectedImpact }
        const specs = ov?.modifiers ?? tpl!.modifiers.map((m) => m.spec)
        const checked = checkImpact(world, impact, specs, {
          streams: '/overrides/expectedImpact/streams',
          modifiers: '/overrides/modifiers',
        })
        if (!Array.isArray(checked))
          problem(`/events/${j}${checked.path}`, checked.rule, checked.found)
        const end = offsetMs! + parseIsoDuration(impact.delay)! + parseIsoDuration(impact.duration)!
        if (!(ov?.redHerring ?? tpl!.redHerring) && end > durationMs! + settleMs!)
          problem(
            `/events/${j}/offset`,
            `an event whose impact is over when the scenario has settled (by +${formatIsoDuration(durationMs! + settleMs!)}; this one lasts until +${formatIsoDuration(end)})`,
            e.offset,
          )
        return { templateId: e.templateId, offsetMs: offsetMs!, overrides: ov }
      })
      let maxDeviation = 0
      for (const m of [...direct, ...cascades.flatMap((c) => c.modifiers)])
        maxDeviation = Math.max(maxDeviation, m.deviation)
      scenarios.push({
        info: {
          id: d.id,
          name: d.name,
          description: d.description,
          duration: d.duration,
          durationMs: durationMs!,
          settleCurve: d.settlement.curve,
          settleDuration: d.settlement.duration,
          settleMs: settleMs!,
        },
        modifiers: direct,
        cascades,
        backlog,
        events,
        maxDeviation,
      })
    })
  }
  return { scenarios, byId: new Map(scenarios.map((s) => [s.info.id, s])), templates, templateById }
}

/** A value as it appears in an error message (JSON, shortened). */
export function show(v: unknown): string {
  const s = JSON.stringify(v)
  if (s === undefined) return String(v)
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
