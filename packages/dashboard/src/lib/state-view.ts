/**
 * What the "Current state" panel shows, computed from the state document with
 * the types of `@verisim/schema` (ScenarioStatus, ActiveModifier): the running
 * scenario's row and the streams being modified with their modifiers. A field the
 * server renames fails to compile here rather than showing "—" on the page.
 */
import type { ActiveModifier, ScenarioStatus } from '@verisim/schema'

/** One row of "Active scenarios". Times are simulation epoch ms. */
export interface ScenarioRow {
  id: string
  runId: string
  name: string
  status: 'active' | 'settling'
  startedAt: number
  /** End of the current phase: the active phase's end, or the settlement's. */
  phaseEndsAt: number
  /** Until `phaseEndsAt` from `now` (0 when due). */
  remainingMs: number
}

/** The running scenario as a row, or none at baseline (settled counts as none). */
export function scenarioRows(
  scenario: ScenarioStatus | null | undefined,
  now: number,
): ScenarioRow[] {
  if (!scenario || scenario.status === 'settled') return []
  const phaseEndsAt = scenario.status === 'active' ? scenario.activeUntil : scenario.settledBy
  return [
    {
      id: scenario.id,
      runId: scenario.runId,
      name: scenario.name,
      status: scenario.status,
      startedAt: scenario.startedAt,
      phaseEndsAt,
      remainingMs: Number.isFinite(now) ? Math.max(0, phaseEndsAt - now) : 0,
    },
  ]
}

/** `×2.5`, `+3`, `−0.2`, `= 0.6`: what a modifier does to its target, at its current value. */
export function modifierEffect(m: Pick<ActiveModifier, 'type' | 'value'>): string {
  const n = (v: number) => String(Math.round(v * 100) / 100)
  switch (m.type) {
    case 'multiplier':
      return `×${n(m.value)}`
    case 'override':
      return `= ${n(m.value)}`
    case 'additive':
    case 'probabilityShift':
      return m.value < 0 ? `−${n(-m.value)}` : `+${n(m.value)}`
  }
}

/** One line of "Modified streams", e.g. `customer.tutor.search rate ×2.5`. */
export interface ModifiedStream {
  stream: string
  text: string
  source: string
  status: ActiveModifier['status']
}

/**
 * The modifiers in effect (pending ones are not), one line each, by stream then
 * source; e.g. `{ text: "system.api.error rate ×5", source: "scenario:payment-outage" }`.
 */
export function modifiedStreams(mods: readonly ActiveModifier[]): ModifiedStream[] {
  return mods
    .filter((m) => m.status !== 'pending')
    .map((m) => ({
      stream: m.stream,
      text: `${m.stream} ${m.target} ${modifierEffect(m)}`,
      source: m.source,
      status: m.status,
    }))
    .sort((a, b) =>
      a.stream === b.stream ? a.source.localeCompare(b.source) : a.stream.localeCompare(b.stream),
    )
}
