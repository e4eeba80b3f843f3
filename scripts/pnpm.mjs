/**
 * Finding pnpm and making sure dependencies are installed, for the scripts that
 * must work on a fresh clone with only Node and npm (`npm start`, `npm test`).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
/** e.g. "pnpm@10.34.8" */
export const PNPM_SPEC = pkg.packageManager

function works(command, args) {
  const r = spawnSync(command, [...args, '--version'], { stdio: 'ignore', timeout: 120_000 })
  return r.status === 0
}

/**
 * `[command, prefixArgs]` that runs pnpm: the pnpm running this script, pnpm on
 * PATH, corepack's pinned pnpm, or npx fetching the pinned version from the npm
 * registry — the first that works.
 */
export function findPnpm() {
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm/.test(execPath)) {
    return /\.c?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []]
  }
  if (works('pnpm', [])) return ['pnpm', []]
  if (works('corepack', [PNPM_SPEC.split('@')[0]])) return ['corepack', ['pnpm']]
  if (works('npx', ['--yes', PNPM_SPEC])) return ['npx', ['--yes', PNPM_SPEC]]
  throw new Error(
    `pnpm is needed and could not be found or fetched. Install it with "npm i -g ${PNPM_SPEC}" (or "corepack enable").`,
  )
}

/** Runs pnpm with `args`, inheriting stdio; resolves with the exit code. */
export function runPnpm(pnpm, args, opts = {}) {
  const [command, prefix] = pnpm
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd: root, stdio: 'inherit', ...opts })
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

/** True when node_modules is missing or older than the lockfile. */
export function needsInstall() {
  const marker = join(root, 'node_modules', '.modules.yaml')
  if (!existsSync(marker)) return true
  return statSync(join(root, 'pnpm-lock.yaml')).mtimeMs > statSync(marker).mtimeMs
}

/** Installs dependencies from the lockfile when needed. */
export async function ensureInstalled(pnpm, log = (m) => console.log(m)) {
  if (!needsInstall()) return
  log('installing dependencies: pnpm install --frozen-lockfile')
  const code = await runPnpm(pnpm, ['install', '--frozen-lockfile'])
  if (code !== 0) throw new Error(`pnpm install failed (exit ${code})`)
}
