/**
 * Current state: active scenarios (started, time remaining, status), active
 * external events, the streams being modified, and the recent anomalies.
 */
import { formatDuration, formatShort, readableDuration } from '../lib/format.js'
import type { Modifier } from '../lib/model.js'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'
import { FlagDot, SeverityIcon } from './icons.js'

function remaining(m: Modifier, now: number): string {
  if (typeof m.timeRemaining === 'string') return readableDuration(m.timeRemaining)
  if (typeof m.timeRemaining === 'number') return formatDuration(m.timeRemaining)
  if (m.endsAt) {
    const left = Date.parse(m.endsAt) - now
    if (Number.isFinite(left)) return left > 0 ? formatDuration(left) : 'due'
  }
  return '—'
}

export function StatePanel() {
  const app = useApp()
  const state = useSignal(app.state)
  if (!state) {
    return (
      <section class="panel" aria-labelledby="state-h">
        <h2 id="state-h">Current state</h2>
        <p class="empty">Waiting for the simulation state…</p>
      </section>
    )
  }
  const now = app.now()
  const mods = state.activeModifiers
  const streams = [...new Set(mods.flatMap((m) => m.streams))].sort()
  return (
    <section class="panel" aria-labelledby="state-h" id="state-panel">
      <h2 id="state-h">Current state</h2>
      <h3>Active scenarios</h3>
      {mods.length === 0 ? (
        <p class="empty small">None: the simulation runs at its baseline.</p>
      ) : (
        <table class="compact" id="active-modifiers">
          <thead>
            <tr>
              <th scope="col">Scenario</th>
              <th scope="col">Started</th>
              <th scope="col">Remaining</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {mods.map((m) => (
              <tr key={m.id} data-status={m.status}>
                <td title={m.description}>{m.name}</td>
                <td>{m.startTime ? formatShort(Date.parse(m.startTime)) : '—'}</td>
                <td>{remaining(m, now)}</td>
                <td>
                  <span class={`pill mod-${m.status}`}>{m.status}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Active external events</h3>
      {state.activeEvents.length === 0 ? (
        <p class="empty small">None.</p>
      ) : (
        <ul class="plain">
          {state.activeEvents.map((e) => (
            <li key={e.id}>
              <SeverityIcon severity={e.severity} /> {e.title}{' '}
              <span class="muted small">
                {formatShort(Date.parse(e.timestamp))}
                {e.expectedImpact
                  ? ` · ${e.expectedImpact.direction ?? ''} ${e.expectedImpact.magnitude ?? ''} on ${e.expectedImpact.streams.length} stream(s)`
                  : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      <h3>Modified streams</h3>
      {streams.length === 0 ? (
        <p class="empty small">None.</p>
      ) : (
        <p class="tags">
          {streams.map((s) => (
            <code key={s}>{s}</code>
          ))}
        </p>
      )}
      <h3>Recent anomalies</h3>
      {state.recentAnomalies.length === 0 ? (
        <p class="empty small">No warning or critical events yet.</p>
      ) : (
        <ul class="plain anomalies">
          {state.recentAnomalies.slice(0, 8).map((a, i) => (
            <li key={a.id ?? i}>
              <FlagDot flag={a.anomalyFlag as 'warning' | 'critical'} /> <code>{a.stream}</code>{' '}
              <span class="muted small">
                {a.normalizedValue.toFixed(0)} · {formatShort(Date.parse(a.timestamp))}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
