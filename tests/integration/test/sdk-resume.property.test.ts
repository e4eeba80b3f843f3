/**
 * Property: whatever the disconnects, a client of the SDK receives exactly the
 * written sequence for its topics. Over a high-rate stream (generator and
 * gateway as real processes), fast-check draws topic sets and schedules of
 * disconnects — clean closes, `terminate()` without a closing handshake, and
 * destroyed TCP sockets — and the SDK reconnects and resumes each time. The
 * events it delivered must equal the XRANGE read-back of the world's streams,
 * filtered to its topics, over the same window: 0 gaps, 0 duplicates, and
 * nothing the gateway re-sent (the SDK's own duplicate counter stays 0).
 */
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import WebSocket from 'ws'
import { createClient, type StreamEvent } from '@verisim/client'
import { createKeys, listChannelKeys, retentionFloor } from '@verisim/bus'
import { createTopicMatcher, type StreamInfo } from '@verisim/schema'
import { compare, startStack, storedEvents, type Stack } from './harness.js'

const RUNS = 4
const DISCONNECTS_PER_RUN = 30 // ≥ 100 in all
let stack: Stack
let catalog: StreamInfo[] = []

beforeAll(async () => {
  // Retention far above what the run writes: the read-back must still hold every event delivered.
  // Warmed up, so every stream (chain outcomes such as payments too) flows from the first second.
  stack = await startStack({
    env: {
      VERISIM_SPEED: '1500',
      VERISIM_SEED: '21',
      VERISIM_RETENTION: '10000000',
      VERISIM_WARMUP_HOURS: '48',
    },
  })
  catalog = JSON.parse(
    (await stack.redis.get(createKeys(stack.prefix, 'tutoring').catalog))!,
  ) as StreamInfo[]
})
afterAll(async () => {
  await stack?.stop()
})

type Cut = { afterMs: number; kind: 'close' | 'terminate' | 'destroy' }

/** `ws` whose live instances the test can reach, to cut them the way networks and browsers do. */
const sockets: WebSocket[] = []
class TrackedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url)
    sockets.push(this)
  }
}

function cut(ws: WebSocket, kind: Cut['kind']): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false
  if (kind === 'close') ws.close(1000, 'test: clean close')
  else if (kind === 'terminate') ws.terminate()
  else (ws as unknown as { _socket: Socket })._socket.destroy()
  return true
}

describe('SDK resume under disconnects', () => {
  it('should deliver exactly the written sequence for its topics across 100+ random disconnects', async () => {
    const topicPool = [
      '*',
      'customer.*',
      'session.*',
      'tutor.*',
      'system.*',
      'anomalies',
      'high-frequency',
      'low-frequency',
      ...catalog.slice(0, 6).map((s) => s.name),
    ]
    let totalCuts = 0
    let totalEvents = 0
    let rate = 0
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...topicPool), { minLength: 1, maxLength: 3 }),
        fc.array(
          fc.record({
            afterMs: fc.integer({ min: 20, max: 250 }),
            kind: fc.constantFrom<Cut['kind']>('close', 'terminate', 'destroy'),
          }),
          { minLength: DISCONNECTS_PER_RUN, maxLength: DISCONNECTS_PER_RUN },
        ),
        async (topics, cuts) => {
          const delivered: StreamEvent[] = []
          const resets: unknown[] = []
          const client = createClient({
            url: stack.wsUrl,
            topics,
            WebSocket: TrackedWebSocket,
            reconnect: { initialMs: 5, maxMs: 100 },
          })
          client.on('batch', (events) => void delivered.push(...events))
          client.on('reset', (info) => void resets.push(info))
          const t0 = Date.now()
          let done = 0
          try {
            await new Promise<void>((resolve) => client.once('subscribed', () => resolve()))
            const first = delivered.length
            let previous: WebSocket | undefined
            for (const c of cuts) {
              // Every cut hits a new, open connection, `afterMs` into its life (often mid catch-up).
              const deadline = Date.now() + 5000
              const fresh = () => {
                const ws = sockets.at(-1)
                return ws !== undefined && ws !== previous && ws.readyState === WebSocket.OPEN
                  ? ws
                  : undefined
              }
              while (!fresh() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2))
              await new Promise((r) => setTimeout(r, c.afterMs))
              const ws = fresh()
              if (ws && cut(ws, c.kind)) {
                done++
                previous = ws
              }
            }
            // Let the last reconnect catch up, then stop at a known point.
            const deadline = Date.now() + 10_000
            while (client.connectionState !== 'open' && Date.now() < deadline)
              await new Promise((r) => setTimeout(r, 10))
            await new Promise((r) => setTimeout(r, 500))
            expect(delivered.length).toBeGreaterThan(first)
          } finally {
            await client.close()
          }
          totalCuts += done
          totalEvents += delivered.length
          rate = Math.max(rate, delivered.length / ((Date.now() - t0) / 1000))
          expect(done).toBe(cuts.length)
          expect(client.stats.reconnects).toBeGreaterThanOrEqual(cuts.length)
          expect(resets).toEqual([])
          expect(client.stats.duplicates).toBe(0)

          const ids = delivered.map((e) => e.id)
          for (let i = 1; i < ids.length; i++)
            expect(compare(ids[i]!, ids[i - 1]!), `order at ${i}`).toBeGreaterThan(0)
          // The read-back is complete: nothing in the window was trimmed away.
          const keys = createKeys(stack.prefix, 'tutoring')
          const channels = (await listChannelKeys(stack.redis, keys)).map((k) =>
            k.slice(k.lastIndexOf(':') + 1),
          )
          expect(
            compare(await retentionFloor(stack.redis, keys, channels), ids[0]!),
          ).toBeLessThanOrEqual(0)
          const match = createTopicMatcher(topics, catalog)
          const stored = (
            await storedEvents(stack.redis, stack.prefix, 'tutoring', ids[0]!, ids.at(-1)!)
          ).filter((e) =>
            match({ stream: e.stream, channel: e.channel, anomalyFlag: String(e.anomalyFlag) }),
          )
          // 0 gaps, 0 duplicates: exactly the stored sequence after the first delivered event.
          expect(ids.slice(1)).toEqual(stored.map((e) => e.id))
          expect(delivered.slice(1).map((e) => JSON.stringify(e))).toEqual(
            stored.map((e) => JSON.stringify(e)),
          )
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    )
    console.info(
      `SDK property: ${totalCuts} disconnects, ${totalEvents} events delivered, up to ${Math.round(rate)} events/s per client`,
    )
    expect(totalCuts).toBeGreaterThanOrEqual(100)
  }, 240_000)
})
