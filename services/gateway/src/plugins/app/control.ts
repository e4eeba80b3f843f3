/**
 * The gateway's side of the control plane: forwards commands to the generator
 * over the control stream and resolves them when the generator's ack comes back
 * on the `simulation_control` channel (read by this instance's consumer group
 * like every event), matched by an opaque per-send `ref`: the published ack
 * never carries the caller's requestId or Idempotency-Key. A key with a stored
 * result gets that result at once when the action and payload are the same,
 * a `VS_GW_REQUEST_CONFLICT` (422) when they are not.
 * State changes on the channel are offered to listeners (`state_update`).
 */
import fp from 'fastify-plugin'
import { createHash, randomUUID } from 'node:crypto'
import {
  conflictResult,
  ControlStream,
  SpecialChannel,
  type AnyControlAction,
  type ControlAck,
  type ControlResult,
} from '@verisim/schema'
import { controlFingerprint, readControlResult, sendControl } from '@verisim/bus'

export interface ControlRequestOptions {
  /**
   * The deduplication key, already scoped to the caller (see `callerKey`): a
   * repeated key with the same action and payload returns the first result and
   * applies nothing; with another action or payload it gets a
   * `VS_GW_REQUEST_CONFLICT` result (422). Absent: applied once, never deduplicated.
   */
  key?: string
  /** How the client named the key, for the conflict message (e.g. `requestId "r1"`). */
  label?: string
  /** Default 10 s. */
  timeoutMs?: number
}

export interface Control {
  /**
   * Sends a command and waits for its result (at most `timeoutMs`, default 10 s).
   * Throws `ControlTimeoutError` when the generator does not answer.
   */
  request(
    action: AnyControlAction,
    payload: Record<string, unknown>,
    opts?: ControlRequestOptions,
  ): Promise<ControlResult>
  /** Calls `listener` with every new simulation state; returns an unsubscribe. */
  onState(listener: (state: Record<string, unknown>) => void): () => void
}

/**
 * A caller's deduplication key: the client's id (WS `requestId`, REST
 * `Idempotency-Key`) within the caller's scope — the token it authenticated
 * with and its address — hashed, so ids of different callers never meet and
 * neither the id nor the token is stored in the clear.
 *
 * @example
 * callerKey('ws', { token: 'secret', address: '10.0.0.7' }, 'r1')
 */
export function callerKey(
  kind: 'ws' | 'rest',
  caller: { token: string | null; address: string },
  id: string,
): string {
  const h = createHash('sha256')
    .update(`${kind}\n${caller.token ?? ''}\n${caller.address}\n${id}`)
    .digest('base64url')
  return `${kind}:${h.slice(0, 32)}`
}

declare module 'fastify' {
  interface FastifyInstance {
    control: Control
  }
}

export class ControlTimeoutError extends Error {
  readonly code = 'VS_GW_CONTROL_TIMEOUT'
  readonly statusCode = 504
  constructor(action: string, ms: number) {
    super(`the generator did not answer "${action}" within ${ms / 1000} s; is it running?`)
    this.name = 'ControlTimeoutError'
  }
}

export default fp(
  async (app) => {
    const { redis, streams } = app
    const pending = new Map<string, (r: ControlAck) => void>()
    const stateListeners = new Set<(state: Record<string, unknown>) => void>()

    const unsubscribe = streams.onRelease((events) => {
      for (const e of events) {
        if (e.channel !== SpecialChannel.control) continue
        if (e.stream === ControlStream.ack && pending.size > 0) {
          const { data } = JSON.parse(e.json) as { data: ControlAck }
          if (typeof data.ref === 'string') pending.get(data.ref)?.(data)
        } else if (e.stream === ControlStream.state && stateListeners.size > 0) {
          const { data } = JSON.parse(e.json) as { data: Record<string, unknown> }
          for (const l of stateListeners) l(data)
        }
      }
    })
    app.addHook('onClose', async () => {
      unsubscribe()
    })

    app.decorate('control', {
      async request(action, payload, opts = {}) {
        const timeoutMs = opts.timeoutMs ?? 10_000
        const ref = randomUUID()
        const requestId = opts.key ?? `once:${ref}`
        const fingerprint = controlFingerprint(action, payload)
        const cmd = { requestId, action, payload, fingerprint, ref }
        // A stored result answers a repeat of the same command, and refuses the
        // same key for another one.
        const storedAnswer = (stored: ControlResult): ControlResult =>
          stored.action !== action ||
          (stored.fingerprint !== undefined && stored.fingerprint !== fingerprint)
            ? conflictResult(cmd, stored, opts.label)
            : stored
        if (opts.key !== undefined) {
          const stored = await readControlResult(redis, streams.keys, requestId)
          if (stored) return storedAnswer(stored)
        }
        const answered = new Promise<ControlAck>((resolve) => pending.set(ref, resolve))
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), timeoutMs)
        })
        try {
          await sendControl(redis, streams.keys, cmd)
          const ack = await Promise.race([answered, timeout])
          if (ack) {
            const result: ControlResult = { ...ack, requestId }
            // The generator's conflict message cannot name the client's id; this one can.
            if (ack.error?.code === 'VS_GW_REQUEST_CONFLICT' && opts.label !== undefined) {
              const stored = await readControlResult(redis, streams.keys, requestId)
              if (stored) return storedAnswer(stored)
            }
            return result
          }
          // The ack may have been released before this instance was reading.
          const late = await readControlResult(redis, streams.keys, requestId)
          if (late) return storedAnswer(late)
          throw new ControlTimeoutError(action, timeoutMs)
        } finally {
          clearTimeout(timer)
          pending.delete(ref)
        }
      },
      onState(listener) {
        stateListeners.add(listener)
        return () => stateListeners.delete(listener)
      },
    } satisfies Control)
  },
  { name: 'control', dependencies: ['redis', 'streams'] },
)
