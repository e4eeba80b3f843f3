import { describe, expect, it } from 'vitest'
import { streamPatternCovers, streamPatternMatcher } from '../src/index.js'

const names = ['session.completed', 'session.booking.requested', 'sessions.completed', 'support.x']

describe('streamPatternMatcher', () => {
  it('should match every stream with "*"', () => {
    expect(names.filter(streamPatternMatcher('*'))).toEqual(names)
  })

  it('should match a prefix up to and including its dot with "<prefix>.*"', () => {
    expect(names.filter(streamPatternMatcher('session.*'))).toEqual([
      'session.completed',
      'session.booking.requested',
    ])
    expect(names.filter(streamPatternMatcher('session.booking.*'))).toEqual([
      'session.booking.requested',
    ])
    // The bare prefix is not a stream of the pattern.
    expect(streamPatternMatcher('session.*')('session')).toBe(false)
  })

  it('should match only the exact name otherwise', () => {
    expect(names.filter(streamPatternMatcher('session.completed'))).toEqual(['session.completed'])
    expect(names.filter(streamPatternMatcher('session'))).toEqual([])
    expect(names.filter(streamPatternMatcher('session*'))).toEqual([])
  })
})

describe('streamPatternCovers', () => {
  it('should say whether one pattern matches everything another can', () => {
    expect(streamPatternCovers('*', '*')).toBe(true)
    expect(streamPatternCovers('*', 'session.*')).toBe(true)
    expect(streamPatternCovers('session.*', 'session.completed')).toBe(true)
    expect(streamPatternCovers('session.*', 'session.booking.*')).toBe(true)
    expect(streamPatternCovers('session.*', 'session.*')).toBe(true)
    expect(streamPatternCovers('session.*', '*')).toBe(false)
    expect(streamPatternCovers('session.*', 'sessions.completed')).toBe(false)
    expect(streamPatternCovers('session.completed', 'session.*')).toBe(false)
    expect(streamPatternCovers('session.completed', 'session.completed')).toBe(true)
  })
})
