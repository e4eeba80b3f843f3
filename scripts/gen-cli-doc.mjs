#!/usr/bin/env node
/**
 * Writes every `verisim` command's `--help` into docs/CLI.md, between the
 * `<!-- help:begin -->` and `<!-- help:end -->` markers (needs `pnpm build`).
 * packages/cli/test/docs.test.ts fails when the file is not current.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const doc = join(root, 'docs', 'CLI.md')
const { renderHelpReference } = await import(
  pathToFileURL(join(root, 'packages', 'cli', 'dist', 'program.js')).href
)
const text = readFileSync(doc, 'utf8')
const begin = '<!-- help:begin -->'
const end = '<!-- help:end -->'
const a = text.indexOf(begin)
const b = text.indexOf(end)
if (a < 0 || b < a) {
  console.error(`docs/CLI.md has no ${begin} … ${end} section`)
  process.exit(1)
}
writeFileSync(
  doc,
  `${text.slice(0, a + begin.length)}\n\n${renderHelpReference()}\n${text.slice(b)}`,
)
console.log('docs/CLI.md: the --help reference is current')
