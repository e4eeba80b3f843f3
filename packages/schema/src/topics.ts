/**
 * Topic parsing and matching. A topic names a set of events: `*`, `<domain>.*`,
 * an exact stream name, a cadence group, `anomalies`, `external-events` or
 * `simulation_control`. A subscription is the union of its topics.
 */
import type { AnomalyFlag, Cadence, StreamInfo } from './event.js'
import { streamPatternMatcher } from './patterns.js'

/** Channels that carry something other than a world's own streams. */
export const SpecialChannel = {
  external: 'external',
  control: 'simulation_control',
} as const

export type Topic =
  | { kind: 'all' }
  | { kind: 'domain'; domain: string }
  | { kind: 'stream'; stream: string }
  | { kind: 'cadence'; cadence: Cadence }
  | { kind: 'anomalies' }
  | { kind: 'external' }
  | { kind: 'control' }

/** What the matcher needs to know about an event, available without parsing its JSON. */
export interface MatchableEvent {
  stream: string
  channel: string
  anomalyFlag: AnomalyFlag | string
}

export const TOPIC_FORMS =
  '"*", "<domain>.*" (e.g. "customer.*"), an exact stream name (e.g. "customer.tutor.search"), "high-frequency", "medium-frequency", "low-frequency", "anomalies", "external-events" or "simulation_control"'

export class UnknownTopicError extends Error {
  readonly code = 'VS_GW_UNKNOWN_TOPIC'
  constructor(readonly topics: string[]) {
    super(
      `unknown topic${topics.length > 1 ? 's' : ''} ${topics.map((t) => JSON.stringify(t)).join(', ')}; expected ${TOPIC_FORMS}`,
    )
    this.name = 'UnknownTopicError'
  }
}

const CADENCE_TOPICS: Record<string, Cadence> = {
  'high-frequency': 'high',
  'medium-frequency': 'medium',
  'low-frequency': 'low',
}

/** Parses one topic against the world's catalog; `undefined` when it names nothing. */
export function parseTopic(topic: string, catalog: readonly StreamInfo[]): Topic | undefined {
  if (topic === '*') return { kind: 'all' }
  if (topic === 'anomalies') return { kind: 'anomalies' }
  if (topic === 'external-events') return { kind: 'external' }
  if (topic === 'simulation_control') return { kind: 'control' }
  const cadence = CADENCE_TOPICS[topic]
  if (cadence) return { kind: 'cadence', cadence }
  if (topic.endsWith('.*')) {
    const domain = topic.slice(0, -2)
    return catalog.some((s) => s.domain === domain) ? { kind: 'domain', domain } : undefined
  }
  return catalog.some((s) => s.name === topic) ? { kind: 'stream', stream: topic } : undefined
}

/**
 * Canonical, deduplicated, sorted topic list: two clients with the same
 * canonical list share one serialized batch per flush.
 */
export function canonicalTopics(topics: Iterable<string>): string[] {
  return [...new Set(topics)].sort()
}

/**
 * Builds a predicate for the union of `topics`. Throws `UnknownTopicError`
 * naming every topic that matched nothing in the catalog.
 *
 * @example
 * const match = createTopicMatcher(['customer.*', 'anomalies'], catalog)
 * match({ stream: 'customer.tutor.search', channel: 'customer', anomalyFlag: 'normal' }) // true
 */
export function createTopicMatcher(
  topics: readonly string[],
  catalog: readonly StreamInfo[],
): (event: MatchableEvent) => boolean {
  const unknown: string[] = []
  const parsed: Topic[] = []
  for (const t of topics) {
    const p = parseTopic(t, catalog)
    if (p) parsed.push(p)
    else unknown.push(t)
  }
  if (unknown.length > 0) throw new UnknownTopicError(unknown)

  const all = parsed.some((p) => p.kind === 'all')
  const cadenceOf = new Map(catalog.map((s) => [s.name, s.cadence]))
  const streams = new Set<string>()
  const domains = new Set<string>()
  const cadences = new Set<Cadence>()
  let anomalies = false
  let external = false
  let control = false
  for (const p of parsed) {
    if (p.kind === 'stream') streams.add(p.stream)
    else if (p.kind === 'domain') domains.add(p.domain)
    else if (p.kind === 'cadence') cadences.add(p.cadence)
    else if (p.kind === 'anomalies') anomalies = true
    else if (p.kind === 'external') external = true
    else if (p.kind === 'control') control = true
  }
  if (all) return (e) => e.channel !== SpecialChannel.control || control
  // `<domain>.*` is a stream pattern (a world's stream names begin with `<domain>.`).
  const inDomains = [...domains].map((d) => streamPatternMatcher(`${d}.*`))
  const inDomain = (stream: string) => {
    for (const match of inDomains) if (match(stream)) return true
    return false
  }
  return (e) => {
    if (e.channel === SpecialChannel.control) return control
    if (e.channel === SpecialChannel.external) return external
    if (streams.has(e.stream)) return true
    if (inDomain(e.stream)) return true
    if (anomalies && e.anomalyFlag !== 'normal') return true
    if (cadences.size > 0) {
      const c = cadenceOf.get(e.stream)
      if (c && cadences.has(c)) return true
    }
    return false
  }
}

/** The domain of a stream is its first dot-separated segment. */
export function domainOf(stream: string): string {
  const dot = stream.indexOf('.')
  return dot === -1 ? stream : stream.slice(0, dot)
}
