/** docs/CLI.md holds every command's current `--help` (node scripts/gen-cli-doc.mjs writes it). */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderHelpReference } from '../src/program.js'

describe('docs/CLI.md', () => {
  it("should hold every command's current --help", () => {
    const doc = readFileSync(new URL('../../../docs/CLI.md', import.meta.url), 'utf8')
    const section = doc.slice(doc.indexOf('<!-- help:begin -->'), doc.indexOf('<!-- help:end -->'))
    expect(section.trim(), 'run node scripts/gen-cli-doc.mjs after pnpm build').toBe(
      `<!-- help:begin -->\n\n${renderHelpReference()}`.trim(),
    )
    for (const cmd of ['generate', 'score', 'tail', 'types', 'baseline export', 'world act'])
      expect(section).toContain(`verisim ${cmd} --help`)
  })
})
