/**
 * Scenario types: what the controller reports (info, activation, status, active
 * modifiers, manual adjustments) and the compiled scenario set of a world.
 */
import type { ModifierTarget, ModifierType } from '@verisim/schema'
import type {
  CompiledCascade,
  CompiledScenario,
  ScenarioInfo,
  ScenarioSet,
  SettleCurve,
} from '../world/types.js'

export type { CompiledCascade, CompiledScenario, ScenarioInfo, ScenarioSet, SettleCurve }
import type { ExternalEvent } from '../external.js'
import type { ModifierConflict } from '../modifiers.js'
export type ScenarioPhase = 'active' | 'settling' | 'settled'

/** A modifier in effect (or about to be), for `SimulationState.activeModifiers`. */
export interface ActiveModifier {
  /** `scenario:<id>`, `external:<eventId>` or `manual:<id>` (adjust_behavior). */
  source: string
  /** As declared: exact name, `domain.*` or `*`. */
  stream: string
  type: ModifierType
  target: ModifierTarget
  /** In effect now: a multiplier v at strength r is 1 + (v − 1)·r, an additive or shift v·r, an override v (blended with baseline by r). */
  value: number
  declaredValue: number
  /** 1 while active, the settlement curve while settling, 0 while pending. */
  strength: number
  status: 'active' | 'settling' | 'pending'
  /** Until it stops shaping events (for an active scenario: until its estimated settlement); null for a manual modifier without a duration. */
  remainingMs: number | null
  /** Scenario modifiers: `direct`, `cascade:<id>` or `backlog`. */
  role?: string
  /** Manual modifiers (adjust_behavior): their id. */
  id?: string
  /** Manual modifiers: when they took effect and when they end (ISO 8601; null: until cleared or reset). */
  startTime?: string
  endsAt?: string | null
  /** Manual modifiers: what they do, e.g. `customer.tutor.search rate ×1.5`. */
  description?: string
}

/** What `Engine.adjustBehavior` takes: the payload of the control action `adjust_behavior`. */
export interface BehaviorAdjustmentInput {
  /** An exact stream name, `<domain>.*` or `*`. */
  stream: string
  type: ModifierType
  /** Defaults to `rate` (`probability` for a probabilityShift). */
  target?: ModifierTarget
  value: number
  /** ISO 8601 (e.g. `PT2H`); absent: until cleared or reset. */
  duration?: string
  /** Defaults to `mod_<n>`; an id in use replaces that modifier. */
  id?: string
}

/** A manual modifier added by `adjustBehavior` (adjust_behavior). */
export interface BehaviorAdjustment {
  id: string
  /** `manual:<id>`: its source in activeModifiers and its cause in events. */
  cause: string
  stream: string
  type: ModifierType
  target: ModifierTarget
  value: number
  /** As given (ISO 8601); null: until cleared or reset. */
  duration: string | null
  /** Simulation time it took effect, ISO 8601 and epoch ms. */
  startTime: string
  startMs: number
  /** Simulation time it ends, ISO 8601 and epoch ms; null without a duration. */
  endsAt: string | null
  endMs: number | null
}

export interface ScenarioActivation {
  scenario: ScenarioInfo
  runId: string
  /** The external events the scenario injected. */
  events: ExternalEvent[]
  /** Active + settlement, ISO 8601. */
  estimatedDuration: string
  activeUntil: number
  settledBy: number
  /** Modifier conflicts at activation (several sources on one parameter). */
  warnings: ModifierConflict[]
  /** The settling run this activation replaced (ended at the activation time). */
  replaced?: { scenarioId: string; runId: string; phase: 'settling' }
}

export interface ScenarioStatus {
  runId: string
  id: string
  name: string
  status: ScenarioPhase
  startedAt: number
  settlingStartedAt?: number
  settledAt?: number
  /** Planned end of the active phase and end of settlement (updated when stopped early). */
  activeUntil: number
  settledBy: number
  nextTransition: null | { to: 'settling' | 'settled'; at: number }
  /** Largest relative distance from baseline of the scenario's own modifiers right now (0 = baseline). */
  deviation: number
  modifiers: ActiveModifier[]
}

/** Settled means every modifier within this relative distance of baseline. */
export const SETTLED_WITHIN = 0.05
