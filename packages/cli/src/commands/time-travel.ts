/**
 * Snapshots, restore and time travel of a running simulator (docs/API.md "Time
 * travel"): `snapshot save|list|delete|restore`, `travel` and `timelines`, over
 * the gateway's REST API, printed as the other control commands print (a
 * summary on a terminal, the JSON answer when piped).
 */
import type { Command } from 'commander'
import type { Io } from '../io.js'
import { requestJson } from '../lib/server.js'
import {
  context,
  controlOptions,
  parseAt,
  plural,
  rows,
  simulationNow,
  time,
  type ControlFlags,
} from './control.js'

type Answer = Record<string, any>

/** A restore or a travel re-simulates: seconds, more for a travel far ahead. */
const SWITCH_TIMEOUT_MS = 130_000

const mb = (bytes: unknown) => `${(Number(bytes) / 1e6).toFixed(1)} MB`

function snapshotLine(s: Answer): string {
  return `${s.id}  ${time(s.simulatedTime)}  ${String(s.kind).padEnd(6)}  ${mb(s.sizeBytes)}  ${s.name}${s.description ? ` — ${s.description}` : ''}`
}

function listText(a: Answer): string {
  const saved = (a.snapshots ?? []) as Answer[]
  const auto = (a.automatic ?? {}) as Answer
  return [
    `timeline ${a.timeline?.number ?? '?'} (${a.timeline?.id ?? '?'}, ${a.timeline?.reason ?? '?'})`,
    `${plural(saved.length, 'saved snapshot')} of at most ${a.maxSaved}:`,
    ...saved.map((s) => `  ${snapshotLine(s)}`),
    `automatic: ${plural(Number(auto.count ?? 0), 'snapshot')} every ${auto.everyHours} simulated h, ${mb(auto.sizeBytes)} in the generator's memory`,
  ].join('\n')
}

function switchText(a: Answer): string {
  return rows([
    ['timeline', `${a.timeline?.number} (${a.timeline?.id}, ${a.timeline?.reason})`],
    [
      'simulation',
      `${time(a.currentSimulationTime)}${a.paused ? ' · paused (verisim resume)' : ''}`,
    ],
    [
      'left',
      `${a.left?.id} at ${time(a.left?.leftAt)}; back: verisim snapshot restore ${a.left?.returnSnapshot}`,
    ],
    ['epoch', `${a.epoch} (streaming clients resume on it)`],
    [
      'cost',
      `${a.tookMs} ms, from the snapshot at ${time(a.from)}, ${plural(Number(a.replayed ?? 0), 'command')} replayed`,
    ],
  ])
}

function previewText(a: Answer): string {
  const s = (a.state ?? {}) as Answer
  const anomalous = (s.anomalousStreams ?? []) as Answer[]
  const before = (a.events?.before ?? []) as Answer[]
  const after = (a.events?.after ?? []) as Answer[]
  return [
    rows([
      ['preview', `${time(a.targetTime)} (nothing switched)`],
      ['scenario', s.scenario ? `${s.scenario.id} — ${s.scenario.status}` : 'none'],
      [
        'anomalous',
        anomalous.length === 0
          ? 'no stream'
          : anomalous
              .slice(0, 5)
              .map((x) => `${x.stream} ${x.flag}`)
              .join('; ') + (anomalous.length > 5 ? '; …' : ''),
      ],
      [
        'events',
        `${before.length} in the ${a.windowMs / 60_000} min before, ${after.length} in the ${a.windowMs / 60_000} min after`,
      ],
      ['cost', `${a.tookMs} ms`],
    ]),
    ...after.slice(0, 5).map((e) => `  ${time(e.timestamp)}  ${e.stream}`),
  ].join('\n')
}

function timelinesText(a: Answer): string {
  return ((a.timelines ?? []) as Answer[])
    .map((t) => {
      const head = `${t.id === a.current ? '*' : ' '} ${t.id}  ${t.reason.padEnd(7)}  from ${time(t.forkedAt)}${t.parent ? ` (branched from ${t.parent})` : ''}`
      const left = t.leftAt
        ? `\n    left at ${time(t.leftAt)}; back: verisim snapshot restore ${t.returnSnapshot}`
        : ''
      const cmds = (t.commands ?? []) as Answer[]
      const list =
        cmds.length === 0
          ? ''
          : `\n    ${plural(cmds.length, 'command')}: ${cmds
              .slice(0, 5)
              .map((c) => `${c.action} at ${time(c.simulatedTime)}`)
              .join('; ')}${cmds.length > 5 ? '; …' : ''}`
      return head + left + list
    })
    .join('\n')
}

export function registerTimeTravel(program: Command, io: Io): void {
  const snapshot = program
    .command('snapshot')
    .description('save, list, delete and restore snapshots of the running simulation')
  controlOptions(
    snapshot
      .command('save')
      .description('save the simulation now under a name')
      .argument('<name>', 'a label for the list (1–100 characters)')
      .option('--description <text>', 'what it is for'),
  ).action(async (name: string, opts: ControlFlags & { description?: string }) => {
    const c = context(opts, io)
    const body = {
      name,
      ...(opts.description === undefined ? {} : { description: opts.description }),
    }
    c.print(
      await requestJson(c.server, 'POST', '/api/simulation/snapshot', body),
      (a) => `saved ${snapshotLine(a)}`,
    )
  })
  controlOptions(
    snapshot.command('list').description('the saved snapshots and the automatic ones'),
  ).action(async (opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(await requestJson(c.server, 'GET', '/api/simulation/snapshots'), listText)
  })
  controlOptions(
    snapshot
      .command('delete')
      .description("delete a saved snapshot (not the run's start)")
      .argument('<id>', 'e.g. snap_3 (verisim snapshot list)'),
  ).action(async (id: string, opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(
      await requestJson(c.server, 'DELETE', `/api/simulation/snapshots/${encodeURIComponent(id)}`),
      (a) => `deleted ${a.deleted}`,
    )
  })
  controlOptions(
    snapshot
      .command('restore')
      .description('continue the run from a saved snapshot: a new timeline')
      .argument('<id>', 'e.g. snap_3 (verisim snapshot list)'),
  ).action(async (id: string, opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(
      await requestJson(
        c.server,
        'POST',
        `/api/simulation/restore/${encodeURIComponent(id)}`,
        undefined,
        SWITCH_TIMEOUT_MS,
      ),
      switchText,
    )
  })

  controlOptions(
    program
      .command('travel')
      .description('take the run to a simulated moment exactly and pause there: a new timeline')
      .argument(
        '<when>',
        "an ISO 8601 time, or relative to the simulation's now like +1d, or -2h after -- (verisim travel -- -2h)",
      )
      .option('--dry-run', 'preview the state and the events around it; nothing switches'),
  ).action(async (when: string, opts: ControlFlags & { dryRun?: boolean }) => {
    const at = parseAt(when, 'travel <when>')
    const c = context(opts, io)
    const target = 'at' in at ? at.at : (await simulationNow(c.server)) + at.offsetMs
    const body = {
      targetTime: new Date(target).toISOString(),
      ...(opts.dryRun ? { dryRun: true } : {}),
    }
    c.print(
      await requestJson(c.server, 'POST', '/api/simulation/travel', body, SWITCH_TIMEOUT_MS),
      opts.dryRun ? previewText : switchText,
    )
  })

  controlOptions(
    program
      .command('timelines')
      .description('the current timeline and those a restore or a travel left, with the way back'),
  ).action(async (opts: ControlFlags) => {
    const c = context(opts, io)
    c.print(await requestJson(c.server, 'GET', '/api/simulation/timelines'), timelinesText)
  })
}
