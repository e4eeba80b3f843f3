/**
 * The pre-refactor engine, built from an old commit for side-by-side benchmarks.
 *
 * `ensureBaseline({ commit, log })` extracts that commit's `packages/schema`,
 * `packages/sim`, `config/worlds/tutoring` and root build files (`git archive`)
 * into a temporary folder, links their npm dependencies to the ones already
 * installed here (typebox at the version the old lockfile names, @types/node; no
 * network, no `pnpm install`), builds schema then sim with this repository's
 * `tsc`, and keeps what it needs to run (package.json + dist/ of both, the world
 * folder) in `node_modules/.cache/verisim-bench/<full commit hash>/`. Later runs
 * reuse that cache; delete the folder to rebuild. The temporary folder is removed.
 *
 * Resolves to `{ commit, dir, simEntry, worldDir, buildMs, cached, builtAt, notes }`
 * (`simEntry`: the old `packages/sim/dist/index.js`, exporting `loadWorld(dir)` and
 * `createEngine({ world, seed, start })`); rejects with an Error saying what failed.
 */
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
const PACKAGES = ['schema', 'sim'] // build order: sim depends on schema
const WORLD = join('config', 'worlds', 'tutoring')
const ARCHIVE_PATHS = [
  ...PACKAGES.map((p) => `packages/${p}`),
  'config/worlds/tutoring',
  'package.json',
  'tsconfig.base.json',
  'pnpm-workspace.yaml',
  'pnpm-lock.yaml',
]
const MARKER = 'baseline.json'

/** Runs a command, returning stdout; on failure throws `<label>: <its output>`. */
function run(label, cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 2 ** 20,
      ...opts,
    })
  } catch (err) {
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(0, 15).join('\n')
    throw new Error(`${label}: ${out || err.message}`)
  }
}

/** The typebox folder to link: the version the old lockfile locks, when installed here. */
function findTypebox(dir, notes) {
  const lock = readFileSync(join(dir, 'pnpm-lock.yaml'), 'utf8')
  const locked = /^ {2}'?typebox@([^:'\s(]+)'?:\s*$/m.exec(lock)?.[1]
  const exact =
    locked && join(repo, 'node_modules', '.pnpm', `typebox@${locked}`, 'node_modules', 'typebox')
  if (exact && existsSync(join(exact, 'package.json'))) return realpathSync(exact)
  const current = join(repo, 'packages', 'sim', 'node_modules', 'typebox')
  if (!existsSync(join(current, 'package.json')))
    throw new Error(`typebox is not installed here (run pnpm install)`)
  const version = JSON.parse(readFileSync(join(current, 'package.json'), 'utf8')).version
  notes.push(`typebox ${version} (the old lockfile locks ${locked ?? 'no version'})`)
  return realpathSync(current)
}

/** node_modules of the extracted/cached packages: typebox, and @verisim/schema for sim. */
function linkDependencies(dir, typebox) {
  for (const pkg of PACKAGES) {
    const nm = join(dir, 'packages', pkg, 'node_modules')
    mkdirSync(nm, { recursive: true })
    symlinkSync(typebox, join(nm, 'typebox'), 'dir')
  }
  mkdirSync(join(dir, 'packages', 'sim', 'node_modules', '@verisim'), { recursive: true })
  symlinkSync(
    join('..', '..', '..', 'schema'),
    join(dir, 'packages', 'sim', 'node_modules', '@verisim', 'schema'),
    'dir',
  )
}

function readCache(cacheDir) {
  try {
    const marker = JSON.parse(readFileSync(join(cacheDir, MARKER), 'utf8'))
    const ok =
      existsSync(join(cacheDir, 'packages', 'sim', 'dist', 'index.js')) &&
      existsSync(join(cacheDir, 'packages', 'schema', 'dist', 'index.js')) &&
      PACKAGES.every((p) =>
        existsSync(join(cacheDir, 'packages', p, 'node_modules', 'typebox', 'package.json')),
      ) &&
      existsSync(join(cacheDir, WORLD, 'streams.json'))
    return ok ? marker : null
  } catch {
    return null
  }
}

function result(cacheDir, marker, cached) {
  return {
    commit: marker.commit,
    dir: cacheDir,
    simEntry: join(cacheDir, 'packages', 'sim', 'dist', 'index.js'),
    worldDir: join(cacheDir, WORLD),
    buildMs: marker.buildMs,
    builtAt: marker.builtAt,
    cached,
    notes: marker.notes,
  }
}

export async function ensureBaseline({ commit, log = () => {} }) {
  const full = run('git rev-parse', 'git', ['rev-parse', '--verify', `${commit}^{commit}`], {
    cwd: repo,
  }).trim()
  const cacheRoot = join(repo, 'node_modules', '.cache', 'verisim-bench')
  const cacheDir = join(cacheRoot, full)
  const hit = readCache(cacheDir)
  if (hit) return result(cacheDir, hit, true)

  const t0 = Date.now()
  const notes = []
  const tmp = mkdtempSync(join(os.tmpdir(), `verisim-baseline-${full.slice(0, 7)}-`))
  const staging = `${cacheDir}.partial-${process.pid}`
  try {
    log(`baseline ${full.slice(0, 7)}: extracting into ${tmp}`)
    const tar = join(tmp, 'src.tar')
    run(
      'git archive',
      'git',
      ['archive', '--format=tar', '-o', tar, full, '--', ...ARCHIVE_PATHS],
      { cwd: repo },
    )
    run('tar -x', 'tar', ['-xf', tar, '-C', tmp])
    rmSync(tar)

    const typebox = findTypebox(tmp, notes)
    linkDependencies(tmp, typebox)
    // tsconfig.base.json has `types: ["node"]`, looked up from the temporary root.
    mkdirSync(join(tmp, 'node_modules', '@types'), { recursive: true })
    symlinkSync(
      realpathSync(join(repo, 'node_modules', '@types', 'node')),
      join(tmp, 'node_modules', '@types', 'node'),
      'dir',
    )
    const tsc = join(realpathSync(join(repo, 'node_modules', 'typescript')), 'bin', 'tsc')
    for (const pkg of PACKAGES) {
      log(`baseline ${full.slice(0, 7)}: tsc -p packages/${pkg}`)
      run(
        `tsc -p packages/${pkg}`,
        process.execPath,
        [tsc, '-p', join('packages', pkg, 'tsconfig.json')],
        { cwd: tmp },
      )
    }

    // Keep what running needs: package.json + dist/ of each package, the world folder.
    rmSync(staging, { recursive: true, force: true })
    for (const pkg of PACKAGES) {
      const from = join(tmp, 'packages', pkg)
      const to = join(staging, 'packages', pkg)
      mkdirSync(to, { recursive: true })
      cpSync(join(from, 'package.json'), join(to, 'package.json'))
      cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true })
    }
    linkDependencies(staging, typebox)
    cpSync(join(tmp, WORLD), join(staging, WORLD), { recursive: true })
    const marker = {
      commit: full,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - t0,
      typescript: JSON.parse(readFileSync(join(dirname(dirname(tsc)), 'package.json'), 'utf8'))
        .version,
      typebox: JSON.parse(readFileSync(join(typebox, 'package.json'), 'utf8')).version,
      notes,
    }
    writeFileSync(join(staging, MARKER), `${JSON.stringify(marker, null, 2)}\n`)
    rmSync(cacheDir, { recursive: true, force: true }) // an incomplete earlier cache
    try {
      renameSync(staging, cacheDir)
    } catch (err) {
      // Another run got there first: use its build.
      const other = readCache(cacheDir)
      if (!other) throw err
      return result(cacheDir, other, true)
    }
    return result(cacheDir, marker, false)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
    rmSync(staging, { recursive: true, force: true })
  }
}
