import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { format } from 'prettier'
import { describe, expect, it } from 'vitest'
import { renderStreamsDoc } from '@verisim/sim'
import { REPO_ROOT, tutoring } from './helpers.js'

describe('doc', () => {
  it('docs/streams.md should be up to date with config/worlds/tutoring (node scripts/gen-streams-doc.mjs)', async () => {
    const target = join(REPO_ROOT, 'docs', 'streams.md')
    const expected = await format(renderStreamsDoc(tutoring()), {
      parser: 'markdown',
      filepath: target,
      proseWrap: 'preserve',
    })
    expect(readFileSync(target, 'utf8')).toBe(expected)
  })

  it('doc should document every stream with its unit and value field', () => {
    const md = renderStreamsDoc(tutoring())
    for (const s of tutoring().streams) {
      expect(md).toContain(`\`${s.name}\``)
      expect(md).toContain(`\`${s.valueField}\` (${s.unit})`)
    }
  })
})
