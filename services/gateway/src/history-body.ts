/**
 * History responses built without holding the event loop and kept per history
 * version: the JSON is written stream by stream into a gzip stream (zlib runs
 * on the thread pool) with a turn of the event loop between streams, and the
 * compressed bytes are cached under the answer's identity (run, served
 * version, external events, range, and the simulation time while the range
 * still covers open live buckets). Identical requests in flight share one
 * build; at most `builds` different ones are built at a time. The identity
 * also gives the weak ETag, so `If-None-Match` is answered before anything
 * large is read.
 */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { promisify } from 'node:util'
import { createGzip, gunzip } from 'node:zlib'
import type { HistoryPlan, HistoryRollUp } from '@verisim/bus'

/**
 * Open answers (their identity holds the simulation time) kept, across queries:
 * once the time moves on they are only hit by requests at that same time, so a
 * reader whose range moves with the clock (a start relative to the wall clock
 * …) would otherwise fill the cache with answers nobody asks for again.
 */
export const OPEN_KEPT = 8

/** Uncompressed bodies kept for clients that do not take gzip (each up to ~14 MB). */
export const PLAIN_KEPT = 2

const gunzipAsync = promisify(gunzip)

/** Points serialized between two turns of the event loop. */
const SLICE_POINTS = 4096

export interface HistoryBody {
  etag: string
  /** The JSON, gzip-compressed. */
  gzip: Buffer
  /** Length of the uncompressed JSON. */
  bytes: number
}

export interface HistoryBodies {
  /** The weak ETag of a plan's answer (no reading, no building). */
  etag(plan: HistoryPlan): string
  /** The compressed answer: from the cache, joined to a build in flight, or built. */
  get(plan: HistoryPlan): Promise<HistoryBody>
  /**
   * The uncompressed JSON of a body, for clients that do not take gzip:
   * decompressed once (on the thread pool) and shared by the requests for it;
   * the last {@link PLAIN_KEPT} are kept.
   */
  plain(body: HistoryBody): Promise<Buffer>
  /** Bytes held by the cache. */
  readonly cachedBytes: number
  clear(): void
}

/** A weak ETag of an identity (weak: `timeRange.now` may differ between equal answers). */
export function historyEtag(identity: string): string {
  return `W/"h${createHash('sha1').update(identity).digest('base64url').slice(0, 22)}"`
}

/** Whether an `If-None-Match` header matches `etag` (weak comparison, `*` matches). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag.replace(/^W\//, '') === bare
  })
}

/** Whether an `Accept-Encoding` header accepts gzip (`gzip` or `*` without `q=0`). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header
  if (!value) return false
  return value.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    if (name !== 'gzip' && name !== 'x-gzip' && name !== '*') return false
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}

/** An identity without its last part (the simulation time of an open range). */
const queryOf = (identity: string) => identity.slice(0, identity.lastIndexOf('|'))

/** Writes the response JSON into gzip stream by stream; returns the compressed bytes. */
async function serialize(r: HistoryRollUp): Promise<{ gzip: Buffer; bytes: number }> {
  const gz = createGzip({ level: 6 })
  const out: Buffer[] = []
  gz.on('data', (c: Buffer) => out.push(c))
  const ended = once(gz, 'end')
  let bytes = 0
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s)
    if (!gz.write(s)) await once(gz, 'drain')
  }
  try {
    await write(`{"timeRange":${JSON.stringify(r.timeRange)},"streams":{`)
    for (let k = 0; k < r.streams.length; k++) {
      await nextTurn()
      const name = r.streams[k] as string
      const points = r.points(name)
      await write(`${k > 0 ? ',' : ''}${JSON.stringify(name)}:[`)
      for (let i = 0; i < points.length; i += SLICE_POINTS) {
        if (i > 0) await nextTurn()
        const slice = JSON.stringify(points.slice(i, i + SLICE_POINTS))
        await write(`${i > 0 ? ',' : ''}${slice.slice(1, -1)}`)
      }
      await write(']')
    }
    await write(`},"events":${JSON.stringify(r.events)}}`)
    gz.end()
    await ended
  } catch (err) {
    gz.destroy()
    throw err
  }
  return { gzip: Buffer.concat(out), bytes }
}

/**
 * @example
 * const bodies = createHistoryBodies({ maxBytes: 64 << 20, builds: 1 })
 * const plan = await reader.plan(request)
 * const body = await bodies.get(plan) // body.gzip, body.etag
 */
export interface HistoryBodiesOptions {
  /** Bytes of compressed answers kept. */
  maxBytes: number
  /** Answers built at the same time. */
  builds: number
  /** Where each answer came from (for metrics). */
  onAnswer?(source: 'cache' | 'joined' | 'built'): void
  /** A build finished: its wall time and compressed size. */
  onBuilt?(seconds: number, gzipBytes: number): void
}

export function createHistoryBodies(opts: HistoryBodiesOptions): HistoryBodies {
  /** Finished bodies, least recently used first. */
  const cache = new Map<string, HistoryBody>()
  const inFlight = new Map<string, Promise<HistoryBody>>()
  /** Uncompressed bodies, least recently used first. */
  const plains = new Map<HistoryBody, Promise<Buffer>>()
  let cachedBytes = 0
  let running = 0
  const waiting: (() => void)[] = []

  const acquire = async () => {
    if (running < opts.builds) {
      running++
      return
    }
    // The slot is handed over by release(): `running` stays as it is.
    await new Promise<void>((resolve) => waiting.push(resolve))
  }
  const release = () => {
    const next = waiting.shift()
    if (next) next()
    else running--
  }

  /** Query (identity without the simulation time) → the one open body kept for it. */
  const openByQuery = new Map<string, string>()
  /** Open bodies kept, oldest first (at most {@link OPEN_KEPT}). */
  const openKeys = new Set<string>()
  const drop = (key: string) => {
    const b = cache.get(key)
    if (!b) return
    cache.delete(key)
    cachedBytes -= b.gzip.length
    if (openKeys.delete(key) && openByQuery.get(queryOf(key)) === key)
      openByQuery.delete(queryOf(key))
  }

  const store = (plan: HistoryPlan, body: HistoryBody) => {
    const key = plan.identity
    if (body.gzip.length > opts.maxBytes) return
    if (plan.open) {
      // An open answer is superseded once the simulation time moves on.
      const query = queryOf(key)
      const previous = openByQuery.get(query)
      if (previous !== undefined) drop(previous)
      openByQuery.set(query, key)
      openKeys.add(key)
      for (const k of openKeys) {
        if (openKeys.size <= OPEN_KEPT) break
        drop(k)
      }
    }
    cache.set(key, body)
    cachedBytes += body.gzip.length
    for (const k of cache.keys()) {
      if (cachedBytes <= opts.maxBytes) break
      drop(k)
    }
  }

  async function build(plan: HistoryPlan, etag: string): Promise<HistoryBody> {
    await acquire()
    try {
      const started = performance.now()
      const { gzip, bytes } = await serialize(await plan.load())
      const body = { etag, gzip, bytes }
      store(plan, body)
      opts.onBuilt?.((performance.now() - started) / 1000, gzip.length)
      return body
    } finally {
      release()
    }
  }

  return {
    etag: (plan) => historyEtag(plan.identity),
    get(plan) {
      const key = plan.identity
      const hit = cache.get(key)
      if (hit) {
        cache.delete(key) // most recently used last
        cache.set(key, hit)
        opts.onAnswer?.('cache')
        return Promise.resolve(hit)
      }
      // An open range joins a build of the same query in flight even if the
      // simulation time moved on since: it gets an answer at most one build old.
      const flightKey = plan.open ? queryOf(key) : key
      const pending = inFlight.get(flightKey)
      if (pending) {
        opts.onAnswer?.('joined')
        return pending
      }
      opts.onAnswer?.('built')
      const p = build(plan, historyEtag(key)).finally(() => inFlight.delete(flightKey))
      inFlight.set(flightKey, p)
      return p
    },
    plain(body) {
      let p = plains.get(body)
      if (p) plains.delete(body)
      else {
        p = gunzipAsync(body.gzip)
        p.catch(() => plains.delete(body))
      }
      plains.set(body, p)
      while (plains.size > PLAIN_KEPT) plains.delete(plains.keys().next().value as HistoryBody)
      return p
    },
    get cachedBytes() {
      return cachedBytes
    },
    clear() {
      cache.clear()
      openByQuery.clear()
      openKeys.clear()
      plains.clear()
      cachedBytes = 0
    },
  }
}
