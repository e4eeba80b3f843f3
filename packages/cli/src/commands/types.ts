/**
 * `verisim types --world <w>`: a TypeScript module with one interface per
 * stream's `data`, an event map keyed by stream name and the union of stream
 * names, for `createClient<WorldEvents>()` of @verisim/client (lib/typegen.ts).
 */
import { writeFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import type { Command } from 'commander'
import { CliFailure, UsageError } from '../errors.js'
import type { Io } from '../io.js'
import { fsReason, mkdirp } from '../lib/files.js'
import { configDir, parseWorldName } from '../lib/options.js'
import { renderWorldTypes, typeNames } from '../lib/typegen.js'
import { loadCliWorld } from '../lib/world.js'

interface TypesFlags {
  world?: string
  out?: string
  configDir?: string
}

export interface TypesSettings {
  world: string
  /** An absolute file path, or `-` for standard output. */
  out: string
  configDir: string
}

export function typesSettings(
  opts: TypesFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
): TypesSettings {
  if (opts.world === undefined) throw new UsageError('types needs --world <name>')
  const world = parseWorldName('--world', opts.world)
  const out = opts.out ?? '-'
  if (out === '')
    throw new UsageError('--out "" is invalid; expected a file name, or - for standard output')
  return {
    world,
    out: out === '-' ? '-' : resolve(cwd, out),
    configDir: configDir(opts.configDir, env, cwd),
  }
}

export function registerTypes(program: Command, io: Io): void {
  program
    .command('types')
    .description("write TypeScript types of a world's event data: one interface per stream")
    .option('--world <name>', 'world folder under --config-dir; required')
    .option(
      '--out <file|->',
      'output file (its folder is created), or - for standard output (default)',
    )
    .option(
      '--config-dir <dir>',
      'folder of worlds (default: $VERISIM_CONFIG_DIR, else config/worlds)',
    )
    .addHelpText(
      'after',
      `
The module exports one interface per stream (\`session.completed\` → SessionCompletedData),
<World>Events mapping each stream name to its interface, and <World>Stream (the names):

  import { createClient } from '@verisim/client'
  import type { TutoringEvents } from './tutoring-events.js'
  const client = createClient<TutoringEvents>({ url: 'ws://127.0.0.1:8080/ws', topics: ['session.*'] })
  client.on('session.completed', (e) => console.log(e.data.tutorId, e.data.durationMin))

The same world config gives the same bytes; the header names the config hash.
`,
    )
    .action((opts: TypesFlags) => {
      const s = typesSettings(opts, io.env, io.cwd)
      writeTypes(s, io)
    })
}

function writeTypes(s: TypesSettings, io: Io): void {
  const world = loadCliWorld(s.world, s.configDir)
  const text = renderWorldTypes(world)
  if (s.out === '-') {
    io.stdout.write(text)
    return
  }
  try {
    mkdirp(dirname(s.out))
    writeFileSync(s.out, text)
  } catch (err) {
    throw new CliFailure(`cannot write ${s.out}: ${fsReason(err)}`)
  }
  const shown = relative(io.cwd, s.out)
  io.stdout.write(
    `verisim: types of world ${world.id} (${world.streams.length} streams, ${typeNames(world).events}) written to ${shown.startsWith('..') ? s.out : shown}\n`,
  )
}
