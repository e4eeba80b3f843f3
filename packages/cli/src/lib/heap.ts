/**
 * `verisim generate` allocates short-lived objects and strings for every event
 * (the engine's event, its data, the envelope text). With V8's default young
 * generation (16 MB semi-spaces on 64-bit) a quarter of a run went to
 * scavenges, each copying what had not died yet; with 64 MB semi-spaces there
 * are a third as many and most objects die before one. V8 sizes its heap when
 * the process starts (`v8.setFlagsFromString` afterwards does not resize it),
 * so the binary runs `generate` in a child node with the flag
 * ({@link rerunWithFlags}) unless the user sized the young generation.
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:os'

/** Semi-space size for generation, in MB (the young generation is three of them). */
export const GENERATE_SEMI_SPACE_MB = 64

/** The node flags `verisim generate` runs with. */
export const GENERATE_NODE_FLAGS: readonly string[] = [
  `--max-semi-space-size=${GENERATE_SEMI_SPACE_MB}`,
]

const SEMI_SPACE_FLAG = /--max[-_]semi[-_]space[-_]size/

/**
 * The node flags to run the command line `argv` with, when this process lacks
 * them: {@link GENERATE_NODE_FLAGS} for `generate`, unless the node flags or
 * NODE_OPTIONS already size the young generation; otherwise null.
 */
export function flagsToRerunWith(
  argv: readonly string[],
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] | null {
  if (argv[0] !== 'generate') return null
  if (execArgv.some((a) => SEMI_SPACE_FLAG.test(a)) || SEMI_SPACE_FLAG.test(nodeOptions))
    return null
  return [...GENERATE_NODE_FLAGS]
}

/**
 * Runs `script argv` again in a child node with this process's flags plus
 * `flags`, sharing its standard streams (a closed pipe, a terminal, a file all
 * behave as before). Signals sent to this process are passed on; resolves with
 * the child's exit code (128 + the signal's number when a signal ended it).
 */
export function rerunWithFlags(
  flags: readonly string[],
  script: string,
  argv: readonly string[],
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...argv], {
      stdio: 'inherit',
    })
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
    const pass = (sig: NodeJS.Signals) => child.kill(sig)
    for (const s of signals) process.on(s, pass)
    const done = (code: number) => {
      for (const s of signals) process.off(s, pass)
      resolve(code)
    }
    child.on('error', (err) => {
      process.stderr.write(`verisim: cannot start node (${process.execPath}): ${err.message}\n`)
      done(1)
    })
    child.on('exit', (code, signal) =>
      done(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)),
    )
  })
}
