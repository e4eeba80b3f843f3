#!/usr/bin/env node
/**
 * `pnpm verisim …` from the repository: runs the `verisim` command line of
 * packages/cli (`verisim --help` lists its commands), building it first when
 * it is not built. Exit codes: 0 done, 1 failed, 2 bad command line.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const CLI_DIST = join(root, 'packages', 'cli', 'dist', 'program.js')
/** The packages the command line runs on; a stale build of any of them is worth a note. */
const SOURCES = [
  'packages/cli',
  'packages/sim',
  'packages/client',
  'packages/bus',
  'packages/schema',
]

const write = (s) => process.stderr.write(s)

function newestMtime(dir) {
  let newest = 0
  if (!existsSync(dir)) return newest
  for (const f of readdirSync(dir, { recursive: true })) {
    const st = statSync(join(dir, String(f)))
    if (st.isFile()) newest = Math.max(newest, st.mtimeMs)
  }
  return newest
}

async function build() {
  write(
    'verisim: the command line is not built; building it (pnpm exec turbo run build --filter=@verisim/cli...)\n',
  )
  let code = 1
  try {
    const { ensureInstalled, findPnpm, runPnpm } = await import('./pnpm.mjs')
    const pnpm = findPnpm()
    await ensureInstalled(pnpm, (m) => write(`verisim: ${m}\n`))
    code = await runPnpm(
      pnpm,
      ['exec', 'turbo', 'run', 'build', '--filter=@verisim/cli...', '--output-logs=errors-only'],
      { stdio: ['ignore', 2, 2] },
    )
  } catch (err) {
    write(`verisim: ${err instanceof Error ? err.message : err}\n`)
  }
  if (code !== 0 || !existsSync(CLI_DIST))
    throw new Error(
      'the command line is not built and building it failed; run `pnpm build` at the repository root, then try again',
    )
}

try {
  if (!existsSync(CLI_DIST)) await build()
  else {
    const built = statSync(CLI_DIST).mtimeMs
    const stale = SOURCES.filter((p) => newestMtime(join(root, p, 'src')) > built)
    if (stale.length > 0)
      write(
        `verisim: note: ${stale.join(', ')} changed since the command line was built; run \`pnpm build\` to use the changes\n`,
      )
  }
  const argv = process.argv.slice(2)
  // `generate` runs in a child node with the flags it wants (packages/cli/src/lib/heap.ts)
  const heap = await import(
    pathToFileURL(join(root, 'packages', 'cli', 'dist', 'lib', 'heap.js')).href
  )
  const flags = heap.flagsToRerunWith(argv)
  if (flags)
    // the built binary itself, so the checks above are not run (and printed) twice
    process.exitCode = await heap.rerunWithFlags(
      flags,
      join(root, 'packages', 'cli', 'dist', 'bin.js'),
      argv,
    )
  else {
    const { main } = await import(pathToFileURL(CLI_DIST).href)
    process.exitCode = await main(argv)
  }
} catch (err) {
  write(`verisim: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
}
