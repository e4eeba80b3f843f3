/**
 * The generator's side of the control plane: a consumer of the control stream
 * (its own blocking connection) that hands commands to the loop, and the
 * function that applies one command to the clock and the engine. Commands are
 * applied between simulation steps, at the simulation time the engine has
 * reached, so seed + control log reproduce a run.
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { readControl, type ControlEntry, type WorldKeys } from '@verisim/bus'
import {
  AdjustBehaviorAddPayloadSchema,
  AdjustBehaviorClearPayloadSchema,
  compileValidator,
  ControlPayloadSchemas,
  type ControlCommand,
  type ControlResult,
  type Validator,
  type WorldActionResult,
} from '@verisim/schema'
import type { BehaviorAdjustmentInput, Engine, ExternalEventInput } from '@verisim/sim'
import type { SimClock } from './clock.js'

/** Commands older than this when the generator first sees them are refused, not applied. */
export const COMMAND_MAX_AGE_MS = 60_000

export const ControlErrorCode = {
  invalidPayload: 'VS_GEN_INVALID_PAYLOAD',
  unknownAction: 'VS_GEN_UNKNOWN_ACTION',
  notSupported: 'VS_GEN_NOT_SUPPORTED',
  expired: 'VS_GEN_COMMAND_EXPIRED',
  unknownSnapshot: 'VS_GEN_UNKNOWN_SNAPSHOT',
  snapshotLimit: 'VS_GEN_SNAPSHOT_LIMIT',
  snapshotProtected: 'VS_GEN_SNAPSHOT_PROTECTED',
  snapshotOtherRun: 'VS_GEN_SNAPSHOT_OTHER_RUN',
} as const

export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'ControlError'
  }
}

const validators = Object.fromEntries(
  Object.entries(ControlPayloadSchemas).map(([a, s]) => [a, compileValidator(s)]),
) as Record<string, Validator<unknown>>

// adjust_behavior has two forms: report the problems of the one meant (`clear` or
// not) rather than both branches of the union.
{
  const union = validators.adjust_behavior!
  const add = compileValidator(AdjustBehaviorAddPayloadSchema)
  const clear = compileValidator(AdjustBehaviorClearPayloadSchema)
  validators.adjust_behavior = {
    check: union.check,
    problems: (v, limit) =>
      (typeof v === 'object' && v !== null && 'clear' in v ? clear : add).problems(v, limit),
  }
}

/** Validates a command's payload against its action's schema; throws ControlError (400). */
export function validatePayload(cmd: ControlCommand): void {
  const v = validators[cmd.action]
  if (v && !v.check(cmd.payload)) {
    throw new ControlError(
      ControlErrorCode.invalidPayload,
      `invalid payload for "${cmd.action}": ${v.problems(cmd.payload).join('; ')}`,
      400,
    )
  }
}

export interface ControlTarget {
  clock: SimClock
  engine: Engine
  /** Current state snapshot (for results). */
  state(): Record<string, unknown>
}

/** HTTP status of each engine error code. */
const SIM_STATUS: Record<string, number> = {
  VS_SIM_UNKNOWN_SCENARIO: 404,
  VS_SIM_UNKNOWN_EVENT: 404,
  VS_SIM_UNKNOWN_MODIFIER: 404,
  VS_SIM_SCENARIO_ACTIVE: 409,
  VS_SIM_NO_ACTIVE_SCENARIO: 409,
  VS_SIM_BAD_ARGUMENT: 400,
  VS_SIM_UNKNOWN_ACTION: 404,
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Applies one command to the clock or the engine, at the simulation time the
 * engine has reached. Returns the result payload (shaped as the REST answer);
 * throws ControlError for a command that cannot be applied.
 */
export function applyCommand(cmd: ControlCommand, target: ControlTarget, wallNow: number): unknown {
  validatePayload(cmd)
  try {
    return applyValidated(cmd, target, wallNow)
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && code in SIM_STATUS) {
      throw new ControlError(code, (err as Error).message, SIM_STATUS[code] as number)
    }
    throw err
  }
}

function applyValidated(cmd: ControlCommand, target: ControlTarget, wallNow: number): unknown {
  const { engine } = target
  const p = cmd.payload
  switch (cmd.action) {
    case 'set_scenario': {
      const a = engine.activateScenario((p as { scenarioId: string }).scenarioId)
      return {
        success: true,
        scenario: a.scenario,
        runId: a.runId,
        events: a.events,
        estimatedDuration: a.estimatedDuration,
        activeUntil: iso(a.activeUntil),
        settledBy: iso(a.settledBy),
        warnings: a.warnings,
        // The settling scenario this one replaced (it ended at this activation).
        ...(a.replaced === undefined ? {} : { replaced: a.replaced }),
      }
    }
    case 'stop_scenario': {
      const s = engine.stopScenario()
      return { success: true, runId: s.runId, settlingUntil: iso(s.settlingUntil) }
    }
    case 'scenario_transition': {
      const { runId, to } = p as { runId: string; to: 'settling' | 'settled' }
      return {
        success: true,
        applied: engine.transitionScenario(runId, to),
        scenario: engine.scenarioStatus(),
      }
    }
    case 'reset':
      engine.reset()
      return {
        success: true,
        message:
          'scenario, modifiers and injected external events cleared; streams back to baseline',
      }
    case 'inject_event':
      return engine.injectExternalEvent(p as unknown as ExternalEventInput)
    case 'adjust_behavior': {
      if ('clear' in p) {
        const cleared = engine.clearManual(p.clear === true ? undefined : (p.clear as string))
        return { success: true, cleared, state: target.state() }
      }
      const modifier = engine.adjustBehavior(p as unknown as BehaviorAdjustmentInput)
      return { success: true, modifier, state: target.state() }
    }
    case 'list_external_events': {
      const { start, end } = p as { start?: string; end?: string }
      return {
        events: engine.externalEvents({
          ...(start === undefined ? {} : { start: Date.parse(start) }),
          ...(end === undefined ? {} : { end: Date.parse(end) }),
        }),
      }
    }
    case 'get_correlations':
      return engine.correlations(p as { stream: string } | { event: string })
    case 'world_action': {
      const { name, payload = {} } = p as { name: string; payload?: Record<string, unknown> }
      return worldAction(engine, name, payload)
    }
    case 'spawn_users':
      // The contract's name for a persona world's spawn action: that action where
      // the world has one, "not supported" (as before world actions) where not.
      if (engine.describe().actions.some((a) => a.name === 'spawn_users'))
        return worldAction(engine, 'spawn_users', p)
      return applyClock(cmd, target, wallNow)
    default:
      return applyClock(cmd, target, wallNow)
  }
}

/** A world action through the engine: its result, and the world's figures after it. */
function worldAction(engine: Engine, name: string, payload: unknown): WorldActionResult {
  const result = engine.act(name, payload)
  return { success: true, name, result, stats: engine.stats().world as Record<string, unknown> }
}

function applyClock(cmd: ControlCommand, target: ControlTarget, wallNow: number): unknown {
  const { clock } = target
  switch (cmd.action) {
    case 'start':
    case 'resume':
      clock.resume(wallNow)
      return target.state()
    case 'pause':
      // Hold where the simulation stands (what clients have seen), not where the
      // wall clock has already moved it: the paused time never jumps afterwards.
      if (!clock.paused) clock.slip(Math.min(target.engine.now, clock.now(wallNow)), wallNow)
      clock.pause(wallNow)
      return target.state()
    case 'set_speed':
      clock.setSpeed((cmd.payload as { multiplier: number }).multiplier, wallNow)
      return target.state()
    case 'get_state':
      return target.state()
    default:
      throw new ControlError(
        ControlErrorCode.notSupported,
        `action "${cmd.action}" is not supported by this generator; supported: start, pause, resume, set_speed, get_state, set_scenario, stop_scenario, reset, inject_event, adjust_behavior, world_action`,
        501,
      )
  }
}

export function errorResult(cmd: ControlCommand, err: unknown): ControlResult {
  const e =
    err instanceof ControlError
      ? err
      : new ControlError('VS_GEN_INTERNAL', `internal error applying "${cmd.action}"`, 500)
  return {
    requestId: cmd.requestId,
    action: cmd.action,
    success: false,
    error: { code: e.code, message: e.message, status: e.status },
  }
}

/**
 * Reads the control stream after the stored cursor (only new commands on a
 * first start) and hands every command to `onCommand`. `run()` refuses to start
 * twice; `close()` is idempotent.
 */
export class ControlConsumer {
  #closing = false
  #running: Promise<void> | null = null
  readonly #redis: Redis
  readonly #keys: WorldKeys
  readonly #log: Logger
  readonly #onCommand: (entry: ControlEntry) => void

  constructor(opts: {
    redis: Redis
    keys: WorldKeys
    log: Logger
    onCommand: (entry: ControlEntry) => void
  }) {
    this.#redis = opts.redis
    this.#keys = opts.keys
    this.#log = opts.log
    this.#onCommand = opts.onCommand
  }

  async start(): Promise<void> {
    if (this.#running) throw new Error('ControlConsumer already started')
    // A first start takes only commands sent from now on; a restart continues
    // after the last command taken (old ones are then refused as expired).
    const stored = await this.#redis.get(this.#keys.controlCursor)
    const newest = (await this.#redis.xrevrange(this.#keys.control, '+', '-', 'COUNT', 1))[0]?.[0]
    let cursor = stored ?? newest ?? '0-0'
    this.#running = (async () => {
      while (!this.#closing) {
        try {
          const entries = await readControl(this.#redis, this.#keys, cursor, 1000)
          for (const e of entries) {
            cursor = e.entryId
            this.#onCommand(e)
          }
        } catch (err) {
          if (this.#closing) break
          this.#log.warn({ err: (err as Error).message }, 'control stream read failed; retrying')
          await new Promise((r) => setTimeout(r, 500))
        }
      }
    })()
  }

  async close(): Promise<void> {
    this.#closing = true
    this.#redis.disconnect()
    await this.#running
  }
}
