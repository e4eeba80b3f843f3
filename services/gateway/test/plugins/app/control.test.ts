/**
 * Control dedup keys are the caller's (issue 14: a requestId was global, so
 * one connection's id answered another's command).
 */
import { describe, expect, it } from 'vitest'
import { callerKey } from '../../../src/plugins/app/control.js'

describe('callerKey', () => {
  it('should give the same key to the same caller and id, and never carry the id or token', () => {
    const caller = { token: 'secret-token', address: '10.0.0.7' }
    const key = callerKey('ws', caller, 'r1')
    expect(callerKey('ws', { ...caller }, 'r1')).toBe(key)
    expect(key).toMatch(/^ws:[A-Za-z0-9_-]{32}$/)
    expect(key).not.toContain('r1')
    expect(key).not.toContain('secret')
  })

  it('should keep callers, transports and ids apart', () => {
    const caller = { token: 't', address: '10.0.0.7' }
    const key = callerKey('ws', caller, 'r1')
    expect(callerKey('ws', { ...caller, address: '10.0.0.8' }, 'r1')).not.toBe(key)
    expect(callerKey('ws', { ...caller, token: 'u' }, 'r1')).not.toBe(key)
    expect(callerKey('ws', { ...caller, token: null }, 'r1')).not.toBe(key)
    expect(callerKey('rest', caller, 'r1')).not.toBe(
      callerKey('ws', caller, 'r1').replace('ws', 'rest'),
    )
    expect(callerKey('ws', caller, 'r2')).not.toBe(key)
  })
})
