/**
 * Errors the client reports: its own codes (`VS_CLIENT_…`) and the gateway's
 * protocol codes (`VS_GW_…`) passed through, each with `canRetry` saying whether
 * the same call may succeed later.
 */
import type { ProtocolErrorCode } from '@verisim/schema'

export const ClientErrorCode = {
  /** The client was closed before the call completed. */
  closed: 'VS_CLIENT_CLOSED',
  /** No `ack` for a control request within its timeout. */
  timeout: 'VS_CLIENT_TIMEOUT',
  /** The gateway answered a control request with `success: false`. */
  controlFailed: 'VS_CLIENT_CONTROL_FAILED',
  /** A frame from the server was not JSON or not an object with a `type`. */
  badFrame: 'VS_CLIENT_BAD_FRAME',
  /** An event without a well-formed `id` was received and dropped. */
  badEvent: 'VS_CLIENT_BAD_EVENT',
  /** The call is not available on this transport (e.g. `control` over SSE). */
  notSupported: 'VS_CLIENT_NOT_SUPPORTED',
  /** The SSE endpoint answered with an HTTP error or something other than an event stream. */
  http: 'VS_CLIENT_HTTP',
  /** An option is missing or invalid (e.g. no WebSocket implementation in Node 20). */
  invalidOption: 'VS_CLIENT_INVALID_OPTION',
  /** `reconnect.maxAttempts` consecutive attempts failed; the client closed itself. */
  reconnectExhausted: 'VS_CLIENT_RECONNECT_EXHAUSTED',
  /** The connection went quiet past `idleTimeoutMs` or did not open within `connectTimeoutMs`. */
  connectionLost: 'VS_CLIENT_CONNECTION_LOST',
  /** A listener threw; the error is in `cause`. The client carried on. */
  listenerFailed: 'VS_CLIENT_LISTENER_FAILED',
} as const
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode]

/** Any code a `VerisimClientError` may carry: the client's, the gateway's, or an HTTP error body's. */
export type VerisimErrorCode = ClientErrorCode | ProtocolErrorCode | (string & {})

export interface VerisimClientErrorOptions {
  canRetry?: boolean
  cause?: unknown
  requestId?: string
  /** HTTP status, for SSE errors answered before streaming. */
  status?: number
  /** The `result` of a failed control `ack`. */
  result?: unknown
}

export class VerisimClientError extends Error {
  readonly code: VerisimErrorCode
  readonly canRetry: boolean
  readonly requestId: string | undefined
  readonly status: number | undefined
  readonly result: unknown

  constructor(code: VerisimErrorCode, message: string, opts: VerisimClientErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'VerisimClientError'
    this.code = code
    this.canRetry = opts.canRetry ?? false
    this.requestId = opts.requestId
    this.status = opts.status
    this.result = opts.result
  }
}
