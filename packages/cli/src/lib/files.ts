/** Output folders and sizes, with errors that say what is in the way. */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { CliFailure } from '../errors.js'

/** `mkdir -p`, one level at a time (Node 20's recursive mkdirSync can spin forever under /proc). */
export function mkdirp(dir: string): void {
  const missing: string[] = []
  let d = dir
  while (!existsSync(d)) {
    missing.unshift(d)
    const up = dirname(d)
    if (up === d) break
    d = up
  }
  for (const m of missing) mkdirSync(m)
}

/** Checks that `dir` exists (creating it) and is writable; throws CliFailure with the reason. */
export function ensureWritableDir(dir: string): void {
  try {
    mkdirp(dir)
    if (!statSync(dir).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new CliFailure(`cannot write to ${dir}: ${fsReason(err)}`)
  }
}

/** A file-system error as a short reason. */
export function fsReason(err: unknown): string {
  const code = (err as { code?: string } | null)?.code
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a file is in the way'
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return `permission denied (${code})`
  if (code === 'EISDIR') return 'it is a folder'
  if (code) return `cannot create it (${code})`
  return err instanceof Error ? err.message : String(err)
}

export function fmtSize(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`
  return `${n} B`
}
