/**
 * The engine's scenario and external-event surface as the generator uses it.
 * Engines of worlds without scenarios lack these methods; `scenarioApi()` then
 * returns null and the control actions answer "not supported".
 */
import type { Engine } from '@verisim/sim'

export interface ScenarioStatusView {
  runId: string
  id: string
  name: string
  status: 'active' | 'settling' | 'settled'
  nextTransition: null | { to: 'settling' | 'settled'; at: number }
  [k: string]: unknown
}

export interface ScenarioApi {
  scenarios(): { id: string; name: string; description: string; duration: string }[]
  activateScenario(id: string): {
    scenario: unknown
    runId: string
    events: unknown[]
    estimatedDuration: string
    activeUntil: number
    settledBy: number
  }
  stopScenario(): { runId: string; settlingUntil: number }
  transitionScenario(runId: string, to: 'settling' | 'settled'): boolean
  scenarioStatus(): ScenarioStatusView | null
  reset(): void
  injectExternalEvent(input: Record<string, unknown>): unknown
  externalEvents(range?: { start?: number; end?: number }): unknown[]
  correlations(q: { stream: string } | { event: string }): unknown
  activeModifiers(): unknown[]
}

export function scenarioApi(engine: Engine): ScenarioApi | null {
  const e = engine as Engine & Partial<ScenarioApi>
  return typeof e.activateScenario === 'function' ? (e as Engine & ScenarioApi) : null
}
