/**
 * The control commands: a running simulator's state, its scenarios, speed,
 * reset, external-event injection and world actions, over the gateway's REST
 * API. A short summary on a terminal, the gateway's JSON answer when piped (or
 * with `--format json`); the gateway's refusals are shown as it words them
 * (`VS_*` code and message) with exit code 1, bad local input exits 2.
 */
import type { Command } from 'commander'
import { MAX_SPEED, MIN_SPEED } from '@verisim/schema'
import { CliFailure, UsageError } from '../errors.js'
import type { Io } from '../io.js'
import { parseDuration, parseTime } from '../lib/options.js'
import {
  addServerOptions,
  requestJson,
  serverSettings,
  type Server,
  type ServerFlags,
} from '../lib/server.js'

type Answer = Record<string, any>
type OutputFormat = 'text' | 'json'

export interface ControlFlags extends ServerFlags {
  format?: string
}

const q = (v: string) => JSON.stringify(v)

/** The server and how to print its answer, from a command's flags. */
export function context(opts: ControlFlags, io: Io) {
  const server = serverSettings(opts, io.env)
  const format = opts.format ?? (io.stdout.isTTY === true ? 'text' : 'json')
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format ${q(format)} is invalid; expected text or json`)
  return {
    server,
    format: format as OutputFormat,
    /** Prints the answer: its JSON, or the summary `text` makes of it. */
    print(answer: unknown, text: (a: Answer) => string) {
      io.stdout.write(
        format === 'json'
          ? `${JSON.stringify(answer, null, 2)}\n`
          : `${text(answer as Answer).replace(/\n*$/, '')}\n`,
      )
    },
  }
}

/** Adds `--url`, `--token` and `--format` to a control command. */
export function controlOptions(cmd: Command): Command {
  return addServerOptions(cmd).option(
    '--format <text|json>',
    "a short summary, or the gateway's JSON answer (default: text on a terminal, json when piped)",
  )
}

/** A `--json` value: a JSON object. */
export function parseJsonObject(flag: string, v: string, example: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(v)
  } catch (err) {
    throw new UsageError(
      `${flag} ${q(v)} is not valid JSON (${(err as Error).message}); expected an object like '${example}'`,
    )
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(
      `${flag} ${q(v)} is invalid; expected a JSON object like '${example}', found ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}`,
    )
  return parsed as Record<string, unknown>
}

/** A speed multiplier: a number within the gateway's range, `10`, `0.5` or `10x`. */
export function parseSpeed(v: string): number {
  const n = Number(v.replace(/[x×]$/, ''))
  if (!/^\d+(\.\d+)?[x×]?$/.test(v) || !(n >= MIN_SPEED && n <= MAX_SPEED))
    throw new UsageError(
      `speed <multiplier> ${q(v)} is invalid; expected a number from ${MIN_SPEED} to ${MAX_SPEED} (simulation seconds per wall second), e.g. 60`,
    )
  return n
}

/**
 * `--at`: an ISO 8601 time, `now`, or `+`/`-` a duration from now — "now" being
 * the simulation's current time, read from the gateway only when needed.
 */
export function parseAt(v: string, flag = '--at'): { at: number } | { offsetMs: number } {
  if (v === 'now') return { offsetMs: 0 }
  const rel = /^([+-])(.+)$/.exec(v)
  if (rel) {
    try {
      return { offsetMs: (rel[1] === '-' ? -1 : 1) * parseDuration(flag, rel[2]!) }
    } catch {
      // reported below with the whole expected form
    }
  } else {
    try {
      return { at: parseTime(flag, v) }
    } catch {
      // reported below
    }
  }
  throw new UsageError(
    `${flag} ${q(v)} is invalid; expected an ISO 8601 time like 2026-11-23T08:00:00Z, "now", or a duration from the simulation's now like +2h or -30m`,
  )
}

// ── summaries ──────────────────────────────────────────────────────────────

export const time = (v: unknown) =>
  typeof v === 'number'
    ? new Date(v).toISOString().slice(0, 19).replace('T', ' ')
    : typeof v === 'string'
      ? v.slice(0, 19).replace('T', ' ')
      : '?'
const times = (v: unknown) => (typeof v === 'number' ? `${v}×` : '?')
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

export function rows(pairs: [string, string][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')
}

function modifierText(m: Answer): string {
  const value =
    m.type === 'multiplier'
      ? `×${+Number(m.value).toFixed(3)}`
      : m.type === 'override'
        ? `=${m.value}`
        : `${m.value >= 0 ? '+' : ''}${m.value}`
  const target = m.target && m.target !== 'rate' ? ` ${m.target}` : ''
  return `${m.stream}${target} ${value} (${m.source}, ${m.status})`
}

function stateText(s: Answer): string {
  const clock = s.paused
    ? `${time(s.currentSimulationTime)} (simulated) · paused at ${times(s.speed)}`
    : `${time(s.currentSimulationTime)} (simulated) · ${s.running ? 'running' : 'stopped'} at ${times(s.speed)}` +
      (typeof s.effectiveSpeed === 'number' && Math.abs(s.effectiveSpeed - s.speed) > s.speed * 0.1
        ? `, keeping ${+s.effectiveSpeed.toFixed(1)}×`
        : '')
  const sc = s.scenario as Answer | null
  const scenario = sc
    ? `${sc.id} "${sc.name}" — ${sc.status}` +
      (sc.status === 'active'
        ? `, active until ${time(sc.activeUntil)}`
        : sc.status === 'settling'
          ? `, settled by ${time(sc.settledBy)}`
          : '') +
      ` (${sc.runId})`
    : 'none'
  const mods = (s.activeModifiers ?? []) as Answer[]
  const events = (s.activeEvents ?? []) as Answer[]
  const anomalies = (s.recentAnomalies ?? []) as Answer[]
  const pairs: [string, string][] = [
    ['world', `${s.world} (seed ${s.seed})`],
    ['clock', clock],
    [
      'run',
      `started ${time(s.startedAt)} · ${plural(Number(s.eventsGenerated ?? 0), 'event')} · last id ${s.lastId ?? '—'} · epoch ${s.epoch ?? '—'}`,
    ],
    ['scenario', scenario],
    [
      'modifiers',
      mods.length === 0
        ? 'none'
        : `${mods.length} in effect: ${mods.slice(0, 3).map(modifierText).join('; ')}${mods.length > 3 ? '; …' : ''}`,
    ],
    [
      'external',
      events.length === 0
        ? 'none in effect'
        : `${events.length} in effect: ${events
            .slice(0, 3)
            .map((e) => `${e.title ?? e.templateId ?? '?'} (${e.id ?? '?'})`)
            .join('; ')}${events.length > 3 ? '; …' : ''}`,
    ],
    [
      'anomalies',
      anomalies.length === 0
        ? 'none recent'
        : `${anomalies.length} recent, newest: ${anomalies
            .slice(0, 3)
            .map((a) => `${a.stream} ${a.anomalyFlag} ${a.normalizedValue} at ${time(a.timestamp)}`)
            .join('; ')}`,
    ],
    [
      'history',
      `${s.historicalMode}${s.history ? ` (version ${s.history.version} of ${s.history.versions})` : ''}`,
    ],
  ]
  return rows(pairs)
}

function scenariosText(a: Answer): string {
  const list = (a.scenarios ?? []) as Answer[]
  if (list.length === 0) return 'no scenarios'
  const w = Math.max(...list.map((s) => String(s.id).length))
  const dw = Math.max(...list.map((s) => String(s.duration).length))
  return list
    .map(
      (s) =>
        `${String(s.id).padEnd(w)}  ${String(s.duration).padEnd(dw)}  ${s.name}\n${' '.repeat(w + dw + 4)}${s.description}`,
    )
    .join('\n')
}

function scenarioStartText(a: Answer): string {
  const lines = [
    `scenario ${a.scenario?.id} "${a.scenario?.name}" started as ${a.runId}: active until ${time(a.activeUntil)}, settled by ${time(a.settledBy)}`,
  ]
  if (a.replaced)
    lines.push(
      `replaced ${a.replaced.scenarioId} (${a.replaced.runId}), which was ${a.replaced.phase}`,
    )
  const events = (a.events ?? []) as Answer[]
  if (events.length > 0)
    lines.push(
      `${plural(events.length, 'external event')}: ${events.map((e) => `${e.title} at ${time(e.timestamp)}`).join('; ')}`,
    )
  for (const w of (a.warnings ?? []) as unknown[])
    lines.push(
      `warning: ${typeof w === 'string' ? w : typeof (w as Answer)?.message === 'string' ? (w as Answer).message : JSON.stringify(w)}`,
    )
  return lines.join('\n')
}

function injectText(e: Answer): string {
  const lines = [
    `external event ${e.id} "${e.title}" (${e.templateId ?? 'custom'}, ${e.category}, ${e.severity}${e.redHerring ? ', red herring' : ''}) at ${time(e.timestamp)} (${e.timing ?? 'injected'})`,
  ]
  if (e.window) lines.push(`impact ${time(e.window.start)} → ${time(e.window.end)}`)
  const h = e.history as Answer | undefined
  if (h)
    lines.push(
      h.regenerated
        ? `history: regenerating as version ${h.version} (job ${h.jobId})`
        : `history: not regenerated${h.reason ? ` (${h.reason})` : ''}`,
    )
  return lines.join('\n')
}

function schemaText(schema: Answer | undefined): string {
  const props = (schema?.properties ?? {}) as Record<string, Answer>
  const required = new Set((schema?.required ?? []) as string[])
  const names = Object.keys(props)
  if (names.length === 0) return '(no payload)'
  return names
    .map((n) => {
      const p = props[n]!
      const range =
        p.minimum !== undefined || p.maximum !== undefined
          ? ` ${p.minimum ?? ''}…${p.maximum ?? ''}`
          : ''
      const choices = Array.isArray(p.enum) ? ` (${p.enum.join('|')})` : ''
      return `${n}: ${p.type ?? 'any'}${range}${choices}${required.has(n) ? ', required' : ''}${p.description ? ` — ${p.description}` : ''}`
    })
    .join('\n      ')
}

function worldActionsText(w: Answer): string {
  const actions = (w.actions ?? []) as Answer[]
  const head = `world ${w.id} (${w.model}): ${plural(actions.length, 'action')}`
  return [
    head,
    ...actions.map(
      (a) => `  ${a.name} — ${a.description}\n    payload:\n      ${schemaText(a.payload)}`,
    ),
  ].join('\n')
}

function worldActText(a: Answer): string {
  const result = a.result && typeof a.result === 'object' ? (a.result as Answer) : {}
  const fields = Object.entries(result)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' ')
  return `${a.name}: done${fields ? ` — ${fields}` : ''}`
}

// ── commands ───────────────────────────────────────────────────────────────

export function registerControl(program: Command, io: Io): void {
  controlOptions(
    program
      .command('state')
      .description('the simulation state: clock, speed, scenario, modifiers, recent anomalies'),
  ).action(async (opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(await requestJson(c.server, 'GET', '/api/simulation/state'), stateText)
  })

  controlOptions(
    program.command('scenarios').description("the world's scenarios: id, duration, name"),
  ).action(async (opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(await requestJson(c.server, 'GET', '/api/simulation/scenarios'), scenariosText)
  })

  const scenario = program.command('scenario').description('start or stop a scenario')
  controlOptions(
    scenario
      .command('start')
      .description('activate a scenario (verisim scenarios lists them)')
      .argument('<id>', 'scenario id, e.g. exam-season-surge'),
  ).action(async (id: string, opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(
      await requestJson(c.server, 'POST', '/api/simulation/scenario', { scenarioId: id }),
      scenarioStartText,
    )
  })
  controlOptions(
    scenario.command('stop').description('stop the active scenario; it settles back to baseline'),
  ).action(async (opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(
      await requestJson(c.server, 'POST', '/api/simulation/stop'),
      (a) =>
        `scenario stopped${a.runId ? ` (${a.runId})` : ''}; settling until ${time(a.settlingUntil)}`,
    )
  })

  for (const [name, what] of [
    ['pause', 'hold the simulation at the time already generated'],
    ['resume', 'continue a paused simulation'],
  ] as const)
    controlOptions(program.command(name).description(what)).action(async (opts: ControlFlags) => {
      const c = context(opts, io)
      c.print(
        await requestJson(c.server, 'POST', `/api/simulation/${name}`),
        (a) =>
          `${a.paused ? 'paused' : 'running'} at ${time(a.currentSimulationTime)} (simulated), speed ${times(a.speed)}`,
      )
    })

  controlOptions(
    program
      .command('reset')
      .description(
        'clear the scenario, modifiers and injected events; history back to the baseline',
      ),
  ).action(async (opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(
      await requestJson(c.server, 'POST', '/api/simulation/reset'),
      (a) =>
        `reset: ${a.message}${a.history ? ` (history: ${a.history.historicalMode}, version ${a.history.version})` : ''}`,
    )
  })

  controlOptions(
    program
      .command('speed')
      .description('set the simulation speed')
      .argument(
        '<multiplier>',
        `simulation seconds per wall second, ${MIN_SPEED} … ${MAX_SPEED} (e.g. 60)`,
      ),
  ).action(async (multiplier: string, opts: ControlFlags) => {
    const speed = parseSpeed(multiplier)
    const c = context(opts, io)
    c.print(
      await requestJson(c.server, 'POST', '/api/simulation/speed', { multiplier: speed }),
      (s) =>
        `speed ${times(s.speed)} (simulation seconds per wall second); simulation time ${time(s.currentSimulationTime)}`,
    )
  })

  controlOptions(
    program
      .command('inject')
      .description('inject an external event from the world library (past or future)')
      .argument('<templateId>', 'a template id, e.g. tiktok-mention (GET /api/events/templates)')
      .option(
        '--at <ISO|now|±duration>',
        "when: an ISO 8601 time, or relative to the simulation's now like +2h (default: now)",
      )
      .option(
        '--json <overrides>',
        'fields to change on the template, as a JSON object, e.g. \'{"title":"…","severity":"warning"}\'',
      ),
  ).action(async (templateId: string, opts: ControlFlags & { at?: string; json?: string }) => {
    const when = parseAt(opts.at ?? 'now')
    const overrides =
      opts.json === undefined ? {} : parseJsonObject('--json', opts.json, '{"title":"…"}')
    for (const k of ['templateId', 'timestamp'])
      if (k in overrides)
        throw new UsageError(
          `--json must not set ${k}; give the template as <templateId> and the time as --at`,
        )
    const c = context(opts, io)
    const at = 'at' in when ? when.at : (await simulationNow(c.server)) + when.offsetMs
    c.print(
      await requestJson(c.server, 'POST', '/api/events/external', {
        ...overrides,
        templateId,
        timestamp: new Date(at).toISOString(),
      }),
      injectText,
    )
  })

  const world = program.command('world').description("the running world's actions")
  controlOptions(
    world.command('actions').description("list the world's actions and their payloads"),
  ).action(async (opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(await requestJson(c.server, 'GET', '/api/world'), worldActionsText)
  })
  controlOptions(
    world
      .command('act')
      .description('apply a world action, e.g. spawn_students')
      .argument('<name>', 'action name (verisim world actions lists them)')
      .option(
        '--json <payload>',
        'the payload as a JSON object, e.g. \'{"count":5}\' (default {})',
      ),
  ).action(async (name: string, opts: ControlFlags & { json?: string }) => {
    const payload =
      opts.json === undefined ? {} : parseJsonObject('--json', opts.json, '{"count":5}')
    const c = context(opts, io)
    c.print(
      await requestJson(
        c.server,
        'POST',
        `/api/world/actions/${encodeURIComponent(name)}`,
        payload,
      ),
      worldActText,
    )
  })
}

/** The simulation's current time (epoch ms). */
export async function simulationNow(server: Server): Promise<number> {
  const s = (await requestJson(server, 'GET', '/api/simulation/state')) as Answer
  const t = Date.parse(String(s.currentSimulationTime))
  if (Number.isNaN(t))
    throw new CliFailure(
      `the gateway's state has no current simulation time (${JSON.stringify(s.currentSimulationTime)}); give --at as an ISO time`,
    )
  return t
}
