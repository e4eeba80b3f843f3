/**
 * The tutoring world through the running services: the catalog over REST, and
 * every one of its 50 streams reaching a WebSocket client on `*` within a short
 * accelerated run (warmed-up world, high speed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startStack, type Stack } from './harness.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack({
    env: {
      VERISIM_SPEED: '10000',
      VERISIM_WARMUP_HOURS: '48',
      VERISIM_START: '2026-11-02T08:00:00Z',
    },
  })
}, 120_000)
afterAll(async () => {
  await stack?.stop()
})

describe('tutoring world', () => {
  it('should serve the catalog of 50 streams in six domains', async () => {
    const r = await fetch(`${stack.gatewayUrl}/api/streams`)
    expect(r.status).toBe(200)
    const { streams } = (await r.json()) as {
      streams: { name: string; domain: string; channel: string; cadence: string }[]
    }
    expect(streams).toHaveLength(50)
    expect(new Set(streams.map((s) => s.domain))).toEqual(
      new Set(['customer', 'tutor', 'session', 'support', 'marketing', 'system']),
    )
    for (const s of streams) {
      expect(s.name.startsWith(`${s.domain}.`)).toBe(true)
      expect(['high', 'medium', 'low']).toContain(s.cadence)
    }
  })

  it('should deliver all 50 streams to a client on * within a short accelerated run', async () => {
    const { streams } = (await (await fetch(`${stack.gatewayUrl}/api/streams`)).json()) as {
      streams: { name: string }[]
    }
    const expected = new Set(streams.map((s) => s.name))
    const seen = new Set<string>()
    let events = 0
    const ws = new WebSocket(stack.wsUrl)
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const done = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        // Count without parsing every event: the stream name is a fixed field.
        const text = data.toString()
        for (const m of text.matchAll(/"stream":"([a-z.]+)"/g)) {
          events++
          seen.add(m[1]!)
        }
        if ([...expected].every((s) => seen.has(s))) resolve()
      })
    })
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'] }))
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 150_000))
    const outcome = await Promise.race([done, timeout])
    ws.close()
    const missing = [...expected].filter((s) => !seen.has(s))
    expect(missing, `after ${events} events`).toEqual([])
    expect(outcome).not.toBe('timeout')
  }, 180_000)
})
