/**
 * The gateway's side of the control plane: forwards commands to the generator
 * over the control stream and resolves them when the generator's ack comes back
 * on the `simulation_control` channel (read by this instance's consumer group
 * like every event). A requestId with a stored result gets that result at once.
 * State changes on the channel are offered to listeners (`state_update`).
 */
import fp from 'fastify-plugin'
import { randomUUID } from 'node:crypto'
import {
  ControlStream,
  SpecialChannel,
  type AnyControlAction,
  type ControlResult,
} from '@verisim/schema'
import { readControlResult, sendControl } from '@verisim/bus'

export interface Control {
  /**
   * Sends a command and waits for its result (at most `timeoutMs`, default 10 s).
   * Throws `ControlTimeoutError` when the generator does not answer.
   */
  request(
    action: AnyControlAction,
    payload: Record<string, unknown>,
    requestId?: string,
    timeoutMs?: number,
  ): Promise<ControlResult>
  /** Calls `listener` with every new simulation state; returns an unsubscribe. */
  onState(listener: (state: Record<string, unknown>) => void): () => void
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
    const pending = new Map<string, (r: ControlResult) => void>()
    const stateListeners = new Set<(state: Record<string, unknown>) => void>()

    const unsubscribe = streams.onRelease((events) => {
      for (const e of events) {
        if (e.channel !== SpecialChannel.control) continue
        if (e.stream === ControlStream.ack && pending.size > 0) {
          const { data } = JSON.parse(e.json) as { data: ControlResult }
          pending.get(data.requestId)?.(data)
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
      async request(action, payload, requestId = randomUUID(), timeoutMs = 10_000) {
        const stored = await readControlResult(redis, streams.keys, requestId)
        if (stored) return stored
        const answered = new Promise<ControlResult>((resolve) => pending.set(requestId, resolve))
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), timeoutMs)
        })
        try {
          await sendControl(redis, streams.keys, { requestId, action, payload })
          const result = await Promise.race([answered, timeout])
          if (result) return result
          // The ack may have been released before this instance was reading.
          const late = await readControlResult(redis, streams.keys, requestId)
          if (late) return late
          throw new ControlTimeoutError(action, timeoutMs)
        } finally {
          clearTimeout(timer)
          pending.delete(requestId)
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
