import { describe, expect, it } from 'vitest'
import { createKeys, historyKeys } from '../src/index.js'

describe('history keys', () => {
  it('should hash-tag every history key by world', () => {
    const hk = historyKeys(createKeys('vs', 'tutoring'))
    const F = Date.UTC(2026, 10, 1)
    expect(hk.meta).toBe('vs:{tutoring}:hist:meta')
    expect(hk.doc(3)).toBe('vs:{tutoring}:hist:v:3')
    expect(hk.stats).toBe('vs:{tutoring}:hist:stats')
    expect(hk.events).toBe('vs:{tutoring}:hist:events')
    expect(hk.live(F)).toBe(`vs:{tutoring}:hist:live:${F}`)
    expect(hk.livePattern).toBe('vs:{tutoring}:hist:live:*')
  })
})
