/**
 * An in-memory WebSocket for the client, driven step by step by the test, so
 * races (a frame after the client gave up on the socket, a catch-up split
 * around a live batch) happen exactly where the test puts them.
 */
import type { WebSocketLike } from '../../src/index.js'

export type Frame = { type: string; [k: string]: unknown }

export class MockSocket implements WebSocketLike {
  static instances: MockSocket[] = []
  readyState = 0
  readonly sent: Frame[] = []
  terminated = false
  closedWith: number | null = null
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor(readonly url: string) {
    MockSocket.instances.push(this)
  }

  static reset(): void {
    MockSocket.instances = []
  }

  static get last(): MockSocket {
    const s = MockSocket.instances.at(-1)
    if (!s) throw new Error('no socket yet')
    return s
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    this.sent.push(JSON.parse(data) as Frame)
  }

  /** Client-side close: the close event comes only when the test calls `serverClose`. */
  close(code?: number): void {
    this.closedWith = code ?? 1005
    this.readyState = 2
  }

  /** Client-side drop: deliberately no close event, so late frames can still be pushed. */
  terminate(): void {
    this.terminated = true
    this.readyState = 3
  }

  // ── test side ──
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }

  push(msg: unknown): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) })
  }

  serverClose(code = 1006, reason = ''): void {
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
}
