/**
 * What a command may touch of its process: output streams, environment and
 * working directory. Injected so tests can run commands in-process.
 */
import type { Writable } from 'node:stream'

export interface Io {
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  /** The folder relative paths are resolved against. */
  cwd: string
}

export function processIo(): Io {
  // Run as `pnpm verisim …`, relative paths are the caller's, not the repository root's.
  const cwd =
    process.env.npm_lifecycle_event === 'verisim' && process.env.INIT_CWD
      ? process.env.INIT_CWD
      : process.cwd()
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd }
}
