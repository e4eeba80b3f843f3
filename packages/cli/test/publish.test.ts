/**
 * @verisim/cli is publishable: `pnpm pack` of it and of every workspace package
 * it needs gives tarballs whose manifests name real versions (no `workspace:`),
 * are not private, declare every package their code imports, and that run
 * outside the repository — the packed CLI, laid out as `npm install` of the
 * tarballs would, generates a file of a world whose config the packed
 * @verisim/worlds carries.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
/** The CLI and what it needs, by folder. */
const PACKAGES = [
  'packages/schema',
  'packages/sim',
  'packages/bus',
  'packages/client',
  'packages/worlds',
  'worlds/tutoring',
  'worlds/example',
  'packages/cli',
]
const BUILTIN = new Set(createRequire(import.meta.url)('node:module').builtinModules as string[])

interface Manifest {
  name: string
  private?: boolean
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

let tmp: string
/** Tarballs by package name, extracted into `<tmp>/app/node_modules/<name>` as npm would. */
const packed = new Map<string, { dir: string; manifest: Manifest; source: string }>()

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
}

/** Bare packages the JavaScript under `dir` imports (static and dynamic imports). */
function importedPackages(dir: string): Set<string> {
  const out = new Set<string>()
  for (const f of files(dir).filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '')
    for (const m of code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^'.][^']*)'/g)) {
      const spec = m[1]!
      if (spec.startsWith('node:') || BUILTIN.has(spec.split('/')[0]!)) continue
      out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
    }
  }
  return out
}

/** The folder of installed package `name` as `req` resolves it (its package.json may not be exported). */
function packageDir(req: NodeRequire, name: string): string {
  let dir = dirname(req.resolve(name))
  while (dir !== dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest).name === name)
        return dir
    } catch {
      // no package.json here: keep climbing
    }
    dir = dirname(dir)
  }
  throw new Error(`cannot find the folder of ${name}`)
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'verisim-publish-'))
  const tarballs = join(tmp, 'tarballs')
  mkdirSync(tarballs)
  for (const p of PACKAGES) {
    const out = execFileSync('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: join(root, p),
      encoding: 'utf8',
    })
    const tgz = out.trim().split('\n').at(-1)!.trim()
    const name = (JSON.parse(readFileSync(join(root, p, 'package.json'), 'utf8')) as Manifest).name
    const dir = join(tmp, 'app', 'node_modules', name)
    mkdirSync(dir, { recursive: true })
    execFileSync('tar', ['xzf', tgz, '-C', dir, '--strip-components=1'])
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
    packed.set(manifest.name, { dir, manifest, source: join(root, p) })
  }
}, 120_000)

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

describe('publishing @verisim/cli', () => {
  it('should pack every package public, with real versions and every import declared', () => {
    expect([...packed.keys()]).toContain('@verisim/cli')
    for (const [name, { dir, manifest }] of packed) {
      expect(manifest.private, name).toBeUndefined()
      const declared = { ...manifest.dependencies, ...manifest.peerDependencies }
      for (const [dep, range] of Object.entries(declared))
        expect(range, `${name} → ${dep}`).not.toMatch(/^workspace:/)
      const undeclared = [...importedPackages(join(dir, 'dist'))].filter(
        (dep) => dep !== name && !(dep in declared),
      )
      expect(undeclared, `${name} imports packages its manifest does not declare`).toEqual([])
    }
  })

  it('should carry the worlds config in @verisim/worlds and leave none in the repository', () => {
    const worlds = packed.get('@verisim/worlds')!
    const config = files(join(worlds.dir, 'config')).map((f) =>
      relative(join(worlds.dir, 'config'), f),
    )
    expect(config).toContain(join('tutoring', 'streams.json'))
    expect(config).toContain(join('example', 'streams.json'))
    // postpack removed the copy it made for the tarball
    expect(() => readdirSync(join(worlds.source, 'config'))).toThrow()
  })

  it('should run the packed CLI outside the repository: generate a file of the example world', () => {
    // node_modules as npm would lay it out: the tarballs (extracted there), and
    // their third-party dependencies linked from the workspace's install
    const app = join(tmp, 'app')
    const nm = join(app, 'node_modules')
    const linked = new Set<string>()
    for (const { manifest, source } of packed.values()) {
      const req = createRequire(join(source, 'package.json'))
      for (const dep of Object.keys(manifest.dependencies ?? {})) {
        if (packed.has(dep) || linked.has(dep)) continue
        mkdirSync(dirname(join(nm, dep)), { recursive: true })
        symlinkSync(packageDir(req, dep), join(nm, dep))
        linked.add(dep)
      }
    }
    const bin = join(nm, '@verisim/cli', 'dist', 'bin.js')
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'generate',
        '--world',
        'example',
        '--seed',
        '3',
        '--start',
        '2026-03-02T00:00:00Z',
        '--duration',
        '30m',
        '--out',
        '-',
      ],
      { cwd: app, encoding: 'utf8', env: { ...process.env, VERISIM_CONFIG_DIR: '' } },
    )
    expect(r.status, r.stderr).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines.length).toBeGreaterThan(0)
    expect(JSON.parse(lines[0]!)).toMatchObject({ world: 'example' })
  }, 60_000)
})
