/**
 * The `verisim` program: every command registered on one commander program,
 * run with exit codes 0 (done), 1 (failed while running), 2 (bad command line).
 */
import { Command, CommanderError } from 'commander'
import { CliFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js'
import { processIo, type Io } from './io.js'
import { registerBaseline } from './commands/baseline.js'
import { registerTail } from './commands/tail.js'
import { registerControl } from './commands/control.js'
import { registerGenerate } from './commands/generate.js'
import { registerScore } from './commands/score.js'
import { registerTypes } from './commands/types.js'
import { registerTimeTravel } from './commands/time-travel.js'

export const VERSION = '0.1.0'

/** One line per command form, shown under `verisim --help`. */
const FORMS = [
  'generate --world <w> --seed <n> --start <ISO> --duration <d> [--scenario <id>@<time> …] [--format ndjson|csv|parquet] [--out <file|dir|->]',
  'score --truth <run.truth.json> --detections <file> [--grace <d>] [--format text|json]',
  'baseline export --out <dir> [--world <w>] [--seed <n>] [--start <ISO>]',
  'tail [--url <url>] [--token <t>] [--topics <a,b,…>] [--last-id <id>] [--format pretty|ndjson] [--limit <n>] [--for <d>]',
  'state [--url <url>] [--token <t>] [--format text|json]   (so every control command below)',
  'scenarios',
  'scenario start <id>',
  'scenario stop',
  'pause | resume',
  'reset',
  'speed <multiplier>',
  'inject <templateId> [--at <ISO|now|+d>] [--json <overrides>]',
  'world actions',
  'world act <name> [--json <payload>]',
  'snapshot save <name> [--description <text>] | snapshot list | snapshot delete <id> | snapshot restore <id>',
  'travel <ISO|+duration> [--dry-run]   ·   travel [--dry-run] -- -<duration>',
  'timelines',
  'types --world <w> [--out <file|->] [--config-dir <dir>]',
]

/**
 * Commander's command with Verisim's error wording: an unknown option names the
 * expected ones, an unknown command the known ones, a missing value the option.
 */
export class VerisimCommand extends Command {
  override createCommand(name?: string): VerisimCommand {
    return new VerisimCommand(name)
  }

  unknownOption(flag: string): void {
    if (/^-\d/.test(flag))
      this.error(
        `${flag} reads as an option; give a time before now after --, e.g. verisim ${fullName(this)} -- ${flag}`,
        { code: 'commander.unknownOption', exitCode: EXIT_USAGE },
      )
    const name = flag.includes('=') ? flag.slice(0, flag.indexOf('=')) : flag
    const expected = this.options.map((o) => o.long).filter((l) => l && l !== '--help')
    this.error(
      `unknown option ${name}; expected ${expected.length > 0 ? expected.join(', ') : 'none'} (or --help)`,
      { code: 'commander.unknownOption', exitCode: EXIT_USAGE },
    )
  }

  unknownCommand(): void {
    const what = [fullName(this), this.args[0]].filter(Boolean).join(' ')
    const known = this.commands.map((c) => c.name()).join(', ')
    this.error(`unknown command "${what}"; expected one of: ${known} (verisim --help)`, {
      code: 'commander.unknownCommand',
      exitCode: EXIT_USAGE,
    })
  }

  optionMissingArgument(option: { long?: string; flags: string }): void {
    this.error(`option ${option.long ?? option.flags} needs a value`, {
      code: 'commander.optionMissingArgument',
      exitCode: EXIT_USAGE,
    })
  }
}

/** Help is wrapped to the terminal's width, or to 80 columns when not on one (files, docs). */
const helpWidth = (w: Io['stdout']) =>
  w.isTTY === true ? ((w as { columns?: number }).columns ?? 80) : 80

const commandOutput = (io: Io) => ({
  writeOut: (s: string) => void io.stdout.write(s),
  writeErr: (s: string) => void io.stderr.write(s),
  getOutHelpWidth: () => helpWidth(io.stdout),
  getErrHelpWidth: () => helpWidth(io.stderr),
  outputError: (s: string, write: (s: string) => void) =>
    write(`verisim: ${s.replace(/^error: /, '')}`),
})

/** Builds the program for `io`; commands write through it, never to `process` directly. */
export function buildProgram(io: Io): Command {
  const program = new VerisimCommand('verisim')
    .description(
      'Verisim from the terminal: generate event files with the engine alone, tail and drive a running simulator.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError(
      '(verisim --help lists the commands; add --help to any command for its options)',
    )
    .configureOutput(commandOutput(io))
    .exitOverride()
    .addHelpText(
      'after',
      `\nForms:\n${FORMS.map((f) => `  verisim ${f}`).join('\n')}\n\nExit codes: 0 done, 1 failed while running, 2 bad command line.\n`,
    )
  registerGenerate(program, io)
  registerScore(program, io)
  registerBaseline(program, io)
  registerTail(program, io)
  registerControl(program, io)
  registerTimeTravel(program, io)
  registerTypes(program, io)
  // Every subcommand reports errors the same way and never exits the process itself.
  const configure = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub
        .exitOverride()
        .configureOutput(commandOutput(io))
        .showHelpAfterError(`(verisim ${fullName(sub)} --help lists its options)`)
      configure(sub)
    }
  }
  configure(program)
  return program
}

function fullName(cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

/**
 * Every command's `--help` as it prints off a terminal, in one Markdown section
 * (docs/CLI.md's reference; `node scripts/gen-cli-doc.mjs` writes it there).
 */
export function renderHelpReference(): string {
  let text = ''
  const io: Io = {
    stdout: { write: (s: string) => ((text += s), true) } as unknown as Io['stdout'],
    stderr: { write: () => true } as unknown as Io['stderr'],
    env: {},
    cwd: '.',
  }
  const program = buildProgram(io)
  const sections: string[] = []
  const walk = (cmd: Command, path: string[]): void => {
    text = ''
    cmd.outputHelp()
    sections.push(
      `### \`verisim${path.map((p) => ` ${p}`).join('')} --help\`\n\n\`\`\`text\n${text.trimEnd()}\n\`\`\`\n`,
    )
    for (const sub of cmd.commands) if (sub.name() !== 'help') walk(sub, [...path, sub.name()])
  }
  walk(program, [])
  return sections.join('\n')
}

/**
 * Runs `verisim <argv>`; resolves to the exit code.
 *
 * @example
 * process.exitCode = await main(['generate', '--world', 'tutoring', '--duration', '1d', '--out', '-'])
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io)
  if (argv.length === 0) {
    program.outputHelp({ error: true })
    return EXIT_USAGE
  }
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT_OK
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK
      // help asked for (`verisim help`) is success; help shown for a missing subcommand is not
      if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE
      // commander printed the message already
      return err.code === 'commander.executeSubCommandAsync' ? EXIT_FAILED : EXIT_USAGE
    }
    if (err instanceof UsageError) {
      io.stderr.write(`verisim: ${err.message}\n`)
      return EXIT_USAGE
    }
    if (err instanceof CliFailure) {
      io.stderr.write(`verisim: ${err.message}\n`)
      return EXIT_FAILED
    }
    io.stderr.write(`verisim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    return EXIT_FAILED
  }
}
