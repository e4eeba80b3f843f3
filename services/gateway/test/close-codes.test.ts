/**
 * Issue 14 finding: a paused slow consumer saw 1006 instead of 4008. A client
 * closed as slow has its queued bytes and the close frame waiting behind a
 * paused socket; ws cut such a connection 30 s after the close, so a client
 * that resumed later saw an abnormal 1006. The gateway now keeps it for
 * VERISIM_CLOSE_GRACE_MS (default 120 s). Against a gateway process of its own.
 */
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import {
  connect,
  spawnGateway,
  startHarness,
  until,
  type GatewayProcess,
  type Harness,
} from './helpers.js'

let h: Harness
let gw: GatewayProcess

beforeAll(async () => {
  h = await startHarness({}, { inProcess: false })
  gw = await spawnGateway(h, { VERISIM_MAX_CLIENT_BUFFER: String(64 * 1024) })
}, 60_000)
afterAll(async () => {
  await gw?.stop()
  await h?.close()
})

const tcp = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket

async function slowClosed(): Promise<number> {
  const t = await (await fetch(`${gw.url}/metrics`)).text()
  return Number(/^verisim_gateway_slow_clients_closed_total (\d+)/m.exec(t)?.[1] ?? 0)
}

describe('close codes', () => {
  it('should close a slow consumer paused longer than 30 s with 4008, not 1006', async () => {
    const c = connect(gw.url)
    await c.opened
    c.ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'], snapshot: 0 }))
    await until(() => c.rx.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed')
    tcp(c.ws).pause()
    let code: number | null = null
    void c.closed.then(([cc]) => (code = cc))
    // Write until the gateway closes it as slow (kernel buffers take a few MB first).
    for (let i = 0; i < 200 && (await slowClosed()) === 0; i++) {
      await h.produce(500, 'normal', 1000)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(await slowClosed()).toBe(1)
    // Longer than ws's default 30 s close timeout, which cut the connection (1006).
    await new Promise((r) => setTimeout(r, 32_000))
    tcp(c.ws).resume()
    await until(() => code !== null, 20_000, 'close')
    expect(code).toBe(4008)
  }, 90_000)
})
