/**
 * Fuzz: 10,000 random and malformed frames (random JSON values, near-valid
 * messages with wrong field types, oversized strings, binary, unicode) at one
 * socket while a second client streams. The gateway must answer each bad
 * frame with an error, keep the fuzzed socket open, stay up, and leave the
 * second client's stream exactly equal to what was written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import WebSocket from 'ws'
import { MAX_FRAME_BYTES, ProtocolErrorCode } from '@verisim/schema'
import { connect, startHarness, until, type Harness } from './helpers.js'

const RUNS = 100
const FRAMES_PER_RUN = 100 // RUNS × FRAMES_PER_RUN = 10,000 frames

let h: Harness

beforeAll(async () => {
  h = await startHarness()
})
afterAll(async () => {
  await h?.close()
})

interface Frame {
  data: string | Buffer
  /** Must be refused with exactly this error code (null: any outcome is allowed, but at most one error). */
  mustFail: string | null
}

const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
)
const wrongTopics = fc.oneof(
  wrongValue,
  fc.constant([]),
  fc.array(wrongValue, { minLength: 1, maxLength: 4 }),
  fc.array(fc.constant(''), { minLength: 1, maxLength: 2 }),
  fc.array(fc.constant('*'), { minLength: 101, maxLength: 120 }),
)
const badId = fc.oneof(
  wrongValue,
  fc.string({ maxLength: 20 }).filter((s) => !/^\d{1,15}-\d{1,15}$/.test(s)),
)

/** Messages of a known type with at least one field of the wrong type, missing, or extra. */
const nearValid: fc.Arbitrary<Frame> = fc
  .oneof(
    fc.record({ type: fc.constant('subscribe'), topics: wrongTopics }),
    fc.record({ type: fc.constant('subscribe'), topics: fc.constant(['*']), lastId: badId }),
    fc.record({
      type: fc.constant('subscribe'),
      topics: fc.constant(['*']),
      lastTimestamp: wrongValue,
    }),
    fc.record({ type: fc.constant('unsubscribe'), topics: wrongTopics }),
    fc.record({ type: fc.constant('unsubscribe') }),
    fc.record({ type: fc.constant('ping'), ts: wrongValue }),
    fc.record({ type: fc.constant('pong'), ts: wrongValue }),
    fc.record({ type: fc.constant('auth'), token: wrongValue }),
    fc.record({
      type: fc.constant('control'),
      requestId: wrongValue,
      action: fc.constant('get_state'),
    }),
    fc.record({
      type: fc.constant('control'),
      requestId: fc.constant('r'),
      action: fc.oneof(wrongValue, fc.constant('dance')),
    }),
    fc.record({ type: fc.constant('ping'), [`x${'y'}`]: fc.string({ maxLength: 8 }) }),
  )
  .map((m) => ({ data: JSON.stringify(m), mustFail: ProtocolErrorCode.invalidMessage }))

const randomJson: fc.Arbitrary<Frame> = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => ({ data: JSON.stringify(v) ?? 'null', mustFail: null }))

const randomObjectWithType: fc.Arbitrary<Frame> = fc
  .record({
    type: fc.oneof(fc.string({ maxLength: 12 }), wrongValue),
    rest: fc.jsonValue({ maxDepth: 2 }),
  })
  .map((m) => ({ data: JSON.stringify(m), mustFail: null }))

const unicodeText: fc.Arbitrary<Frame> = fc
  .string({ unit: 'grapheme', maxLength: 200 })
  .map((s) => ({ data: s, mustFail: null }))

const brokenJson: fc.Arbitrary<Frame> = fc
  .tuple(
    fc.constantFrom(
      '{"type":"subscribe","topics":["*"',
      '{"type":',
      '[',
      '{"type":"ping"}}',
      '{\u0000}',
      '"',
    ),
    fc.string({ maxLength: 10 }),
  )
  .map(([a, b]) => ({ data: a + b, mustFail: null }))

const huge: fc.Arbitrary<Frame> = fc
  .tuple(
    fc.integer({ min: MAX_FRAME_BYTES + 1, max: 300_000 }),
    fc.constantFrom('plain', 'topic', 'unicode'),
  )
  .map(([n, kind]) => ({
    data:
      kind === 'plain'
        ? 'a'.repeat(n)
        : kind === 'topic'
          ? `{"type":"subscribe","topics":["${'t'.repeat(n)}"]}`
          : '€'.repeat(Math.ceil(n / 3)),
    mustFail: ProtocolErrorCode.frameTooLarge,
  }))

const binary: fc.Arbitrary<Frame> = fc
  .uint8Array({ maxLength: 2000 })
  .map((bytes) => ({ data: Buffer.from(bytes), mustFail: ProtocolErrorCode.binaryFrame }))

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: nearValid },
  { weight: 3, arbitrary: randomJson },
  { weight: 2, arbitrary: randomObjectWithType },
  { weight: 2, arbitrary: unicodeText },
  { weight: 2, arbitrary: brokenJson },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: binary },
)

const KNOWN_REPLIES = new Set([
  'error',
  'pong',
  'subscribed',
  'unsubscribed',
  'catchup',
  'batch',
  'ack',
  'ping',
  'state_update',
])
const KNOWN_CODES = new Set<string>(Object.values(ProtocolErrorCode))

describe('fuzz', () => {
  it('should refuse 10,000 random and malformed frames without disturbing another client', async () => {
    const watcher = connect(h.url)
    await watcher.opened
    watcher.ws.send('{"type":"subscribe","topics":["*"]}')
    await until(() => watcher.rx.messages.some((m) => m.type === 'subscribed'))
    const stop = h.pump(10, 10)

    const fuzzed = new WebSocket(h.url.replace('http', 'ws') + '/ws')
    await new Promise((resolve, reject) => fuzzed.once('open', resolve).once('error', reject))
    let replies: Record<string, unknown>[] = []
    let waiter: ((m: Record<string, unknown>) => void) | null = null
    fuzzed.on('message', (d, isBinary) => {
      expect(isBinary).toBe(false)
      const m = JSON.parse(d.toString()) as Record<string, unknown> // every reply is JSON
      if (m.type === 'pong' && typeof m.ts === 'string' && m.ts.startsWith('sentinel-')) waiter?.(m)
      else replies.push(m)
    })
    let closedWith: number | null = null
    fuzzed.on('close', (code) => (closedWith = code))

    let run = 0
    let sent = 0
    let errors = 0
    const byCode = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(
        fc.array(frame, { minLength: FRAMES_PER_RUN, maxLength: FRAMES_PER_RUN }),
        async (frames) => {
          const tag = `sentinel-${run++}`
          replies = []
          const answered = new Promise<void>((resolve, reject) => {
            const t = setTimeout(
              () => reject(new Error(`no answer to ${tag} (socket closed with ${closedWith})`)),
              10_000,
            )
            waiter = (m) => {
              if (m.ts === tag) {
                clearTimeout(t)
                resolve()
              }
            }
          })
          // All of a run's frames at once (more than the pause threshold), then a sentinel.
          for (const f of frames) fuzzed.send(f.data, { binary: Buffer.isBuffer(f.data) })
          fuzzed.send(JSON.stringify({ type: 'ping', ts: tag }))
          sent += frames.length
          await answered
          const errs = replies.filter((m) => m.type === 'error')
          errors += errs.length
          for (const e of errs)
            byCode.set(e.code as string, (byCode.get(e.code as string) ?? 0) + 1)
          for (const m of replies) {
            expect(KNOWN_REPLIES.has(m.type as string), JSON.stringify(m).slice(0, 200)).toBe(true)
            if (m.type === 'error') {
              expect(KNOWN_CODES.has(m.code as string), String(m.code)).toBe(true)
              expect(typeof m.message).toBe('string')
              expect((m.message as string).length).toBeGreaterThan(10)
              expect((m.message as string).length).toBeLessThan(2000)
            }
          }
          // Replies come in frame order: the refusals that must happen are a subsequence of the errors.
          const must = frames.filter((f) => f.mustFail !== null).map((f) => f.mustFail)
          const codes = errs.map((e) => e.code as string)
          let i = 0
          for (const code of codes) if (i < must.length && code === must[i]) i++
          expect(i, `errors ${codes.join(',')} vs required ${must.join(',')}`).toBe(must.length)
          // No frame is answered with more than one error.
          expect(errs.length).toBeLessThanOrEqual(frames.length)
          expect(fuzzed.readyState).toBe(WebSocket.OPEN)
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    )
    expect(sent).toBe(RUNS * FRAMES_PER_RUN)
    expect(errors).toBeGreaterThan(sent * 0.8)
    // Every kind of refusal was exercised.
    for (const code of [
      'VS_GW_BAD_JSON',
      'VS_GW_BAD_MESSAGE',
      'VS_GW_UNKNOWN_TYPE',
      'VS_GW_INVALID_MESSAGE',
      'VS_GW_FRAME_TOO_LARGE',
      'VS_GW_BINARY_FRAME',
    ]) {
      expect(byCode.get(code) ?? 0, code).toBeGreaterThan(50)
    }

    await stop()
    const health = await fetch(`${h.url}/health/ready`)
    expect(health.status).toBe(200)
    await until(
      () => watcher.rx.events.length >= h.written.length,
      10_000,
      'all events at the watcher',
    )
    await new Promise((r) => setTimeout(r, 300)) // anything extra would show up now
    const got = watcher.rx.events.map((e) => e.id)
    expect(new Set(got).size).toBe(got.length) // 0 duplicates
    expect(got).toEqual(h.written.map((e) => e.id)) // 0 gaps, same order
    expect(h.written.length).toBeGreaterThan(300)
    expect(fuzzed.readyState).toBe(WebSocket.OPEN)
    fuzzed.close()
    watcher.ws.close()
  }, 180_000)
})
