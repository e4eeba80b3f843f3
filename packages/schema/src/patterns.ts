/**
 * Stream patterns: which streams a scenario modifier, an external event's
 * expected impact or a topic subscription names. A pattern is `*` (every
 * stream), `<prefix>.*` (every stream whose name begins with `<prefix>.`) or an
 * exact stream name. Defined once, here, so the engine, the history model and
 * the gateway's topic matcher agree on what a pattern names.
 */

/**
 * A predicate for the streams `pattern` matches.
 *
 * @example
 * const match = streamPatternMatcher('session.*')
 * match('session.completed') // true
 * match('sessions.completed') // false
 * streamPatternMatcher('*')('anything') // true
 */
export function streamPatternMatcher(pattern: string): (name: string) => boolean {
  if (pattern === '*') return () => true
  if (pattern.endsWith('.*')) {
    // Keep the dot: `session.*` must not match `sessions.completed`.
    const prefix = pattern.slice(0, -1)
    return (name) => name.startsWith(prefix)
  }
  return (name) => name === pattern
}

/**
 * Whether `outer` matches every stream `inner` can match.
 *
 * @example
 * streamPatternCovers('session.*', 'session.completed') // true
 * streamPatternCovers('session.*', 'session.*') // true
 * streamPatternCovers('session.*', '*') // false
 */
export function streamPatternCovers(outer: string, inner: string): boolean {
  if (outer === '*' || outer === inner) return true
  if (outer.endsWith('.*') && inner !== '*') return inner.startsWith(outer.slice(0, -1))
  return false
}
